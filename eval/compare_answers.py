"""Extractive and LLM answers compared on eval/questions.jsonl: correct, abstained, markers valid.

    .venv/bin/python eval/compare_answers.py              # both modes, a table and every answer
    .venv/bin/python eval/compare_answers.py --mode llm   # one mode
    .venv/bin/python eval/compare_answers.py --calibrate  # also what the model wrote, for every question

Correct: an answerable question gets an answer that holds every key fact (numbers compared in any
format: 70,000 = 70.000) and cites a passage holding a supporting quote; an unanswerable one abstains.
Markers valid: every [n] in the text names a citation, and every citation is named by an [n].
Run it alone: the LLM is ten times slower when anything else uses the CPU.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa  # noqa: E402,F401
from eval.dataset import Pair, load_pairs, supports  # noqa: E402
from qa.answer import Answer  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402


def has_fact(fact: str, text: str) -> bool:
    if fact in text:
        return True
    if re.fullmatch(r"[\d.,: ]+", fact):  # 70.000 = 70,000 = 70 000
        digits = re.sub(r"\D", "", fact)
        return digits in {re.sub(r"\D", "", n) for n in re.findall(r"\d+(?:[.,: ]\d+)*", text)}
    return False


def markers_valid(answer: Answer) -> bool:
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    return cited == {c.number for c in answer.citations}


def correct(pair: Pair, answer: Answer) -> bool:
    if not pair.answerable:
        return answer.abstained
    return (not answer.abstained and all(has_fact(f, answer.text) for f in pair.facts)
            and any(supports(pair, c.text) for c in answer.citations))


def run(pipeline: Pipeline, mode: str, pairs: list[Pair], calibrate: bool) -> list[dict]:
    rows = []
    for pair in pairs:
        started = time.perf_counter()
        answer = pipeline.ask(pair.question, mode=mode)
        seconds = time.perf_counter() - started
        rows.append({"pair": pair, "answer": answer, "correct": correct(pair, answer),
                     "valid": markers_valid(answer), "seconds": seconds})
        mark = "ok " if rows[-1]["correct"] else "BAD"
        print(f"{mode:10} {mark} {seconds:5.1f}s [{answer.answerer}] {pair.id}: {answer.text[:150]}", flush=True)
        if mode == "llm" and (calibrate or answer.fallback_reason):
            print(f"{'':14} generated: {answer.generated[:200]!r}")
            if answer.fallback_reason:
                print(f"{'':14} replaced: {answer.fallback_reason[:300]}")
    return rows


def summary(mode: str, rows: list[dict]) -> str:
    answerable = [r for r in rows if r["pair"].answerable]
    unanswerable = [r for r in rows if not r["pair"].answerable]
    times = sorted(r["seconds"] for r in rows)
    used_llm = sum(r["answer"].answerer == "llm" for r in rows)
    return (f"| {mode} | {sum(r['correct'] for r in rows)}/{len(rows)} | "
            f"{sum(r['correct'] for r in answerable)}/{len(answerable)} | "
            f"{sum(r['correct'] for r in unanswerable)}/{len(unanswerable)} | "
            f"{sum(r['valid'] for r in rows)}/{len(rows)} | {used_llm} | "
            f"{times[len(times) // 2]:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["extractive", "llm", "both"], default="both")
    parser.add_argument("--calibrate", action="store_true", help="print what the model wrote for every question")
    args = parser.parse_args()
    modes = ["extractive", "llm"] if args.mode == "both" else [args.mode]
    pairs = load_pairs()
    with tempfile.TemporaryDirectory() as index:
        pipeline = Pipeline(Settings.from_env().with_(index_dir=Path(index), chroma_host=None, chroma_port=None))
        pipeline.ingest(progress=False)
        if "llm" in modes:
            pipeline.warm_up_llm()
        results = {mode: run(pipeline, mode, pairs, args.calibrate) for mode in modes}
    print(f"\n{len(pairs)} questions ({sum(p.answerable for p in pairs)} answerable)\n")
    print("| mode | correct | answerable correct | abstained when unanswerable | markers valid | "
          "answered by the LLM | median time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode, rows in results.items():
        print(summary(mode, rows))


if __name__ == "__main__":
    main()
