"""The int8 e5 model with and without ONNX Runtime's BERT fusions, timed in turn.

Builds three from the float32 export: ``shipped`` (``qa.onnx_e5``: eager attention exported, only the
attention fused, ``_quantize``, the runtime's other fusions off), ``every fusion`` (the optimizer's defaults
and the runtime's: skip + layer norm, bias + GELU and embedding + layer norm fused too) and ``unfused``
(as shipped until 2026-12-05: transformers' default attention exported, dynamic int8 straight away). Times each over the seed and XQuAD dev chunks (twice over, as the
shipped encoder runs them: one thread a run, two runs at once), in turn for ``--rounds`` rounds, so that
the machine's drift falls on both. About three minutes on 2 cores, run alone:

    python bench/onnx_fusion.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import qa  # noqa: E402,F401
from onnx_threads import chunk_texts  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.e5model import PROMPTS, ensure_e5_model  # noqa: E402
from qa.onnx_e5 import UNFUSED, _export, _fuse, _quantize  # noqa: E402


def main() -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from tokenizers import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the quantizer's advice on pre-processing
    settings = Settings.from_env()
    model_dir = ensure_e5_model(settings.cache_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    tokenizer.no_padding()
    ids = [np.asarray([e.ids], dtype=np.int64)
           for e in tokenizer.encode_batch([PROMPTS["document"] + t for t in chunk_texts(settings) * 2])]

    def session(path: Path, disabled=()):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=list(disabled))

    def timed(s) -> tuple[np.ndarray, float]:
        def run(x):
            return s.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0].mean(0)

        run(ids[0])
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            out = np.stack(list(pool.map(run, ids)))
        return out / np.linalg.norm(out, axis=1, keepdims=True), len(ids) / (time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        _export(model_dir, folder / "eager.onnx")
        _fuse(model_dir, folder / "eager.onnx", folder / "shipped32.onnx")
        _quantize(folder / "shipped32.onnx", folder / "shipped.onnx")
        config = json.loads((model_dir / "config.json").read_text())
        optimize_model(str(folder / "eager.onnx"), model_type="bert", num_heads=int(config["num_attention_heads"]),
                       hidden_size=int(config["hidden_size"]), opt_level=0).save_model_to_file(str(folder / "all32.onnx"))
        _quantize(folder / "all32.onnx", folder / "all.onnx")
        _export(model_dir, folder / "sdpa.onnx", attention="sdpa")
        quantize_dynamic(str(folder / "sdpa.onnx"), str(folder / "unfused.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True)
        reference, _ = timed(session(folder / "eager.onnx"))
        sessions = {"shipped": session(folder / "shipped.onnx", UNFUSED), "every fusion": session(folder / "all.onnx"),
                    "unfused": session(folder / "unfused.onnx")}
        rates: dict[str, list[float]] = {name: [] for name in sessions}
        cosines = {}
        for _ in range(args.rounds):
            for name, s in sessions.items():
                vectors, rate = timed(s)
                rates[name].append(rate)
                cosines[name] = (vectors * reference).sum(axis=1)
    print(f"{len(ids)} chunks a round, {args.rounds} rounds in turn")
    for name, rs in rates.items():
        print(f"{name}: median {statistics.median(rs):.1f} chunks/s ({', '.join(f'{r:.1f}' for r in rs)}); "
              f"cosine to float32 mean {cosines[name].mean():.5f}, minimum {cosines[name].min():.5f}")


if __name__ == "__main__":
    main()
