"""Scale benchmark: a generated archive of 17,000 articles (≈100k chunks) and one of 2,000, each indexed
embedded and on a Chroma server, then opened by a fresh process that answers fast-mode questions.

For each corpus and each kind of index it reports:
  * ingest: articles, chunks, seconds, chunks/s, the seconds of a second sync that finds nothing to do,
    and the ingesting process's peak RSS (in a process of its own);
  * the index's size on disk (the embedded folder, or the server's data folder);
  * a fresh process (``probe``): seconds from its start until its models are loaded and the index is open,
    seconds from then to its first fast-mode answer, then fast ``ask`` p50/p95 over the eval questions and
    XQuAD questions (three rounds), and its peak RSS; for the server also the server's peak RSS.

The corpus mixes news articles varied from ``seeds/`` (``bench/bench.py``'s generator) with articles made of
the XQuAD dev articles' paragraphs (German Wikipedia), their numbers, years and dates varied. It is
written once into ``bench/out/corpus-N`` and reused; the indexes are kept in ``bench/out/scale-N`` (``--reuse``
probes them again without ingesting).

``--server-ingest copy`` fills the server from the embedded index of the same corpus (the same records,
vectors and lexical log, copied through the client) instead of embedding everything a second time; the
server's ingest speed is then measured on the smaller corpus only. Run it alone (``make bench-scale``):

    python bench/scale.py [--articles 17000] [--small 2000] [--server-ingest full|copy] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import make_article, seed_pool  # noqa: E402  (bench/bench.py: this folder is on the path)

OUT = ROOT / "bench" / "out"
_YEAR = re.compile(r"\b(1[5-9]\d\d|20[0-2]\d)\b")
_NUMBER = re.compile(r"\b\d{1,3}(?:\.\d{3})+\b|\b\d{2,3}\b")


def _xquad_pool() -> list[tuple[str, list[str]]]:
    data = json.loads((ROOT / "eval" / "data" / "xquad-de-dev.json").read_text(encoding="utf-8"))
    return [(a["title"].replace("_", " "), [p["context"] for p in a["paragraphs"]]) for a in data["data"]]


def _wiki_article(pool: list[tuple[str, list[str]]], rng: random.Random) -> str:
    """Paragraphs of one XQuAD article, its years shifted and its other numbers changed, under a news date."""
    title, paragraphs = rng.choice(pool)
    body = rng.sample(paragraphs, rng.randint(min(2, len(paragraphs)), min(5, len(paragraphs))))
    shift = rng.randint(-30, 30)
    text = "\n\n".join(body)
    text = _YEAR.sub(lambda m: str(int(m.group()) + shift), text)
    text = _NUMBER.sub(lambda m: f"{rng.randrange(10, 999) * (1000 if '.' in m.group() else 1):,}".replace(",", "."),
                       text)
    return f" date {rng.randint(2015, 2025)}-{rng.randint(1, 12):02d} {title}\n\n{text}\n"


def _write_distinct(folder: Path, n: int, make, name: str) -> None:
    """``n`` distinct texts from ``make()``, written as ``<name>_<k>.txt`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    while len(seen) < n:
        text = make()
        if text not in seen:
            seen.add(text)
            (folder / f"{name}_{len(seen):06d}.txt").write_text(text, encoding="utf-8")


def wiki_corpus(folder: Path, n: int, seed: int = 1) -> Path:
    """``n`` distinct articles of XQuAD dev paragraphs (real German prose, numbers and years varied)."""
    rng, pool = random.Random(seed), _xquad_pool()
    _write_distinct(folder, n, lambda: _wiki_article(pool, rng), "wiki")
    return folder


def corpus(n: int, seed: int = 0) -> Path:
    """``bench/out/corpus-<n>``: ``n`` distinct articles, half news varied from the seeds, half Wikipedia."""
    folder = OUT / f"corpus-{n}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    rng = random.Random(seed)
    heads, paras = seed_pool(ROOT / "seeds")
    wiki = _xquad_pool()
    _write_distinct(folder, n, lambda: make_article(heads, paras, rng) if rng.random() < 0.5
                    else _wiki_article(wiki, rng), "art")
    done.touch()
    return folder


def _questions() -> list[str]:
    from eval.dataset import load_pairs

    data = json.loads((ROOT / "eval" / "data" / "xquad-de-dev.json").read_text(encoding="utf-8"))
    xquad = [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
    return [p.question for p in load_pairs()] + xquad[::20]


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _probe() -> None:
    """In a fresh process: load, open, first answer, then warm latencies. Prints one JSON line."""
    import numpy as np

    start = float(os.environ["BENCH_T0"])
    import qa  # noqa: F401
    from qa.config import Settings
    from qa.pipeline import Pipeline

    pipeline = Pipeline(Settings.from_env())
    pipeline.warm_up()   # as the chat page does at its start
    chunks = pipeline.store.count()
    loaded = time.time()
    questions = _questions()
    first = pipeline.ask(questions[0], mode="extractive")
    first_s = time.time() - loaded
    rounds = []
    for _ in range(3):   # the first round embeds the best sentences alone; later ones find them kept
        times = []
        for question in questions:
            began = time.perf_counter()
            pipeline.ask(question, mode="extractive")
            times.append((time.perf_counter() - began) * 1000)
        rounds.append(times)
    every = [t for times in rounds for t in times]
    print(json.dumps({"chunks": chunks, "load_s": loaded - start, "first_s": first_s, "first": first.text[:80],
                      "questions": len(questions), "p50": float(np.percentile(every, 50)),
                      "p95": float(np.percentile(every, 95)), "cold_p50": float(np.percentile(rounds[0], 50)),
                      "cold_p95": float(np.percentile(rounds[0], 95)), "maxrss": _maxrss_mib()}))


def _ingest(folder: str) -> None:
    """In a fresh process: sync the index with ``folder``. Prints one JSON line."""
    import qa  # noqa: F401
    from qa.config import Settings
    from qa.pipeline import Pipeline

    pipeline = Pipeline(Settings.from_env())
    pipeline.embedder.warm_up()
    began = time.perf_counter()
    report = pipeline.ingest([folder], progress=sys.stderr.isatty(), prune=True)
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    again = pipeline.ingest([folder], progress=False, prune=True)
    noop = time.perf_counter() - began
    assert not again.changed, again.summary()
    print(json.dumps({"articles": report.added + report.updated, "chunks": report.chunks, "seconds": seconds,
                      "chunks_s": report.chunks / seconds, "noop": noop, "maxrss": _maxrss_mib()}))


def _child(what: str, env: dict, *args: str) -> dict:
    env = {**os.environ, **env, "BENCH_T0": repr(time.time())}
    done = subprocess.run([sys.executable, __file__, what, *args], env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"{what} {' '.join(args)} failed with {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _du_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _server(data: Path) -> tuple[subprocess.Popen, int]:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("chroma run did not start")


def _peak_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _copy_index(source: Path, port: int) -> None:
    """Every collection of the embedded index at ``source``, record for record, onto the server."""
    import chromadb

    local = chromadb.PersistentClient(path=str(source))
    remote = chromadb.HttpClient(host="127.0.0.1", port=port)
    step = remote.get_max_batch_size()
    for listed in local.list_collections():
        collection = local.get_collection(listed.name if hasattr(listed, "name") else listed)
        target = remote.get_or_create_collection(collection.name, metadata=collection.metadata, embedding_function=None)
        total = collection.count()
        for offset in range(0, total, 2000):
            got = collection.get(limit=2000, offset=offset, include=["embeddings", "documents", "metadatas"])
            for at in range(0, len(got["ids"]), step):
                target.add(ids=got["ids"][at:at + step], embeddings=got["embeddings"][at:at + step],
                           documents=got["documents"][at:at + step], metadatas=got["metadatas"][at:at + step])


def _ingested(kind: str, work: Path, reuse: bool, env: dict, folder: Path) -> dict:
    """The ingest's figures: measured now, or (``--reuse``) those kept from a run that built this index."""
    kept = work / f"ingest-{kind}.json"
    if reuse and kept.exists():
        return json.loads(kept.read_text())
    figures = _child("ingest", env, str(folder))
    kept.write_text(json.dumps(figures))
    return figures


def run_corpus(n: int, server_ingest: str, reuse: bool) -> list[dict]:
    """Index ``corpus(n)`` embedded and on a server, in ``bench/out/scale-<n>``, and probe both."""
    folder = corpus(n)
    rows = []
    work = OUT / f"scale-{n}"
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    index = work / "index"
    env = {"QA_INDEX_DIR": str(index), "QA_SEEDS_DIR": str(work / "none")}
    print(f"[{datetime.now():%H:%M:%S}] {n} articles: embedded ingest", flush=True)
    ingest = _ingested("embedded", work, reuse, env, folder)
    size = _du_mib(index)
    print(f"[{datetime.now():%H:%M:%S}] {n} articles: embedded probe", flush=True)
    probe = _child("probe", env)
    rows.append({"corpus": n, "index": "embedded", **ingest, "disk": size, "probe": probe})

    data = work / "server"
    server, port = _server(data)
    try:
        env = {"QA_CHROMA_HOST": "127.0.0.1", "QA_CHROMA_PORT": str(port), "QA_SEEDS_DIR": str(work / "none")}
        if server_ingest == "copy":
            print(f"[{datetime.now():%H:%M:%S}] {n} articles: copying the index to the server", flush=True)
            if not (reuse and (work / "ingest-server.json").exists()):
                _copy_index(index, port)
                (work / "ingest-server.json").write_text("{}")
            ingest = {"articles": ingest["articles"], "chunks": ingest["chunks"], "seconds": None,
                      "chunks_s": None, "noop": None, "maxrss": None}
        else:
            print(f"[{datetime.now():%H:%M:%S}] {n} articles: server ingest", flush=True)
            ingest = _ingested("server", work, reuse, env, folder)
        size = _du_mib(data)
        print(f"[{datetime.now():%H:%M:%S}] {n} articles: server probe", flush=True)
        probe = _child("probe", env)
        rows.append({"corpus": n, "index": "server", **ingest, "disk": size, "probe": probe,
                     "server_rss": _peak_of(server.pid)})
    finally:
        server.terminate()
        server.wait(timeout=60)
    return rows


def report(rows: list[dict], args) -> str:
    import platform

    def num(value, form):
        return "—" if value is None else format(value, form)

    lines = ["# Scale benchmark", "",
             f"- Date: {datetime.now().isoformat(timespec='seconds')}; `python bench/scale.py --articles "
             f"{args.articles} --small {args.small} --server-ingest {args.server_ingest}"
             f"{' --reuse' if args.reuse else ''}`" + ("; the indexes and the ingest figures are those of the "
                                                      "run that built them, the probes are new" if args.reuse else ""),
             f"- nproc: {len(os.sched_getaffinity(0))}; Python {platform.python_version()}; embedding backend "
             f"{os.environ.get('QA_EMBED_BACKEND', 'onnx')}",
             "- Ingest: `qa ingest` in a process of its own, model already loaded. Probe: a fresh process; "
             "\"load\" is its start until the embedding model is loaded and the index open, \"first\" the time "
             "from then to its first fast-mode answer; p50/p95 over the questions, three rounds (the first round "
             "alone: no sentence embedded before).", "",
             "| Articles | Index | Chunks | Ingest s | Chunks/s | No-op sync s | Ingest peak RSS MiB | On disk MiB | Load s "
             "| First answer s | ask p50 ms | ask p95 ms | first round p50 / p95 ms | Probe peak RSS MiB "
             "| Server peak RSS MiB |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        p = r["probe"]
        lines.append(f"| {r['corpus']} | {r['index']} | {r['chunks']} | {num(r['seconds'], '.0f')} "
                     f"| {num(r['chunks_s'], '.1f')} | {num(r['noop'], '.1f')} | {num(r['maxrss'], '.0f')} | {r['disk']:.0f} | {p['load_s']:.1f} "
                     f"| {p['first_s']:.2f} | {p['p50']:.0f} | {p['p95']:.0f} | {p['cold_p50']:.0f} / {p['cold_p95']:.0f} "
                     f"| {p['maxrss']:.0f} "
                     f"| {num(r.get('server_rss'), '.0f')} |")
    if args.server_ingest == "copy":
        lines += ["", f"The {args.articles}-article server index was copied from the embedded one (same records); "
                  "its ingest speed is the smaller corpus's."]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("probe", "ingest"):
        _probe() if sys.argv[1] == "probe" else _ingest(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=17000)   # ≈100k chunks
    parser.add_argument("--small", type=int, default=2000, help="the smaller corpus (0: none)")
    parser.add_argument("--server-ingest", choices=("full", "copy"), default="copy")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "scale_results.md")
    parser.add_argument("--reuse", action="store_true",
                        help="probe the indexes a former run left in bench/out/scale-N (after a change to the "
                             "question path), quoting that run's ingest figures")
    args = parser.parse_args()
    rows = []
    for n in [x for x in (args.articles, args.small) if x]:   # the large corpus first: it matters most
        rows += run_corpus(n, "full" if n == args.small else args.server_ingest, args.reuse)
        text = report(rows, args)
        args.out.write_text(text, encoding="utf-8")
        print(text, flush=True)


if __name__ == "__main__":
    main()
