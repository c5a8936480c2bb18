"""The outside dev suite: German Wikipedia articles and crowd-written questions from XQuAD (``eval/data``).

The 24 articles are split by article, never by question, into four groups (by their place in the file):

    calibration  answerable   its articles are indexed (with seeds/); their questions must be answered
    calibration  absent       its articles are not indexed; their questions must be declined
    held-out     answerable   the same, for a second index
    held-out     absent

``eval/calibrate.py`` fits every number of ``qa.calibration`` on the calibration groups only; the report
shows both parts, and only the held-out figures say anything about text nobody tuned on.

An answer is right when it states a reference span (case, punctuation and German number formats aside);
its citation is right when a cited passage holds the span.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "xquad-de-dev.json"
PARTS = ("calibration", "held-out")
GROUPS = [("calibration", True), ("calibration", False), ("held-out", True), ("held-out", False)]
# Wikipedia articles carry no date; the article format needs one.
ARTICLE_DATE = "2019-11"


@dataclass(frozen=True)
class XArticle:
    title: str
    paragraphs: tuple[str, ...]
    part: str
    indexed: bool

    @property
    def file_name(self) -> str:
        return "xquad_" + re.sub(r"\W+", "_", self.title).strip("_") + ".txt"

    def text(self) -> str:
        return f" date {ARTICLE_DATE} {self.title.replace('_', ' ')}\n\n" + "\n\n".join(self.paragraphs) + "\n"


@dataclass(frozen=True)
class XQuestion:
    id: str
    question: str
    answers: tuple[str, ...]   # reference spans (empty: the question's article is not indexed)
    article: str
    part: str

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load(path: Path = DATA) -> tuple[list[XArticle], list[XQuestion]]:
    """The articles with their part and group, and every question (unanswerable where its article is absent)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for i, entry in enumerate(data):
        part, indexed = GROUPS[i % len(GROUPS)]
        paragraphs = tuple(p["context"] for p in entry["paragraphs"])
        articles.append(XArticle(entry["title"], paragraphs, part, indexed))
        for paragraph in entry["paragraphs"]:
            for qa in paragraph["qas"]:
                spans = tuple(dict.fromkeys(a["text"] for a in qa["answers"])) if indexed else ()
                questions.append(XQuestion(qa["id"], qa["question"], spans, entry["title"], part))
    return articles, questions


def write_corpus(articles: list[XArticle], part: str, seeds: Path, folder: Path) -> Path:
    """The article files of ``part``'s index (its answerable articles and the seed articles) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        if article.part == part and article.indexed:
            (folder / article.file_name).write_text(article.text(), encoding="utf-8")
    for seed in sorted(seeds.glob("*.txt")):
        shutil.copyfile(seed, folder / seed.name)
    return folder


@dataclass(frozen=True)
class XResult:
    question: XQuestion
    system: str
    answer: object          # qa.answer.Answer
    seconds: float
    unsupported: tuple[str, ...]
    language_ok: bool


def build_pipeline(articles: list[XArticle], part: str, settings, workdir: Path, embedder=None, llm=None,
                   calibration=None):
    """A pipeline over ``part``'s own index (its answerable articles and seeds/), ingested."""
    from qa.pipeline import Pipeline

    corpus = write_corpus(articles, part, settings.seeds_dir, workdir / f"{part}-articles")
    settings = settings.with_(index_dir=workdir / f"{part}-index", seeds_dir=corpus, chroma_host=None,
                              chroma_port=None)
    pipeline = Pipeline(settings, embedder, llm, calibration)
    pipeline.ingest(progress=False)
    return pipeline


def ask_all(pipeline, questions: list[XQuestion], system: str, progress: bool = False) -> list[XResult]:
    import sys
    import time

    from tqdm import tqdm

    from eval.checks import language_matches, unsupported

    rows = []
    for q in tqdm(questions, desc=f"{system:>10}", unit="q", disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        answer = pipeline.ask(q.question, mode=system)
        seconds = time.perf_counter() - started
        rows.append(XResult(q, system, answer, seconds, tuple(unsupported(answer, q.question)),
                            language_matches(answer, q.question)))
    return rows


def metrics(rows: list[XResult]) -> dict[str, float]:
    """The suite's figures for one system on one part."""
    from eval import metrics as m

    answerable = [r for r in rows if r.question.answerable]
    absent = [r for r in rows if not r.question.answerable]
    answered = [r for r in answerable if not r.answer.abstained]

    def contains(r):
        return float(not r.answer.abstained and any(m.has_fact(s, r.answer.text) for s in r.question.answers))

    def f1(r):
        return m.short_f1(r.answer.short, r.answer.text, r.answer.abstained, r.question.answers)

    def cited(r):
        return float(any(m.has_fact(s, c.text) for s in r.question.answers for c in r.answer.citations))

    seconds = [r.seconds for r in rows]
    return {
        "answerable": len(answerable), "absent": len(absent),
        "contains": m.mean(contains(r) for r in answerable),
        "short_f1": m.mean(f1(r) for r in answerable),
        "cite_holds": m.mean(cited(r) for r in answered),
        "declined_absent": m.mean(float(r.answer.abstained) for r in absent),
        "declined_answerable": m.mean(float(r.answer.abstained) for r in answerable),
        "unsupported": sum(bool(r.unsupported) for r in rows),
        "wrong_language": sum(not r.language_ok for r in rows),
        "p50_s": m.percentile(seconds, .5), "p95_s": m.percentile(seconds, .95),
    }


def retrieval_hits(pipeline, questions: list[XQuestion], ks: tuple[int, ...] = (1, 3, 5)) -> dict[str, float]:
    """hit@k of the hybrid retrieval on the answerable questions: a reference span stands in one of the
    first k passages (a passage counts with the near-duplicates folded into it)."""
    from eval import metrics as m

    answerable = [q for q in questions if q.answerable]
    found = {k: [] for k in ks}
    retriever = pipeline.retriever.__class__(pipeline.store, pipeline.embedder, top_k=max(ks),
                                             dense_weight=pipeline.retriever.dense_weight,
                                             sentence_weight=pipeline.retriever.sentence_weight)
    for q in answerable:
        passages = retriever.retrieve(q.question)
        first = next((i for i, p in enumerate(passages)
                      if any(m.has_fact(s, c.text) for s in q.answers for c in p.chunks)), None)
        for k in ks:
            found[k].append(float(first is not None and first < k))
    return {f"hit@{k}": m.mean(found[k]) for k in ks}


COLUMNS = ("answerable", "absent", "hit@1", "hit@3", "hit@5", "contains", "short_f1", "cite_holds", "declined_absent", "declined_answerable",
           "unsupported", "wrong_language", "p50_s", "p95_s")


def table(results: dict[tuple[str, str], dict[str, float]]) -> str:
    lines = ["| part | system | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * len(COLUMNS)]
    for (part, system), s in results.items():
        cells = [f"{s[c]:.0f}" if c in ("answerable", "absent", "unsupported", "wrong_language") else
                 f"{s[c]:.2f} s" if c.endswith("_s") else f"{s[c]:.3f}" for c in COLUMNS]
        lines.append(f"| {part} | {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate(systems: list[str], parts: list[str], out: Path, *, progress: bool = False, settings=None,
             thresholds: dict | None = None) -> int:
    """``qa eval --suite xquad-dev``: every question of ``parts`` through ``systems``; report in ``out``."""
    import sys
    import tempfile
    from datetime import datetime

    from qa.config import Settings

    started = datetime.now()
    settings = settings or Settings.from_env()
    articles, questions = load()
    results: dict[tuple[str, str], dict[str, float]] = {}
    rows_all: list[XResult] = []
    embedder = llm = None
    with tempfile.TemporaryDirectory() as work:
        for part in parts:
            pipeline = build_pipeline(articles, part, settings, Path(work), embedder, llm)
            embedder = pipeline.embedder
            if "llm" in systems:
                pipeline.warm_up_llm()
                llm = pipeline.llm
            asked = [q for q in questions if q.part == part]
            hits = retrieval_hits(pipeline, asked)
            for system in systems:
                rows = ask_all(pipeline, asked, system, progress)
                results[(part, system)] = {**hits, **metrics(rows)}
                rows_all += rows
    folder = out / f"{started:%Y%m%d-%H%M%S}-xquad-dev"
    folder.mkdir(parents=True, exist_ok=True)
    text = report(results, rows_all, started, parts)
    (folder / "report.md").write_text(text, encoding="utf-8")
    with (folder / "answers.jsonl").open("w", encoding="utf-8") as f:
        for r in rows_all:
            f.write(json.dumps({"system": r.system, "part": r.question.part, "id": r.question.id,
                                "article": r.question.article, "question": r.question.question,
                                "references": r.question.answers, "answer": r.answer.text,
                                "short": r.answer.short, "abstained": r.answer.abstained,
                                "answerer": r.answer.answerer, "confidence": round(r.answer.confidence, 4),
                                "fallback_reason": r.answer.fallback_reason, "generated": r.answer.generated,
                                "unsupported": r.unsupported, "language_ok": r.language_ok,
                                "seconds": round(r.seconds, 3)}, ensure_ascii=False) + "\n")
    print(table(results))
    print(f"\nReport and answers: {folder}")
    failed = []
    for (system, metric), limit in (thresholds or {}).items():
        for (part, name), s in results.items():
            if name == system and part == "held-out" and metric in s:
                lower = metric in ("declined_answerable", "unsupported", "wrong_language", "p50_s", "p95_s")
                if s[metric] > limit if lower else s[metric] < limit:
                    failed.append(f"held-out {system}.{metric} = {s[metric]:.3f}, limit {limit}")
    for line in failed:
        print(f"qa eval: FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


def report(results, rows: list[XResult], started, parts) -> str:
    from qa.calibration import Calibration

    cal = Calibration.load()
    lines = [f"# XQuAD dev suite ({started:%Y-%m-%d %H:%M})", "",
             "German Wikipedia articles with crowd-written questions (XQuAD, CC BY-SA 4.0; `eval/data`). "
             "Split by article: the calibration part is what `eval/calibrate.py` fitted on; only the "
             "held-out part says how the product does on text nobody tuned it to. Each part has its own "
             "index: its answerable articles plus `seeds/`; the questions of its absent articles must be "
             "declined.", "",
             f"Calibration in use: fitted on {cal.fitted_on.get('data', 'nothing (defaults)')}.", "",
             table(results), "",
             "**hit@k**: a reference span stands in one of the first k retrieved passages (answerable "
             "questions); **contains**: the answer states a reference span; **short_f1**: SQuAD token F1 of the short "
             "answer (of the whole answer when there is none); **cite_holds**: a cited passage holds the span "
             "(answered questions); **declined_absent** / **declined_answerable**: declined when the "
             "article is not in the index / when it is; **unsupported**: answers stating a name, number or "
             "date that no cited passage holds; **wrong_language**: answers not in the question's language.",
             ""]
    for r in rows:
        if r.unsupported:
            lines.append(f"- unsupported ({r.system}) `{r.question.id}` {r.question.question} → "
                         f"{r.answer.text[:160]!r}: {'; '.join(r.unsupported)}")
    return "\n".join(lines) + "\n"
