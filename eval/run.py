"""Run the question–answer pairs through the product and the baselines; a table, a report and a plot.

    qa eval                              # every system: extractive, llm, bm25, dense, llamaindex
    qa eval --fast                       # no LLM: extractive, bm25, dense, llamaindex retrieval (CI)
    qa eval --systems extractive,llm --min llm.correct=0.7 --min extractive.hit@3=0.9
    python -m eval …  /  python eval/run.py …   (the same)

Writes ``report.md``, ``metrics.png`` and ``answers.jsonl`` (every answer, for reading) to
``eval/results/<date-time>/`` (``--out``), and exits with 1 when a metric falls below a threshold given
with ``--min system.metric=value`` or in a TOML file (``--thresholds``; ``eval/thresholds.toml`` holds
the ones CI uses). Run it alone: anything else on the CPU slows the LLM tenfold.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from eval.dataset import QUESTIONS, DatasetError, Pair, load_pairs  # noqa: E402
from eval.gate import failures, parse_thresholds  # noqa: E402
from eval.report import kind_table, parts_section, plot, report, table, write_answers  # noqa: E402
from eval.scoring import by_kind, by_part, summarise  # noqa: E402
from eval.systems import FAST, SYSTEMS, run_systems  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.errors import QAError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qa eval", description=__doc__.splitlines()[0])
    parser.add_argument("--systems", help=f"comma-separated, from {', '.join(SYSTEMS)} (default: all)")
    parser.add_argument("--fast", action="store_true", help="no LLM: " + ", ".join(FAST) + " (retrieval only)")
    parser.add_argument("--suite", choices=("pairs", "xquad-dev"), default="pairs",
                        help="pairs: eval/questions.jsonl over seeds/ (default); xquad-dev: German Wikipedia "
                             "questions over an index of their own, with the unanswerable counterpart")
    parser.add_argument("--parts", default="calibration,held-out",
                        help="xquad-dev: which parts to run (calibration, held-out)")
    parser.add_argument("--pairs", type=Path, default=QUESTIONS, help="the pairs (JSONL)")
    parser.add_argument("--distractors", type=Path, action="append", default=[], metavar="FOLDER",
                        help="pairs: article files ingested beside seeds/ (repeatable); the report counts answers "
                             "that cite one of them (`python eval/distractors.py` writes a set)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results",
                        help="results folder; each run writes a dated folder in it")
    parser.add_argument("--min", action="append", default=[], metavar="SYSTEM.METRIC=VALUE",
                        help="fail (exit 1) below this; repeatable")
    parser.add_argument("--thresholds", type=Path, help="TOML file of thresholds: [system] metric = value")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: when stderr is a terminal)")
    args = parser.parse_args(argv)

    systems = list(FAST) if args.fast else list(SYSTEMS)
    if args.systems:
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        unknown = [s for s in systems if s not in SYSTEMS]
        if unknown or not systems:
            parser.error(f"unknown system(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(SYSTEMS)}")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.suite == "xquad-dev":
        from eval import xquad

        parts = [p.strip() for p in args.parts.split(",") if p.strip()]
        if not parts or set(parts) - set(xquad.PARTS):
            parser.error(f"--parts: choose from {', '.join(xquad.PARTS)}")
        answering = [s for s in (systems if args.systems else ["extractive"] if args.fast
                                 else ["extractive", "llm"]) if s in ("extractive", "llm")]
        if not answering:
            parser.error("the xquad-dev suite runs the answering systems: extractive, llm")
        limits = {(system, metric): value for spec in args.min
                  for (system, _, rest) in [spec.partition(".")] for (metric, _, value) in [rest.partition("=")]
                  for value in [float(value)]}
        return xquad.evaluate(answering, parts, args.out, progress=progress, thresholds=limits)
    thresholds = parse_thresholds(args.min, args.thresholds)
    try:
        pairs = load_pairs(args.pairs)
    except DatasetError as error:
        print(f"qa eval: {error}", file=sys.stderr)
        return 2
    missing = [str(folder) for folder in args.distractors if not folder.is_dir()]
    if missing:
        parser.error(f"--distractors: no such folder: {', '.join(missing)} (python eval/distractors.py writes one)")
    return evaluate(pairs, systems, thresholds, args.out, progress=progress, with_llm=not args.fast,
                    distractors=args.distractors)


def evaluate(pairs: list[Pair], systems: list[str], thresholds: dict, out: Path, *, progress: bool = True,
             with_llm: bool = True, settings: Settings | None = None, distractors: Sequence[Path] = ()) -> int:
    """Run ``systems`` over ``pairs``, write the report, plot and answers to a dated folder in ``out``, print
    the tables; 1 when a threshold is not met, else 0."""
    started = datetime.now()
    settings = settings or Settings.from_env()
    rows_by_system, own, notes = run_systems(pairs, systems, settings, progress=progress, with_llm=with_llm,
                                             distractors=distractors)
    summaries = {name: summarise(rows, own) for name, rows in rows_by_system.items()}
    articles = {p.name: p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))}
    parts = by_part(rows_by_system, articles, own)
    notes.append(parts_section(parts, pairs, articles))
    # By kind only for the systems that answer: a retrieval-only system has nothing correct or not.
    kinds = {name: by_kind(rows) for name, rows in rows_by_system.items() if rows and rows[0][1].answer is not None}

    folder = out / f"{started:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(report(summaries, kinds, pairs, rows_by_system, settings, started, notes),
                                      encoding="utf-8")
    plot(summaries, folder / "metrics.png")
    write_answers(rows_by_system, folder / "answers.jsonl")

    print()
    print(table(summaries))
    print("\nheld-out part only:")
    print(table(parts["held-out"]))
    if kinds:
        print()
        print(kind_table(kinds))
    print(f"\nReport, plot and answers: {folder}")
    failed = failures(summaries, thresholds)
    for line in failed:
        print(f"qa eval: FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


def cli() -> None:
    """``main`` as a command: a ``QAError`` (a model missing offline, say) is one line and exit status 2."""
    try:
        sys.exit(main())
    except QAError as error:
        print(f"qa eval: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    cli()
