"""Fit when the model's "none answers" may decline (``llm_trust_at``) on the calibration parts of XQuAD dev
and of the news pairs.

    .venv/bin/qa eval --suite xquad-dev --systems extractive,llm --out /tmp/x   # both parts, ~15 min
    .venv/bin/qa eval --suite pairs --systems extractive,llm --out /tmp/p       # ~7 min
    python eval/fit_trust.py /tmp/x/<run>/answers.jsonl /tmp/p/<run>/answers.jsonl [--write]

In LLM mode the model may answer „0“ (no sentence shown answers). Below ``llm_trust_at`` (the calibrated
probability that the articles answer, ``Answer.confidence``) that declines; from it on the model is asked
again with the fast answer's sentence alone, and the fast answer is given where that yields no usable copy.
The model's „0“ is worth having where it declines questions the articles do not answer, and costs where it
declines answerable ones.

This script replays an eval run for every candidate point (where a run declined on the model's „0“ and the
replay overrules it, the fast answer of the same question stands in: the model's second copy would stand in
its sentence), picks on the calibration part the point with the most right outcomes (an answerable question
whose answer states a reference span, or, for a pair, all its facts; an unanswerable one declined), and
reports both parts; only the held-out figures say what it is worth on text nobody fitted it to. The share
right is averaged over the two sources, as ``eval/calibrate.py`` does: 330 Wikipedia questions must not
outvote 29 news pairs, since news is what the product is for. ``--write`` stores it in ``qa/calibration.json``.
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


def load(paths: list[Path]) -> dict[tuple[str, str], dict[str, dict]]:
    """(source, question id) -> system -> answer row (the last run wins where several hold one). Each row
    gets ``source`` (xquad or pairs), ``part`` and ``answerable``."""
    from eval.dataset import load_pairs, part_of

    articles = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))}
    pairs = {p.id: p for p in load_pairs()}
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "references" in row:
                row.update(source="xquad", answerable=bool(row["references"]))
            elif row["id"] in pairs:
                pair = pairs[row["id"]]
                row.update(source="pairs", part=part_of(pair, articles), answerable=pair.kind != "unanswerable")
            else:
                continue  # a pair since removed from eval/questions.jsonl
            if "generated" not in row:
                raise SystemExit(f"{path} holds no generated text: it comes from a run before 2026-12-05; run "
                                 "qa eval again")
            rows.setdefault((row["source"], row["id"]), {})[row["system"]] = row
    return {k: r for k, r in rows.items() if {"extractive", "llm"} <= set(r)}


def said_none(row: dict) -> bool:
    """The model's first line was „0“ (a second line is its answer when asked again). A question asked in
    parts (their lines joined by " / ") is left as it was answered."""
    generated = row.get("generated") or ""
    return " / " not in generated and generated.split("\n")[0].strip() == "0"


def replay(pair: dict[str, dict], trust_at: float) -> dict:
    """The LLM answer this question gets when the model's „0“ declines only under ``trust_at``, from a run at
    any point: a „0“ that run overruled (the model asked again, or the fast answer given) is declined below
    ``trust_at``; one it declined is overruled from ``trust_at`` on, by the fast answer (the run did not ask
    the model again: its copy is not known, and it would stand in the fast answer's sentence)."""
    llm = pair["llm"]
    if not said_none(llm):
        return llm
    if llm["confidence"] >= trust_at:
        return llm if not llm["abstained"] else pair["extractive"]
    return {**llm, "abstained": True, "answer": "", "short": "", "scores": {}}


def right(row: dict) -> bool:
    """An answerable question answered with a reference span (a pair: with all its facts), or an unanswerable
    one declined."""
    if not row["answerable"]:
        return row["abstained"]
    if row["abstained"]:
        return False
    if row["source"] == "pairs":
        return row["scores"].get("correct") == 1.0
    return any(m.has_fact(s, row["answer"]) for s in row["references"])


def figures(pairs: list[dict[str, dict]], trust_at: float) -> dict[str, float]:
    replayed = [replay(p, trust_at) for p in pairs]   # every row carries its source and answerable (``load``)
    answerable = [row for row in replayed if row["answerable"]]
    absent = [row for row in replayed if not row["answerable"]]
    return {
        "contains": m.mean(right(row) for row in answerable),
        "declined_answerable": m.mean(row["abstained"] for row in answerable),
        "declined_absent": m.mean(row["abstained"] for row in absent),
        "right": m.mean(right(row) for row in replayed),
        "n": len(answerable), "n_absent": len(absent),
    }


def balanced_right(pairs: list[dict[str, dict]], trust_at: float) -> float:
    """The share right, averaged over the sources present (XQuAD, pairs)."""
    sources = sorted({p["llm"]["source"] for p in pairs})
    return m.mean(figures([p for p in pairs if p["llm"]["source"] == s], trust_at)["right"] for s in sources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path, nargs="+",
                        help="answers.jsonl of qa eval --suite xquad-dev and --suite pairs runs (extractive,llm)")
    parser.add_argument("--write", action="store_true", help="store the fitted point in qa/calibration.json")
    args = parser.parse_args(argv)
    rows = load(args.answers)
    parts = {part: [p for p in rows.values() if p["llm"]["part"] == part] for part in ("calibration", "held-out")}
    if not parts["calibration"]:
        parser.error("the answers hold no calibration part: run qa eval --suite xquad-dev --parts calibration")
    fit = {t: round(balanced_right(parts["calibration"], t), 4) for t in POINTS}
    best = max(POINTS, key=lambda t: (fit[t], t))  # ties: the higher point, the model's „0“ trusted more often
    lines = [f"# The model's „0“: declines under llm_trust_at ({date.today().isoformat()})", "",
             "Right: an answerable question answered with a reference span (a pair: all its facts), an "
             "unanswerable one declined. Chosen by the calibration part's share right, averaged over the sources.",
             "", "| llm_trust_at | part | source | contains | declined answerable | declined absent | right | n |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for t in POINTS:
        for part, ps in parts.items():
            for source in sorted({p["llm"]["source"] for p in ps}):
                f = figures([p for p in ps if p["llm"]["source"] == source], t)
                mark = " **(chosen)**" if t == best else ""
                lines.append(f"| {t}{mark} | {part} | {source} | {f['contains']:.3f} | {f['declined_answerable']:.3f} "
                             f"| {f['declined_absent']:.3f} | {f['right']:.3f} | {f['n']}+{f['n_absent']} |")
        lines.append(f"| {t} | calibration | both, averaged | | | | {fit[t]:.3f} | |")
    print("\n".join(lines))
    if args.write:
        cal = Calibration.load()
        fitted_on = dict(cal.fitted_on)
        counts = {source: sum(p["llm"]["source"] == source for p in parts["calibration"])
                  for source in ("xquad", "pairs")}
        fitted_on["llm_trust_at"] = (f"eval/fit_trust.py on the calibration part: {counts['xquad']} XQuAD questions "
                                     f"and {counts['pairs']} pairs ({date.today().isoformat()})")
        replace(cal, llm_trust_at=best, fitted_on=fitted_on).save()
        print(f"wrote llm_trust_at = {best} to qa/calibration.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
