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
import json
import math
import re
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from eval import metrics as m  # noqa: E402
from eval.baselines import LlamaIndexStock, Result, local_llamacpp, stock_generate_kwargs  # noqa: E402
from eval.checks import language_matches, unsupported  # noqa: E402
from eval.dataset import KINDS, QUESTIONS, DatasetError, Pair, load_pairs, part_of, unquoted  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.questions import language_of  # noqa: E402

SYSTEMS = {
    "extractive": "this pipeline, extractive answers (hybrid retrieval)",
    "llm": "this pipeline, LLM answers checked against their citations",
    "bm25": "BM25 retrieval only, same extractive answerer",
    "dense": "dense (e5) retrieval only, same extractive answerer",
    "llamaindex": "llama-index stock: VectorStoreIndex + CitationQueryEngine, same e5 and LLM",
}
FAST = ("extractive", "bm25", "dense", "llamaindex")  # llamaindex without an LLM: retrieval only
METRICS = {  # name: (what it measures, higher is better)
    "hit@1": "a supporting passage ranked first",
    "hit@3": "a supporting passage in the top 3",
    "hit@5": "a supporting passage in the top 5",
    "mrr": "mean reciprocal rank of the first supporting passage",
    "correct": "answerable: every key fact stated; unanswerable: declined",
    "facts": "share of key facts stated (answerable)",
    "f1": "token F1 with the reference answer (answerable)",
    "cite_p": "citation precision: cited passages that support the answer",
    "cite_r": "citation recall: stated facts that a cited passage holds",
    "markers": "every [n] names a cited passage and every citation is named (answers that are not declined)",
    "abstain": "declined when the articles do not answer",
    "false_abstain": "declined although the articles answer (lower is better)",
}
K = 5


def run_system(name: str, pairs: list[Pair], pipeline, stock: LlamaIndexStock | None,
               progress: bool) -> list[tuple[Pair, Result]]:
    from tqdm import tqdm

    rows = []
    bar = tqdm(pairs, desc=f"{name:>10}", unit="q", disable=not progress, file=sys.stderr, leave=True)
    right = 0
    for pair in bar:
        result = ask(name, pair, pipeline, stock)
        rows.append((pair, result))
        right += score(pair, result).get("correct", 0.0) or 0.0
        bar.set_postfix_str(f"correct {right:.0f}/{len(rows)}")
    return rows


def ask(name: str, pair: Pair, pipeline, stock: LlamaIndexStock | None) -> Result:
    if name in ("extractive", "llm"):
        started = time.perf_counter()
        answer = pipeline.ask(pair.question, mode=name, history=list(pair.history))
        seconds = time.perf_counter() - started
        _, passages = pipeline.retrieve(answer.question)  # what the answer was drawn from
        return Result(retrieved=[passage_text(p) for p in passages], answer=answer.text,
                      cited=[c.text for c in answer.citations], abstained=answer.abstained,
                      answerer=answer.answerer, question=answer.question, seconds=seconds,
                      markers_valid=markers_valid(answer), unsupported=tuple(unsupported(answer, pair.question)),
                      language_ok=language_matches(answer, pair.question), short=answer.short,
                      cited_articles=tuple(c.article for c in answer.citations), generated=answer.generated,
                      fallback_reason=answer.fallback_reason, confidence=answer.confidence)
    if name in ("bm25", "dense"):
        # A retriever a user would build has no follow-up handling: the question goes in as asked.
        started = time.perf_counter()
        vector = pipeline.embedder.embed_query(pair.question)
        passages = baseline_retriever(pipeline, name).retrieve(pair.question, vector)
        answer = pipeline.extractive.answer(pair.question, vector, passages, language_of(pair.question))
        return Result(retrieved=[passage_text(p) for p in passages], answer=answer.text,
                      cited=[c.text for c in answer.citations], abstained=answer.abstained, answerer=name,
                      question=pair.question, seconds=time.perf_counter() - started,
                      markers_valid=markers_valid(answer))
    if name == "llamaindex":
        return stock.run(pair.question)
    raise ValueError(f"unknown system {name!r}")


def markers_valid(answer) -> bool:
    """Every [n] in the text names one of the answer's citations, and every citation is named."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.number for c in answer.citations}


def passage_text(passage) -> str:
    """A retrieved passage with the near-duplicate chunks folded into it (other articles' copies)."""
    return "\n".join(chunk.text for chunk in passage.chunks)


_retrievers: dict = {}


def baseline_retriever(pipeline, method: str):
    from qa.retrieval import Retriever

    if method not in _retrievers:
        _retrievers[method] = Retriever(pipeline.store, pipeline.embedder, method=method,
                                        top_k=max(K, pipeline.settings.top_k))
    return _retrievers[method]


def score(pair: Pair, result: Result) -> dict[str, float | None]:
    """Every metric of one answer; None where a metric does not apply to it."""
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    if pair.answerable:
        rank = m.first_hit(result.retrieved[:K], pair.passages)
        out.update({"hit@1": m.hit_at(rank, 1), "hit@3": m.hit_at(rank, 3), "hit@5": m.hit_at(rank, 5),
                    "mrr": m.reciprocal_rank(rank)})
    if result.answer is None:
        return out
    if pair.answerable:
        text = "" if result.abstained else result.answer
        out["facts"] = m.fact_recall(pair.facts, text)
        out["correct"] = float(out["facts"] == 1.0)
        out["f1"] = m.token_f1(text, pair.answer)
        out["false_abstain"] = float(result.abstained)
        if not result.abstained:
            out["cite_p"] = m.citation_precision(result.cited, pair.passages, pair.facts)
            out["cite_r"] = m.citation_recall(text, result.cited, pair.facts)
    else:
        out["abstain"] = out["correct"] = float(result.abstained)
    if not result.abstained and result.markers_valid is not None:
        out["markers"] = float(result.markers_valid and bool(result.cited))
    return out


def summarise(rows: list[tuple[Pair, Result]], own: set[str] | None = None) -> dict[str, float]:
    """Every metric over ``rows``; with ``own`` (the articles the pairs are about, when other articles share
    the index) also the number of answers that cite an article outside it."""
    scores = [score(p, r) for p, r in rows]
    summary = {name: m.mean(s[name] for s in scores) for name in METRICS}
    seconds = [r.seconds for _, r in rows]
    checked = [r for _, r in rows if r.language_ok is not None]
    summary.update({"unsupported": float(sum(bool(r.unsupported) for r in checked)) if checked else math.nan,
                    "wrong_language": float(sum(not r.language_ok for r in checked)) if checked else math.nan,
                    "unrelated": float(sum(bool(set(r.cited_articles) - own) for r in checked
                                           if not r.abstained)) if checked and own is not None else math.nan})
    summary.update({"p50_s": m.percentile(seconds, .5), "p95_s": m.percentile(seconds, .95),
                    "top3_chars": m.mean(sum(map(len, r.retrieved[:3])) for _, r in rows)})
    return summary


def by_kind(rows: list[tuple[Pair, Result]]) -> dict[str, tuple[float, int]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for pair, result in rows:
        value = score(pair, result)["correct"]
        if value is not None:
            groups[pair.kind].append(value)
    return {kind: (sum(v) / len(v), len(v)) for kind, v in groups.items()}


def table(summaries: dict[str, dict[str, float]]) -> str:
    columns = [*METRICS, "unsupported", "wrong_language", "unrelated", "p50_s", "p95_s", "top3_chars"]
    if all(math.isnan(s["unrelated"]) for s in summaries.values()):
        columns.remove("unrelated")
    lines = ["| system | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, s in summaries.items():
        cells = ["—" if math.isnan(s[c]) else f"{s[c]:.2f} s" if c.endswith("_s") else
                 f"{s[c]:,.0f}" if c in ("top3_chars", "unsupported", "wrong_language", "unrelated") else f"{s[c]:.2f}"
                 for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kind_table(kinds: dict[str, dict[str, tuple[float, int]]]) -> str:
    names = list(kinds)
    lines = ["| kind | n | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for kind in KINDS:
        counts = [kinds[n][kind][1] for n in names if kind in kinds[n]]
        if counts:
            cells = [f"{kinds[n][kind][0]:.2f}" if kind in kinds[n] else "—" for n in names]
            lines.append(f"| {kind} | {max(counts)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(summaries: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = ["hit@1", "hit@3", "mrr", "correct", "f1", "cite_p", "cite_r", "markers", "abstain", "false_abstain"]
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=120)
    width = 0.8 / max(1, len(summaries))
    for i, (name, s) in enumerate(summaries.items()):
        values = [0 if math.isnan(s[c]) else s[c] for c in shown]
        xs = [j + (i - (len(summaries) - 1) / 2) * width for j in range(len(shown))]
        ax.bar(xs, values, width, label=name)
    ax.set_xticks(range(len(shown)), shown)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of questions")
    ax.set_title("German news QA: this pipeline and baselines (false_abstain: lower is better)")
    ax.legend(ncols=len(summaries), loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def parse_thresholds(specs: list[str], path: Path | None) -> dict[tuple[str, str], float]:
    """``system.metric=value`` pairs from the command line and ``[system] metric = value`` from TOML."""
    out: dict[tuple[str, str], float] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SystemExit(f"qa eval: cannot read the thresholds {path}: {error}") from None
        for system, values in data.items():
            if not isinstance(values, dict):
                raise SystemExit(f"qa eval: {path}: [{system}] must be a table of metric = value")
            for metric, value in values.items():
                out[_check_threshold(system, metric, value, str(path))] = float(value)
    for spec in specs:
        key, _, value = spec.partition("=")
        system, _, metric = key.strip().partition(".")
        try:
            number = float(value)
        except ValueError:
            raise SystemExit(f"qa eval: --min {spec!r}: the value must be a number, as in "
                             "--min llm.correct=0.7") from None
        out[_check_threshold(system, metric.strip(), number, "--min")] = number
    return out


def _check_threshold(system: str, metric: str, value: object, where: str) -> tuple[str, str]:
    if system not in SYSTEMS:
        raise SystemExit(f"qa eval: {where}: unknown system {system!r}; the systems are {', '.join(SYSTEMS)}")
    if metric not in METRICS and metric not in ("p50_s", "p95_s"):
        raise SystemExit(f"qa eval: {where}: unknown metric {metric!r}; the metrics are "
                         f"{', '.join(METRICS)}, p50_s, p95_s")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise SystemExit(f"qa eval: {where}: {system}.{metric} must be a number, got {value!r}")
    return system, metric


def failures(summaries: dict[str, dict[str, float]], thresholds: dict[tuple[str, str], float]) -> list[str]:
    """Each threshold not met, as a line; a threshold on a system that did not run is skipped."""
    out = []
    for (system, metric), limit in sorted(thresholds.items()):
        if system not in summaries:
            continue
        value = summaries[system][metric]
        lower_is_better = metric in ("false_abstain", "p50_s", "p95_s")
        if math.isnan(value) or (value > limit if lower_is_better else value < limit):
            relation = "above" if lower_is_better else "below"
            out.append(f"{system}.{metric} = {value:.3f} is {relation} the threshold {limit}")
    return out


def report(summaries, kinds, pairs, rows_by_system, settings, started: datetime, notes: list[str]) -> str:
    weakest = {name: min(k.items(), key=lambda kv: kv[1][0]) for name, k in kinds.items()
               if name in ("extractive", "llm")}
    lines = [
        f"# Eval report ({started:%Y-%m-%d %H:%M})",
        "",
        f"{len(pairs)} pairs from {QUESTIONS.name} ({sum(p.answerable for p in pairs)} answerable, "
        f"{sum(not p.answerable for p in pairs)} not answered by the articles); retrieval metrics over the "
        f"top {K}; embedding {settings.embed_model}; LLM mode {settings.llm_url or 'local model'}.",
        "",
        *[f"- **{name}**: {SYSTEMS[name]}" for name in summaries],
        "",
        table(summaries),
        "",
        "Metrics: " + "; ".join(f"**{k}** {v}" for k, v in METRICS.items()) + "; **p50_s/p95_s** seconds a "
        "question; **top3_chars** characters in the top 3 passages (bigger passages make hit@k easier and the "
        "LLM's prompt longer). A dash: the system does not produce that (retrieval only, or nothing to score).",
        "",
        "## Correct by kind of question",
        "",
        kind_table(kinds),
        "",
        *[f"Weakest kind for {name}: **{kind}** ({value:.2f} of {n})." for name, (kind, (value, n))
          in weakest.items()],
        *([""] + notes if notes else []),
        "",
        "## Questions a system got wrong",
        "",
    ]
    for name, rows in rows_by_system.items():
        wrong = [(p, r) for p, r in rows if score(p, r)["correct"] == 0.0]
        if wrong:
            lines += [f"### {name} ({len(wrong)})", ""]
            lines += [f"- `{p.id}` ({p.kind}) {p.question} → {(r.answer or '').strip()[:200]!r}" for p, r in wrong]
            lines.append("")
    return "\n".join(lines) + "\n"


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
    from qa.pipeline import Pipeline

    started = datetime.now()
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as index:
        settings = (settings or Settings.from_env()).with_(index_dir=Path(index), chroma_host=None,
                                                           chroma_port=None)
        pipeline = Pipeline(settings)
        pipeline.ingest(progress=False)
        own = None
        if distractors:
            own = set(pipeline.store.article_states())
            added = pipeline.ingest(distractors, progress=progress, add=True)
            notes.append(f"Distractors: {added.added} articles ({added.chunks} chunks in the index with the "
                         f"seeds) from {', '.join(map(str, distractors))}; `unrelated`: the number of answers "
                         "citing an article that is not a seed article.")
        texts = [p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))]
        problems = unquoted(pairs, texts)
        if problems:
            print("qa eval: some supporting quotes are in no article (edited articles?); those pairs can't "
                  "score on retrieval:\n  " + "\n  ".join(problems), file=sys.stderr)
            notes += ["Quotes no article holds: " + "; ".join(problems)]
        stock = None
        if "llamaindex" in systems:
            llm = None
            if with_llm:
                pipeline.warm_up_llm()
                llm = local_llamacpp(pipeline)
                if llm is None:
                    notes.append("llamaindex ran retrieval only: its answers need the local model "
                                 "(QA_LLM_URL points at a server).")
            stock = LlamaIndexStock(settings.seeds_dir, pipeline.embedder, llm, top_k=K,
                                    generate_kwargs=stock_generate_kwargs())
        if "llm" in systems:
            pipeline.warm_up_llm()
        rows_by_system = {name: run_system(name, pairs, pipeline, stock, progress) for name in systems}
    summaries = {name: summarise(rows, own) for name, rows in rows_by_system.items()}
    articles = {p.name: p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))}
    by_part = {part: {name: summarise([(p, r) for p, r in rows if part_of(p, articles) == part], own)
                      for name, rows in rows_by_system.items()} for part in ("held-out", "calibration")}
    notes.append("## By part (split by article: the calibration part's pairs may have been fitted on)\n\n"
                 + "\n\n".join(f"### {part} ({sum(part_of(p, articles) == part for p in pairs)} pairs)\n\n"
                                + table(s) for part, s in by_part.items()))
    kinds = {name: by_kind(rows) for name, rows in rows_by_system.items() if rows and rows[0][1].answer is not None}

    folder = out / f"{started:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(report(summaries, kinds, pairs, rows_by_system, settings, started, notes),
                                      encoding="utf-8")
    plot(summaries, folder / "metrics.png")
    with (folder / "answers.jsonl").open("w", encoding="utf-8") as f:
        for name, rows in rows_by_system.items():
            for pair, result in rows:
                f.write(json.dumps({"system": name, "id": pair.id, "kind": pair.kind, "question": pair.question,
                                    "asked": result.question, "answer": result.answer,
                                    "abstained": result.abstained, "answerer": result.answerer,
                                    "cited": result.cited, "cited_articles": list(result.cited_articles),
                                    "seconds": round(result.seconds, 3),
                                    "generated": result.generated, "fallback_reason": result.fallback_reason,
                                    "confidence": result.confidence,
                                    "scores": score(pair, result)}, ensure_ascii=False) + "\n")

    print()
    print(table(summaries))
    print("\nheld-out part only:")
    print(table(by_part["held-out"]))
    if kinds:
        print()
        print(kind_table(kinds))
    print(f"\nReport, plot and answers: {folder}")
    failed = failures(summaries, thresholds)
    for line in failed:
        print(f"qa eval: FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except QAError as error:
        print(f"qa eval: {error}", file=sys.stderr)
        sys.exit(2)
