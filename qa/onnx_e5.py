"""multilingual-e5-small through ONNX Runtime with int8 weights: exported once from the converted model.

The float32 model that ``qa.e5model`` builds is exported to ONNX (``torch.onnx``, with the attention
written out as plain operators), each layer's attention fused into one operator by ONNX Runtime's
transformer optimizer (its other fusions ran slower here: ``UNFUSED``), its weights are quantized to int8
with ONNX Runtime's dynamic quantization (activations stay float and are quantized per run; each text runs
alone), and the file is kept in the model's cache folder. The steps run offline, once, in about 20 s; a
killed export leaves nothing behind (it is written beside the target and renamed).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qa.e5model import PROMPTS
from qa.errors import ModelError
from qa.pooling import Span, normalize, pool_spans

# Bump when the export or the quantization changes: stale files are rebuilt, and (through
# ``qa.sync.fingerprint``) the articles embedded with them are embedded again.
EXPORT_VERSION = "3"
ONNX_FILE = "model_qint8.onnx"


def ensure_onnx(model_dir: Path) -> Path:
    """The int8 ONNX file of the sentence-transformers folder ``model_dir``, exported on first use."""
    folder = model_dir / "onnx"
    target = folder / ONNX_FILE
    marker = folder / "qa-export.json"
    try:
        if json.loads(marker.read_text()).get("format") == EXPORT_VERSION and target.exists():
            return target
    except (OSError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".onnx-", dir=folder))
    try:
        _export(model_dir, staging / "model.onnx")
        _fuse(model_dir, staging / "model.onnx", staging / "fused.onnx")
        _quantize(staging / "fused.onnx", staging / ONNX_FILE)
        os.replace(staging / ONNX_FILE, target)
        marker.write_text(json.dumps({"format": EXPORT_VERSION, "graph": "fused (onnxruntime.transformers)",
                                      "quantization": "dynamic int8 weights"}))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _export(model_dir: Path, out: Path, attention: str = "eager") -> None:
    """The float32 encoder as ONNX. ``eager`` attention exports as MatMul/Softmax operators that
    ``_fuse`` recognises; ``sdpa`` (transformers' default) exports in a form it does not."""
    import torch
    from transformers import BertModel

    class Encoder(torch.nn.Module):  # the last hidden state only, from two positional inputs
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False,
                                                  attn_implementation=attention).eval()

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(Encoder().eval(), (ids, torch.ones_like(ids)), str(out), input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "last_hidden_state": {0: "batch", 1: "tokens"}})


# ONNX Runtime's fused CPU kernels for these ran slower than the plain operators they replace on 2 cores
# (SkipLayerNormalization took 28 % of a run, more than the int8 MatMuls); the runtime's own fusions of
# them are switched off in ``OnnxEncoder`` too. Their names at the runtime's graph optimizer:
UNFUSED = ("SkipLayerNormFusion", "BiasGeluFusion", "GeluFusion", "EmbedLayerNormFusion")


def _fuse(model_dir: Path, source: Path, out: Path) -> None:
    """ONNX Runtime's BERT attention fusion (one ``Attention`` operator a layer, quantized to ``QAttention``),
    saved as a float32 file; layer norms, GELU and the embeddings stay plain operators (``UNFUSED``).

    ``python bench/onnx_fusion.py`` (2026-12-05, Xeon, 2 cores, 3 rounds in turn): int8 with this fusion
    127 chunks/s, with every fusion 91, without any 83, at the same cosine to float32 (0.99665)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text())
    options = FusionOptions("bert")
    options.enable_skip_layer_norm = options.enable_bias_gelu = options.enable_gelu = False
    options.enable_embed_layer_norm = False  # else the embedding tables are quantized too (minimum cosine 0.9938)
    model = optimize_model(str(source), model_type="bert", num_heads=int(config["num_attention_heads"]),
                           hidden_size=int(config["hidden_size"]), opt_level=0, optimization_options=options)
    model.save_model_to_file(str(out))


def _quantize(source: Path, out: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The fused operators (com.microsoft domain) carry no inferred output types: say they are float.
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": TensorProto.FLOAT})


BATCH_NICENESS = 10   # of the threads that embed many texts at once (an ingest) against a question's own


def yield_cpu() -> None:
    """Lower the calling thread's CPU priority: an ingest's embedding threads yield the cores to the
    thread that embeds a question, whichever process either runs in, so a question asked during an ingest
    is answered at nearly its idle speed. (Linux: a thread's nice value is its own.)"""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BATCH_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the ingest only shares the cores evenly
        pass


def threads() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """Encodes with the int8 ONNX model; the tokenizer is the converted model's own (``tokenizers``)."""

    def __init__(self, model_dir: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = ensure_onnx(model_dir)
        options = ort.SessionOptions()
        # One thread per run, and as many runs at once as there are cores: a text of ~130 tokens is too small
        # to split well between threads (2 cores: 46.7 against 31.5 chunks/s for one run on two threads, with
        # bitwise the same vectors; bench/onnx_threads.py). A single question runs on one thread (5.4 against
        # 3.7 ms).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                                disabled_optimizers=list(UNFUSED))
        except Exception as exc:  # a damaged file: remove it, so the next start exports it again
            path.unlink(missing_ok=True)
            raise ModelError(f"cannot load the ONNX embedding model {path} ({exc}); it was removed and is "
                             "exported again at the next start") from exc
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 512))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self.dimension = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])
        self.workers = threads()

    def _states(self, strings: list[str]):
        """Each string's token states and token offsets, in the given order.

        Each string runs through the model alone: dynamic quantization scales
        a run's activations by the range of the whole input tensor, so in a batch a text's vector would
        depend on the texts beside it (cosine 0.997 against the same text alone) and a resumed ingest
        would not give the vectors of a clean one. Alone, nothing is spent on padding, and 2 cores embedded
        as many chunks a second as in batches of 8 (64 against 62). The runs are spread over ``workers``
        threads (ONNX Runtime releases the GIL while it runs)."""
        encodings = self.tokenizer.encode_batch(strings, add_special_tokens=True)

        def run(encoding) -> np.ndarray:
            ids = np.asarray([encoding.ids], dtype=np.int64)
            (hidden,) = self.session.run(["last_hidden_state"],
                                         {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            return hidden[0]

        if len(encodings) == 1 or self.workers == 1:
            states = [run(e) for e in encodings]
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="qa-embed", initializer=yield_cpu) as pool:
                states = list(pool.map(run, encodings))
        return states, [np.asarray(e.offsets, dtype=np.int64) for e in encodings]

    # ``batch_size``: the interface shared with the torch encoder; unused here (each text runs alone).
    def encode(self, texts: list[str], kind: str, batch_size: int) -> np.ndarray:
        prompt = PROMPTS["query" if kind == "query" else "document"]
        states, _ = self._states([prompt + t for t in texts])
        return normalize(np.stack([s.mean(axis=0) for s in states]))

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]], batch_size: int
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        prompt = PROMPTS["document"]
        states, offsets = self._states([prompt + t for t in texts])
        chunks = normalize(np.stack([s.mean(axis=0) for s in states]))
        return chunks, [pool_spans(s, o, len(prompt), wanted) for s, o, wanted in zip(states, offsets, spans)]
