"""The int8 e5 model on one thread per run and two runs at once, against one run on two threads.

Embeds the chunks of the seed articles and the XQuAD dev articles (each text alone, as ``qa.onnx_e5``
does), alternating the two ways ``--rounds`` times, and times one short German question 50 times each
way. Prints chunks/s per round and the question's p50. Run it alone (anything else on the CPU skews it):

    python bench/onnx_threads.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (offline environment first)
from qa.articles import read_articles  # noqa: E402
from qa.chunking import chunk_article  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.e5model import PROMPTS, ensure_e5_model  # noqa: E402
from qa.onnx_e5 import ensure_onnx  # noqa: E402


def chunk_texts(settings: Settings) -> list[str]:
    from eval import xquad

    with tempfile.TemporaryDirectory() as folder:
        articles, _ = xquad.load()
        for article in articles:
            (Path(folder) / article.file_name).write_text(article.text(), encoding="utf-8")
        read, _ = read_articles([settings.seeds_dir, Path(folder)])
        return [c.text for a in read for c in chunk_article(a, settings.chunk_chars, settings.chunk_min_chars)]


def main() -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.from_env()
    model_dir = ensure_e5_model(settings.cache_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(512)
    tokenizer.no_padding()
    texts = chunk_texts(settings)
    ids = [np.asarray([e.ids], dtype=np.int64) for e in tokenizer.encode_batch([PROMPTS["document"] + t for t in texts])]
    print(f"{len(ids)} chunks, {np.mean([i.shape[1] for i in ids]):.0f} tokens on average")

    def session(threads: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        return ort.InferenceSession(str(ensure_onnx(model_dir)), options, providers=["CPUExecutionProvider"])

    one, two = session(1), session(2)
    run = lambda s, x: s.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})  # noqa: E731
    speeds: dict[str, list[float]] = {"one thread per run, two at once": [], "one run on two threads": []}
    for _ in range(args.rounds):
        began = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda x: run(one, x), ids))
        speeds["one thread per run, two at once"].append(len(ids) / (time.perf_counter() - began))
        began = time.perf_counter()
        for x in ids:
            run(two, x)
        speeds["one run on two threads"].append(len(ids) / (time.perf_counter() - began))
    for name, values in speeds.items():
        print(f"{name}: median {statistics.median(values):.1f} chunks/s ({', '.join(f'{v:.1f}' for v in values)})")
    question = np.asarray([tokenizer.encode(PROMPTS["query"] + "Wie viele Soldaten hat Russland an der Grenze "
                                            "zusammengezogen?").ids], dtype=np.int64)
    for name, s in (("one thread", one), ("two threads", two)):
        for _ in range(5):
            run(s, question)
        times = []
        for _ in range(50):
            began = time.perf_counter()
            run(s, question)
            times.append(time.perf_counter() - began)
        print(f"question ({question.shape[1]} tokens) on {name}: p50 {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
