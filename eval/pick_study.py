"""What the model's choice among the candidate sentences is worth, alone and weighed with the sentence score.

    python eval/pick_study.py --out /tmp/picks.jsonl      # ask the model, ~15 min on 2 cores (run it alone)
    python eval/pick_study.py --read /tmp/picks.jsonl     # only the analysis, from a file written before

For every question of the dev data (XQuAD and the pairs, both parts, each part over its own index as in
``eval/calibrate.py``) the best ``llm_candidates`` sentences are shown to the model exactly as LLM mode shows
them, and the model's log-probability of each start ("0": none answers, "1: " …) is read at the first
token (one prompt evaluation, no generation). The analysis then compares, on each part:

- the fast mode's choice (the best-scored sentence),
- the model's own choice (its most probable start),
- the two weighed: start i gets log p(i) + ``pick_weight`` × (its sentence score − the best score), "0"
  gets log p(0) + ``none_bias``.

The weights are chosen on the calibration part only; the held-out figures are the ones to read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from eval import xquad  # noqa: E402
from eval.calibrate import cases_for  # noqa: E402
from eval.dataset import load_pairs, part_of  # noqa: E402
from qa.calibration import Calibration  # noqa: E402
from qa.config import Settings  # noqa: E402

PICK_WEIGHTS = (0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0)
NONE_BIASES = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5)
MORE_FALSE_DECLINES = 0.01   # answerable questions the model's "none" may decline beyond the fast mode's


def collect(out: Path) -> None:
    from qa.llm_answer import fixed_prefix, pick_messages, pick_starts

    settings = Settings.from_env()
    cal = Calibration.load()
    articles, questions = xquad.load()
    seed_texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))}
    pairs = [p for p in load_pairs() if not p.history]
    k = cal.llm_candidates
    with tempfile.TemporaryDirectory() as work, out.open("w", encoding="utf-8") as sink:
        embedder = None
        for part in xquad.PARTS:
            pipeline = xquad.build_pipeline(articles, part, settings, Path(work), embedder, calibration=cal)
            embedder = pipeline.embedder
            llm = pipeline.llm
            llm.warm_up(fixed_prefix())
            items = [("xquad", part, q.question, q.answers, q.answerable) for q in questions if q.part == part]
            items += [("pairs", part, p.question, p.facts, p.answerable) for p in pairs
                      if part_of(p, seed_texts) == part]
            started = time.perf_counter()
            for n, case in enumerate(cases_for(pipeline, items), 1):
                ranked = case.candidates
                evidence = pipeline.ranker.evidence(case.question, ranked, case.passages, case.language)
                row = {"part": part, "source": case.source, "question": case.question,
                       "answerable": case.answerable, "confidence": cal.confidence(evidence),
                       "scores": [c.score for c in ranked[:k]], "right": [bool(r) for r in case.right[:k]],
                       "right_anywhere": bool(case.right.any()), "logp": {}}
                if ranked:
                    seen: dict[str, float] = {}
                    shown = [c.text for c in ranked[:k]]
                    for _ in llm.stream(pick_messages(case.question, shown), max_tokens=1,
                                        starts=pick_starts(len(shown)), seen=seen):
                        pass
                    row["logp"] = seen
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()
                if n % 25 == 0:
                    print(f"{part}: {n} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)


def option_logps(row: dict) -> np.ndarray:
    """log p of "0", "1: ", … "k: " (−inf where the model was not asked)."""
    k = len(row["scores"])
    return np.array([row["logp"].get(s, -np.inf) for s in ["0", *(f"{i}: " for i in range(1, k + 1))]])


def choose(row: dict, weight: float | None, none_bias: float, answer_at: float) -> int:
    """0: declined; i: the i-th sentence. ``weight`` None: the fast mode (best sentence, declined under
    ``answer_at``)."""
    if not row["scores"] or row["confidence"] < answer_at:
        return 0
    if weight is None:
        return 1
    z = option_logps(row)
    if not np.isfinite(z).any():
        return 1
    scores = np.array(row["scores"])
    z[1:] += weight * (scores - scores.max())
    z[0] += none_bias
    return int(np.argmax(z))


def figures(rows: list[dict], weight: float | None, none_bias: float, answer_at: float) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    absent = [r for r in rows if not r["answerable"]]
    picks = [choose(r, weight, none_bias, answer_at) for r in answerable]
    return {
        "right": float(np.mean([p > 0 and r["right"][p - 1] for p, r in zip(picks, answerable)])),
        "declined_answerable": float(np.mean([p == 0 for p in picks])),
        "declined_absent": float(np.mean([choose(r, weight, none_bias, answer_at) == 0 for r in absent]))
        if absent else float("nan"),
        "n": len(answerable), "n_absent": len(absent),
    }


def analyse(rows: list[dict], answer_at: float) -> str:
    by = {(part, source): [r for r in rows if r["part"] == part and r["source"] == source]
          for part in xquad.PARTS for source in ("xquad", "pairs")}
    fit = by[("calibration", "xquad")] + by[("calibration", "pairs")]

    fast = figures(fit, None, 0.0, answer_at)

    def objective(w, b):
        # The right sentence chosen and the absent questions declined, weighed alike; the model's "none"
        # may decline at most MORE_FALSE_DECLINES more answerable questions than the fast mode does.
        f = figures(fit, w, b, answer_at)
        if f["declined_answerable"] > fast["declined_answerable"] + MORE_FALSE_DECLINES:
            return float("-inf")
        return f["right"] + f["declined_absent"]

    grid = {(w, b): objective(w, b) for w, b in itertools.product(PICK_WEIGHTS, NONE_BIASES)}
    best = max(grid, key=grid.get)  # ties: the first in grid order, the smaller weight and bias
    lines = [f"answer at confidence ≥ {answer_at:.4f} (the fast mode's gate, before the model)", "",
             "| choice | part | source | right sentence | declined answerable | declined absent | n |",
             "|---|---|---|---:|---:|---:|---:|"]
    choices = [("fast: best-scored sentence", None, 0.0), ("model alone", 0.0, 0.0),
               (f"weighed (fitted: weight {best[0]}, none bias {best[1]})", *best)]
    for label, w, b in choices:
        for (part, source), rs in by.items():
            if not rs:
                continue
            f = figures(rs, w, b, answer_at)
            lines.append(f"| {label} | {part} | {source} | {f['right']:.3f} | {f['declined_answerable']:.3f} | "
                         f"{f['declined_absent']:.3f} | {f['n']}+{f['n_absent']} |")
    lines += ["", "Calibration objective by weight (rows) and none bias (columns):", "",
              "| weight | " + " | ".join(f"{b:+.0f}" for b in NONE_BIASES) + " |",
              "|---:|" + "---:|" * len(NONE_BIASES)]
    for w in PICK_WEIGHTS:
        lines.append(f"| {w} | " + " | ".join(f"{grid[(w, b)]:.3f}" for b in NONE_BIASES) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="ask the model and write one JSON line a question here")
    parser.add_argument("--read", type=Path, help="analyse a file written with --out")
    args = parser.parse_args(argv)
    if not (args.out or args.read):
        parser.error("give --out (ask the model) or --read (analyse)")
    if args.out:
        collect(args.out)
    rows = [json.loads(line) for line in (args.read or args.out).read_text(encoding="utf-8").splitlines()]
    print(analyse(rows, Calibration.load().answer_at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
