"""Where LLM mode wins and loses against the fast answer: each question by what happened to it in LLM mode.

    .venv/bin/qa eval --suite xquad-dev --systems extractive,llm --out /tmp/x   # both parts, ~15 min
    .venv/bin/qa eval --suite pairs --systems extractive,llm --out /tmp/p       # ~7 min
    python eval/outcomes.py /tmp/x/<run>/answers.jsonl [/tmp/p/<run>/answers.jsonl]

What happened: the model's copy used, declined (before the model, by the evidence, or on the model's „0“),
or the fallback's reason (``Answer.fallback_reason``, its quoted words left out). For each, per part and
source: how many questions, how many the LLM answer and the fast answer got right (``fit_trust.right``:
a reference span stated, a pair's facts all stated, an unanswerable question declined) and, for XQuAD's
answerable questions, the mean short-answer token F1. A replay of the answers a run wrote: nothing is asked.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval import metrics as m  # noqa: E402
from eval.fit_trust import load, right  # noqa: E402


def outcome(row: dict) -> str:
    """What happened to the question in LLM mode, in a few words."""
    if row["fallback_reason"]:
        return re.sub(r"„[^“]*“", "…", row["fallback_reason"])
    return "declined" if row["abstained"] else "the model's copy used"


def table(questions: list[dict[str, dict]]) -> list[str]:
    groups: dict[tuple[str, bool], list[dict[str, dict]]] = defaultdict(list)
    for q in questions:
        groups[outcome(q["llm"]), q["llm"]["answerable"]].append(q)
    lines = ["| what happened in LLM mode | answerable | questions | LLM right | fast right | short F1 |",
             "|---|---|---:|---:|---:|---:|"]
    for (what, answerable), qs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        scored = [m.short_f1(llm.get("short", ""), llm["answer"], llm["abstained"], llm["references"])
                  for llm in (q["llm"] for q in qs) if llm["source"] == "xquad" and answerable]
        f1 = f"{sum(scored) / len(scored):.2f}" if scored else "—"
        lines.append(f"| {what} | {'yes' if answerable else 'no'} | {len(qs)} | {sum(right(q['llm']) for q in qs)} "
                     f"| {sum(right(q['extractive']) for q in qs)} | {f1} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path, nargs="+",
                        help="answers.jsonl of qa eval runs with --systems extractive,llm (XQuAD dev, pairs)")
    args = parser.parse_args(argv)
    rows = load(args.answers)
    if not rows:
        parser.error("no question was answered by both extractive and llm in these runs")
    for source in ("xquad", "pairs"):
        for part in ("calibration", "held-out"):
            questions = [q for q in rows.values() if q["llm"]["source"] == source and q["llm"]["part"] == part]
            if questions:
                print(f"\n## {source}, {part} ({len(questions)} questions)\n")
                print("\n".join(table(questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
