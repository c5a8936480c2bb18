"""Embeddings of questions, chunks and the chunks' sentences, with the model's query/passage prompts applied here.

Two backends compute the same vectors:

* ``onnx`` (the default): the e5 model exported once to ONNX and quantized to int8 weights (``qa.onnx_e5``),
  run by ONNX Runtime; about 3× faster on a laptop CPU, cosine ≥ 0.99 to the float32 vectors
  (docs/measurements.md).
* ``torch``: the float32 model through sentence-transformers; any sentence-transformers model name or
  local folder can be configured (``QA_EMBED_MODEL``), and such a model always runs here.

A chunk is read once: its vector is the mean of its token states (what sentence-transformers' mean pooling
gives), and each of its sentences gets the mean of the token states that fall inside that sentence
(``embed_chunks``, ``qa.pooling``). The sentences are not embedded a second time on their own.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.e5model import MODEL_NAME, PROMPTS, ensure_e5_model
from qa.errors import ModelError
from qa.pooling import Span, normalize, pool_spans

log = logging.getLogger(__name__)
BACKENDS = ("onnx", "torch")


class Embedder:
    """Turns questions and passages into normalized vectors. Loads its model lazily, once."""

    def __init__(self, model: str = MODEL_NAME, *, cache_dir: Path, batch_size: int = 32,
                 backend: str = "onnx") -> None:
        if backend not in BACKENDS:
            raise ModelError(f"the embedding backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if backend == "onnx" and model != MODEL_NAME:
            log.info("QA_EMBED_MODEL %s runs on the torch backend (the ONNX export is made for %s only)",
                     model, MODEL_NAME)
            backend = "torch"
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self.backend = backend
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
        if self.backend == "onnx":
            from qa.onnx_e5 import OnnxEncoder

            try:
                return OnnxEncoder(ensure_e5_model(self.cache_dir))
            except OSError as exc:
                raise ModelError(f"cannot prepare the embedding model in {self.cache_dir} ({exc}); "
                                 "set QA_CACHE_DIR to a writable folder") from exc
        return _TorchEncoder(self._torch_model())

    def _torch_model(self):
        from sentence_transformers import SentenceTransformer

        if self.model_name == MODEL_NAME:
            try:
                source = str(ensure_e5_model(self.cache_dir))
            except OSError as exc:
                raise ModelError(f"cannot prepare the embedding model in {self.cache_dir} ({exc}); "
                                 "set QA_CACHE_DIR to a writable folder") from exc
        else:
            source = str(Path(self.model_name).expanduser()) if Path(self.model_name).expanduser().exists() \
                else self.model_name
        try:
            model = SentenceTransformer(source, device="cpu")
        except Exception as exc:  # sentence-transformers raises OSError, ValueError, HFValidationError ...
            raise ModelError(f"cannot load the embedding model {self.model_name!r} offline ({exc}); set "
                             "QA_EMBED_MODEL to a local sentence-transformers folder") from exc
        if "e5" in self.model_name.lower() and not {"query", "document"} <= set(model.prompts):
            model.prompts = {**model.prompts, **PROMPTS}  # e5 models need these prompts to work as intended
        return model

    @property
    def encoder(self):
        self.warm_up()
        return self._model

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encoder.encode(list(texts), "document", self.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        return self.encoder.encode([text], "query", 1)[0]

    def embed_chunks(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each chunk's vector and, for each chunk, one vector per ``(start, end)`` span of its text (its
        sentences), pooled from the chunk's own token states: one pass of the model for both."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        return self.encoder.encode_with_spans(list(texts), [list(s) for s in spans], self.batch_size)


class _TorchEncoder:
    """The float32 model through sentence-transformers."""

    def __init__(self, model) -> None:
        self.model = model
        self.dimension = model.get_embedding_dimension()

    def encode(self, texts: list[str], kind: str, batch_size: int) -> np.ndarray:
        call = self.model.encode_query if kind == "query" else self.model.encode_document
        return call(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False)

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]], batch_size: int
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        prompt = self.model.prompts.get("document", "")
        outputs = self.model.encode_document(texts, batch_size=batch_size, output_value=None,
                                             convert_to_numpy=False, show_progress_bar=False)
        tokenizer = self.model.tokenizer
        limit = self.model.max_seq_length
        chunks, sentences = [], []
        for text, out, wanted in zip(texts, outputs, spans):
            mask = out["attention_mask"].bool()
            states = out["token_embeddings"][mask].float().numpy()
            chunks.append(states.mean(axis=0))
            encoded = tokenizer(prompt + text, return_offsets_mapping=True, truncation=True, max_length=limit)
            offsets = np.asarray(encoded["offset_mapping"], dtype=np.int64)
            if len(offsets) != len(states):
                raise ModelError(f"the tokenizer gave {len(offsets)} tokens where the model read {len(states)}")
            sentences.append(pool_spans(states, offsets, len(prompt), wanted))
        return normalize(np.stack(chunks)), sentences
