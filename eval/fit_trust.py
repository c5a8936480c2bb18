"""Fit when the model's "none answers" may decline (``llm_trust_at``) on the calibration part of XQuAD dev.

    .venv/bin/qa eval --suite xquad-dev --systems extractive,llm --out /tmp/x   # both parts, ~30 min
    python eval/fit_trust.py /tmp/x/<run>/answers.jsonl [more answers.jsonl] [--write]

In LLM mode the model may answer „0“ (no sentence shown answers). Below ``llm_trust_at`` (the calibrated
probability that the articles answer, ``Answer.confidence``) that declines; from it on the fast answer is
given instead. The model's „0“ is worth having where it declines questions the articles do not answer,
and costs where it declines answerable ones. This script replays an eval run for every candidate point
(the fast answer of the same question stands in where the model's „0“ is overruled: it is what LLM mode
gives then), picks on the calibration part the point with the most right outcomes (an answerable question
whose answer states a reference span, an unanswerable one declined), and reports both parts; only the
held-out figures say what it is worth on text nobody fitted it to. ``--write`` stores it in
``qa/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval import metrics as m  # noqa: E402
from qa.calibration import Calibration  # noqa: E402

POINTS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01)


def load(paths: list[Path]) -> dict[str, dict[str, dict]]:
    """question id -> system -> answer row (the last run wins where several hold one)."""
    rows: dict[str, dict[str, dict]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.setdefault(row["id"], {})[row["system"]] = row
    return {i: r for i, r in rows.items() if {"extractive", "llm"} <= set(r)}


def replay(pair: dict[str, dict], trust_at: float) -> dict:
    """The LLM answer this question gets when the model's „0“ declines only under ``trust_at``, from a run at
    any point: a „0“ that run overruled (the fast answer given) is declined below ``trust_at``."""
    llm = pair["llm"]
    if llm["generated"].strip() != "0":
        return llm
    if llm["confidence"] >= trust_at:
        return pair["extractive"]
    return {**llm, "abstained": True, "answer": "", "short": ""}


def right(row: dict, references: list[str]) -> bool:
    """An answerable question answered with a reference span, or an unanswerable one declined."""
    if not references:
        return row["abstained"]
    return not row["abstained"] and any(m.has_fact(s, row["answer"]) for s in references)


def figures(pairs: list[dict[str, dict]], trust_at: float) -> dict[str, float]:
    replayed = [(replay(p, trust_at), p["llm"]["references"]) for p in pairs]
    answerable = [(row, refs) for row, refs in replayed if refs]
    absent = [row for row, refs in replayed if not refs]
    return {
        "contains": m.mean(right(row, refs) for row, refs in answerable),
        "declined_answerable": m.mean(row["abstained"] for row, _ in answerable),
        "declined_absent": m.mean(row["abstained"] for row in absent),
        "right": m.mean(right(row, refs) for row, refs in replayed),
        "n": len(answerable), "n_absent": len(absent),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path, nargs="+", help="answers.jsonl of qa eval --suite xquad-dev runs")
    parser.add_argument("--write", action="store_true", help="store the fitted point in qa/calibration.json")
    args = parser.parse_args(argv)
    rows = load(args.answers)
    parts = {part: [p for p in rows.values() if p["llm"]["part"] == part] for part in ("calibration", "held-out")}
    if not parts["calibration"]:
        parser.error("the answers hold no calibration part: run qa eval --suite xquad-dev --parts calibration")
    fit = {t: figures(parts["calibration"], t)["right"] for t in POINTS}
    best = max(POINTS, key=lambda t: (fit[t], t))  # ties: the higher point, the model's „0“ trusted more often
    lines = [f"# The model's „0“: declines under llm_trust_at ({date.today().isoformat()})", "",
             "| llm_trust_at | part | contains | declined answerable | declined absent | right (both) | n |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for t in POINTS:
        for part, ps in parts.items():
            if ps:
                f = figures(ps, t)
                mark = " **(chosen)**" if t == best else ""
                lines.append(f"| {t}{mark} | {part} | {f['contains']:.3f} | {f['declined_answerable']:.3f} | "
                             f"{f['declined_absent']:.3f} | {f['right']:.3f} | {f['n']}+{f['n_absent']} |")
    print("\n".join(lines))
    if args.write:
        cal = Calibration.load()
        fitted_on = dict(cal.fitted_on)
        fitted_on["llm_trust_at"] = (f"eval/fit_trust.py on {len(parts['calibration'])} XQuAD calibration questions "
                                     f"({date.today().isoformat()})")
        replace(cal, llm_trust_at=best, fitted_on=fitted_on).save()
        print(f"wrote llm_trust_at = {best} to qa/calibration.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
