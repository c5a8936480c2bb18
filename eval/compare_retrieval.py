"""Dense-only, BM25-only and hybrid retrieval compared on eval/questions.jsonl, plus extractive answers.

    .venv/bin/python eval/compare_retrieval.py            # the table
    .venv/bin/python eval/compare_retrieval.py --calibrate  # also every question's best sentence score

Recall@k: share of answerable questions with a supporting passage among the top k. MRR: mean of 1/rank of
the first supporting passage. Answer: the extractive answer holds every key fact and cites a supporting
passage. Abstain: unanswerable questions the answerer declined.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa  # noqa: E402,F401
from eval.dataset import load_pairs, supports  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402
from qa.questions import language_of  # noqa: E402
from qa.retrieval import METHODS, Retriever  # noqa: E402


def evaluate(pipeline: Pipeline, method: str, calibrate: bool) -> dict:
    retriever = Retriever(pipeline.store, pipeline.embedder, method=method, top_k=pipeline.settings.top_k)
    pairs = load_pairs()
    hits1 = hits3 = rr = correct = abstained_right = abstained_wrong = 0
    for pair in pairs:
        vector = pipeline.embedder.embed_query(pair.question)
        passages = retriever.retrieve(pair.question, vector)
        answer = pipeline.extractive.answer(pair.question, vector, passages, language_of(pair.question))
        if calibrate:
            best = pipeline.extractive.rank_sentences(pair.question, vector, passages)
            print(f"  {method:6} {pair.kind:12} {best[0].score if best else 0:.3f} {pair.question[:60]}")
        if not pair.answerable:
            abstained_right += answer.abstained
            continue
        abstained_wrong += answer.abstained
        ranks = [i for i, p in enumerate(passages) if any(supports(pair, c.text) for c in p.chunks)]
        first = ranks[0] + 1 if ranks else None
        hits1 += first == 1
        hits3 += first is not None and first <= 3
        rr += 1 / first if first else 0
        correct += (not answer.abstained and all(f in answer.text for f in pair.facts)
                    and any(supports(pair, c.text) for c in answer.citations))
    n = sum(p.answerable for p in pairs)
    m = len(pairs) - n
    return {"method": method, "recall@1": hits1 / n, "recall@3": hits3 / n, "mrr": rr / n,
            "answer": correct / n, "false abstain": abstained_wrong / n, "abstain": abstained_right / m,
            "n": n, "m": m}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print each question's best sentence score")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as index:
        pipeline = Pipeline(Settings.from_env().with_(index_dir=Path(index), chroma_host=None, chroma_port=None))
        pipeline.ingest(progress=False)
        rows = [evaluate(pipeline, method, args.calibrate) for method in METHODS]
    print(f"\n{rows[0]['n']} answerable and {rows[0]['m']} unanswerable questions, top_k={pipeline.settings.top_k}\n")
    print("| retrieval | recall@1 | recall@3 | MRR | extractive answer correct | false abstentions | "
          "abstained when unanswerable |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['recall@1']:.2f} | {r['recall@3']:.2f} | {r['mrr']:.3f} | {r['answer']:.2f} | "
              f"{r['false abstain']:.2f} | {r['abstain']:.2f} |")


if __name__ == "__main__":
    main()
