"""How near float32 the int8 e5 model comes when some MatMuls stay float32.

Exports the float32 model to ONNX (``qa.onnx_e5._export``), quantizes it as shipped and with the
FFN-output MatMul of layer 4 or of every layer left in float32, and prints each one's cosine to the float32
ONNX model over the chunks of the seeds and the XQuAD dev articles (each text alone, mean pooling). About
three minutes on 2 cores; writes only under a temporary folder:

    python bench/int8_variants.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import qa  # noqa: E402,F401
from onnx_threads import chunk_texts  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.e5model import PROMPTS, ensure_e5_model  # noqa: E402
from qa.onnx_e5 import _export  # noqa: E402


def main() -> None:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    settings = Settings.from_env()
    model_dir = ensure_e5_model(settings.cache_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    tokenizer.no_padding()
    ids = [np.asarray([e.ids], dtype=np.int64)
           for e in tokenizer.encode_batch([PROMPTS["document"] + t for t in chunk_texts(settings)])]

    def vectors(path: Path) -> np.ndarray:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        out = np.stack([s.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})[0][0].mean(0) for x in ids])
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    with tempfile.TemporaryDirectory() as work:
        fp32 = Path(work) / "fp32.onnx"
        _export(model_dir, fp32)
        reference = vectors(fp32)
        ffn_out = [n.name for n in onnx.load(str(fp32)).graph.node
                   if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name]
        variants = {"shipped (every weight int8)": [], "layer 4's FFN output float32": [n for n in ffn_out if "layer.4/" in n],
                    "every FFN output float32": ffn_out}
        print(f"{len(ids)} chunks")
        for name, excluded in variants.items():
            path = Path(work) / "variant.onnx"
            quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=excluded)
            cosine = (vectors(path) * reference).sum(axis=1)
            print(f"{name}: cosine to float32 mean {cosine.mean():.4f}, minimum {cosine.min():.4f}")


if __name__ == "__main__":
    main()
