"""Ingest speed, side by side in one run: an earlier version of the code against this one's two backends.

On the same corpora, each ingest in a fresh process with its model loaded before the clock starts, into a
fresh embedded index:

  * ``before``: the code at ``--before`` (default ``1cb3ad6``, the last version before issue 13: float32
    PyTorch, every sentence embedded a second time), checked out into ``bench/out/tree-<rev>``;
  * ``torch``: this code with ``QA_EMBED_BACKEND=torch`` (float32 PyTorch, one pass);
  * ``onnx``: this code as shipped (int8 ONNX Runtime, one pass).

Corpora: ``generated`` (``--articles`` news articles varied from ``seeds/``, ``bench/bench.py``'s
generator), ``XQuAD paragraphs`` (``--wiki`` articles made of 2–5 XQuAD dev paragraphs each, real German
prose with its numbers and years varied, ``bench/scale.py``'s generator) and ``real`` (the seed articles and
the 24 XQuAD dev articles, unvaried; small enough that an ingest's fixed start, importing llama-index's
Chroma store and Chroma, weighs in).
``--repeat N`` runs the three in turn N times on each corpus (before, torch, onnx, before, …) and reports
each one's median chunks/s, and the ratio of the medians: the machines here drift by a third within
minutes, so one run each can mislead. Prints a Markdown table and writes it to ``--out``. Run it alone:

    python bench/compare_ingest.py [--articles 2000] [--wiki 300] [--repeat 1] [--corpora generated,wiki,real]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import generate_corpus  # noqa: E402  (bench/bench.py: this folder is on the path)
from scale import wiki_corpus  # noqa: E402

CHILD = """
import json, resource, sys, time
import qa
from qa.config import Settings
from qa.pipeline import Pipeline
pipeline = Pipeline(Settings.from_env())
pipeline.embedder.warm_up()
began = time.perf_counter()
report = pipeline.ingest([sys.argv[1]], progress=False, prune=True)
seconds = time.perf_counter() - began
print(json.dumps({"chunks": report.chunks, "seconds": seconds,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def tree(rev: str) -> Path:
    """The code at ``rev``, exported once into ``bench/out/tree-<rev>``."""
    target = ROOT / "bench" / "out" / f"tree-{rev}"
    if not (target / "qa").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "qa", "prompts"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def real_corpus(folder: Path) -> Path:
    from eval import xquad

    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(path, folder)
    articles, _ = xquad.load()
    for article in articles:
        (folder / article.file_name).write_text(article.text(), encoding="utf-8")
    return folder


def ingest(code: Path, backend: str | None, folder: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-compare-") as index:
        env = {**os.environ, "PYTHONPATH": str(code), "QA_INDEX_DIR": index, "QA_SEEDS_DIR": str(Path(index) / "none")}
        env.pop("QA_EMBED_BACKEND", None)
        if backend:
            env["QA_EMBED_BACKEND"] = backend
        done = subprocess.run([sys.executable, "-c", CHILD, str(folder)], env=env, cwd=str(code),
                              stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--wiki", type=int, default=300, help="articles of the XQuAD-paragraph corpus")
    parser.add_argument("--before", default="1cb3ad6")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each code on each corpus, in turn")
    parser.add_argument("--corpora", default="generated,wiki,real", help="comma-separated, from generated,wiki,real")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "compare_results.md")
    args = parser.parse_args()
    runs = [("before", tree(args.before), None), ("torch", ROOT, "torch"), ("onnx", ROOT, "onnx")]
    wanted = set(args.corpora.split(","))
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-compare-corpus-") as work:
        corpora = []
        if "generated" in wanted:
            generate_corpus(ROOT / "seeds", Path(work) / "generated", args.articles)
            corpora.append((f"generated ({args.articles})", Path(work) / "generated"))
        if "wiki" in wanted:
            corpora.append((f"XQuAD paragraphs ({args.wiki})", wiki_corpus(Path(work) / "wiki", args.wiki)))
        if "real" in wanted:
            corpora.append(("real (seeds + XQuAD dev, 29)", real_corpus(Path(work) / "real")))
        for label, folder in corpora:
            results: dict[str, list[dict]] = {name: [] for name, _, _ in runs}
            for round_ in range(args.repeat):
                for name, code, backend in runs:
                    print(f"[{datetime.now():%H:%M:%S}] {label}: {name} ({round_ + 1}/{args.repeat})", flush=True)
                    results[name].append(ingest(code, backend, folder))
            speeds = {name: statistics.median(r["chunks"] / r["seconds"] for r in rs) for name, rs in results.items()}
            for name, rs in results.items():
                each = ", ".join(f"{r['chunks'] / r['seconds']:.1f}" for r in rs)
                rows.append(f"| {label} | {name} | {rs[0]['chunks']} | {statistics.median(r['seconds'] for r in rs):.1f} "
                            f"| {speeds[name]:.1f} ({each}) | {speeds[name] / speeds['before']:.2f}× "
                            f"| {max(r['maxrss'] for r in rs):.0f} |")
    text = "\n".join([
        "# Ingest speed: before issue 13 against both backends now", "",
        f"- Date: {datetime.now().isoformat(timespec='seconds')}; nproc {len(os.sched_getaffinity(0))}; "
        f"`python bench/compare_ingest.py --articles {args.articles} --wiki {args.wiki} --before {args.before} "
        f"--repeat {args.repeat} --corpora {args.corpora}`",
        "- Each ingest in a fresh process into a fresh embedded index, model loaded before the clock starts; "
        f"the three codes in turn, {args.repeat} time(s): median seconds and chunks/s (each run's in brackets), "
        "ratio of the medians.", "",
        "| Corpus | Code | Chunks | Ingest s | Chunks/s | vs before | Peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|", *rows, ""])
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
