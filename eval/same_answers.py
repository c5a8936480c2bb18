"""Are two versions' answers the same? Dump every answer of a version, then compare two dumps.

    python eval/same_answers.py dump OUT.jsonl             # fast mode: the pairs and the 612 XQuAD-dev questions
    python eval/same_answers.py dump OUT.jsonl --llm       # and the LLM mode on the pairs (greedy; ~10 min)
    python eval/same_answers.py compare BEFORE.jsonl AFTER.jsonl

A restructuring must leave the answers byte-identical: ``compare`` lists every question whose ``text``,
``short``, ``abstained`` or citations (article, passage offsets, quoted sentence) differ, and exits 1
when one does. The other fields (``answerer``, ``question``, ``confidence``, ``fallback_reason``) are
compared too and listed apart, as is ``generated`` (what the model wrote). It asks through ``Pipeline.ask``, which every version has, so a dump of
the code before a change and one after can be made with the same script.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)

SAME = ("text", "short", "abstained", "citations")          # must be byte-identical
ALSO = ("answerer", "question", "confidence", "fallback_reason", "generated")


def record(suite: str, qid: str, mode: str, answer) -> dict:
    return {"suite": suite, "id": qid, "mode": mode, "text": answer.text, "short": answer.short,
            "abstained": answer.abstained,
            "citations": [[c.number, c.article, c.start, c.end, c.quote] for c in answer.citations],
            "answerer": answer.answerer, "question": answer.question, "confidence": answer.confidence,
            "fallback_reason": answer.fallback_reason, "generated": answer.generated}


def dump(out: Path, llm: bool) -> None:
    from eval import xquad
    from eval.dataset import load_pairs
    from qa.config import Settings
    from qa.pipeline import Pipeline

    settings = Settings.from_env()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        pipeline = Pipeline(settings.with_(index_dir=work / "pairs-index", chroma_host=None, chroma_port=None))
        pipeline.ingest(progress=False)
        pairs = load_pairs()
        modes = ["extractive", "llm"] if llm else ["extractive"]
        for mode in modes:
            if mode == "llm":
                pipeline.warm_up_llm()
            for pair in pairs:
                answer = pipeline.ask(pair.question, mode=mode, history=list(pair.history))
                rows.append(record("pairs", pair.id, mode, answer))
            print(f"pairs, {mode}: {len(pairs)} answers", file=sys.stderr)
        articles, questions = xquad.load()
        for part in xquad.PARTS:
            xpipeline = xquad.build_pipeline(articles, part, settings, work, embedder=pipeline.embedder)
            asked = [q for q in questions if q.part == part]
            for q in asked:
                rows.append(record(f"xquad-{part}", q.id, "extractive", xpipeline.ask(q.question, mode="extractive")))
            print(f"xquad {part}, extractive: {len(asked)} answers", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} answers in {out}", file=sys.stderr)


def compare(before: Path, after: Path) -> int:
    def load(path: Path) -> dict:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return {(r["suite"], r["id"], r["mode"]): r for r in rows}

    a, b = load(before), load(after)
    differ, other = [], []
    for key in sorted(set(a) | set(b)):
        if key not in a or key not in b:
            differ.append(f"{'/'.join(key)}: only in {before if key in a else after}")
            continue
        for name in SAME:
            if a[key][name] != b[key][name]:
                differ.append(f"{'/'.join(key)} {name}:\n    before {a[key][name]!r}\n    after  {b[key][name]!r}")
        for name in ALSO:
            if a[key].get(name) != b[key].get(name):
                other.append(f"{'/'.join(key)} {name}: {a[key].get(name)!r} -> {b[key].get(name)!r}")
    counts: dict[str, int] = {}
    for suite, _, mode in set(a) & set(b):
        counts[f"{suite} {mode}"] = counts.get(f"{suite} {mode}", 0) + 1
    print("compared: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"different text/short/abstained/citations: {len(differ)}")
    for line in differ:
        print("  " + line)
    print(f"different other fields: {len(other)}")
    for line in other:
        print("  " + line)
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="same_answers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="answer every question and write the answers (JSONL)")
    d.add_argument("out", type=Path)
    d.add_argument("--llm", action="store_true", help="also the LLM mode on the pairs")
    c = sub.add_parser("compare", help="list the answers that differ between two dumps")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.out, args.llm)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
