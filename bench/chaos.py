"""Chaos: ingests killed at random points, two writers at once and uploads through the page, while a live
app answers throughout.

Generates a corpus (default 300 articles, varied from seeds/), indexes its first 60 articles, and starts
``python app.py`` on that index. A client asks 20 questions through the ``/chat`` API on the idle app (the
idle latency), then one about once a second until the end, counting every error (a raised call, or an
answer that is an error line) and timing each answer. Meanwhile:

1. ``--kills`` times: ``qa ingest`` is started on the folder and killed with SIGKILL (before, during or
   between batch writes): the first, which indexes the 240 new articles, after a random 5–40 s; each
   later one, after 25–40 articles were edited, one deleted and one added, after a random 2–9 s;
2. two ``qa ingest`` of the folder are started at once (the second must wait for the first);
3. throughout 1 and 2, a second client uses the page's ``/upload`` and ``/remove`` APIs every few seconds:
   new articles (named like the folder's: ``gen_00007.txt``), an edited one sent again with the
   replace flag, and an uploaded one removed; an error line in a report counts as an error;
4. the index is compared with a clean ingest of the same files into a fresh index (the folder, then the
   kept uploads as ``upload/<name>``): the same chunks and sentences (ids, texts, metadata, vectors
   within 0.01) and the same live BM25 entries.

The answer latency while an ingest or upload runs is held against the idle one (target: p95 ≤ 3× idle).
The report goes to stdout and ``bench/chaos_results.md``. Run it alone: the figures are the app's.

    python bench/chaos.py [--articles 300] [--kills 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import qa  # noqa: E402,F401  (offline environment first)
from bench import generate_corpus  # noqa: E402  (bench/bench.py: this folder is on the path)
from load_app import message_text, start_app  # noqa: E402
from eval.dataset import load_pairs  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.embedding import Embedder  # noqa: E402
from qa.store import ChunkStore  # noqa: E402
from qa.sync import ingest_paths  # noqa: E402
from qa.uploads import UPLOADS  # noqa: E402


class Busy:
    """Whether an ingest (a ``qa ingest`` process) or a page upload or removal is running now."""

    def __init__(self) -> None:
        self.cli: subprocess.Popen | None = None
        self.uploads = 0

    def now(self) -> bool:
        return self.uploads > 0 or (self.cli is not None and self.cli.poll() is None)


class Asker(threading.Thread):
    """Asks the live app one question after another until stopped; keeps every error it sees, and each
    answer's latency with whether the index was being changed meanwhile."""

    def __init__(self, url: str, questions: list[str], busy: Busy) -> None:
        super().__init__(daemon=True)
        self.url, self.questions, self.busy = url, questions, busy
        self.asked, self.errors = 0, []
        self.latencies: list[tuple[float, bool]] = []   # (seconds, an ingest or upload ran at some point)
        self.stop = threading.Event()
        self._rng = random.Random(1)
        self._client = None

    def ask(self) -> None:
        from gradio_client import Client

        self._client = self._client or Client(self.url, verbose=False)
        question = self._rng.choice(self.questions)
        busy = self.busy.now()
        started = time.monotonic()
        try:
            _, chat, _ = self._client.predict(question, api_name="/chat")   # history and mode: the defaults
            text = message_text(chat[-1])
            if "qa-error" in text or "Fehler:" in text:
                self.errors.append(f"{question}: {text[:200]}")
        except Exception as exc:  # noqa: BLE001 - any failure is what this bench counts
            self.errors.append(f"{question}: {type(exc).__name__}: {exc}"[:300])
        self.latencies.append((time.monotonic() - started, busy or self.busy.now()))
        self.asked += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.ask()
            self.stop.wait(1.0)


class Uploader(threading.Thread):
    """Uses the page's /upload and /remove APIs every few seconds until stopped: new articles, an edited one
    sent again with the replace flag, an uploaded one removed. Keeps every error and what it did."""

    def __init__(self, url: str, pool: list[Path], work: Path, busy: Busy, seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.pool, self.work, self.busy = url, pool, work, busy
        self.rng = random.Random(seed + 7)
        self.done: dict[str, int] = {"added": 0, "replaced": 0, "removed": 0}
        self.errors: list[str] = []
        self.stop = threading.Event()

    def _call(self, what: str, *args, api_name: str) -> str:
        from gradio_client import Client

        self.busy.uploads += 1
        try:
            report = Client(self.url, verbose=False).predict(*args, api_name=api_name)[0]
        except Exception as exc:  # noqa: BLE001 - any failure is what this bench counts
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}"[:300])
            return ""
        finally:
            self.busy.uploads -= 1
        if "qa-error" in report or "Fehler:" in report:
            self.errors.append(f"{what}: {report[:300]}")
        return report

    def run(self) -> None:
        from gradio_client import handle_file

        uploaded: list[str] = []
        for step in range(10**6):
            if self.stop.wait(self.rng.uniform(1, 4)):
                break
            action = ("upload", "upload", "replace", "upload", "remove")[step % 5]
            if uploaded and action == "replace":  # an edited version, replacing the earlier upload
                name = self.rng.choice(uploaded)
                path = self.work / "edited" / name
                path.parent.mkdir(exist_ok=True)
                path.write_text((self.work / "upload-pool" / name).read_text(encoding="utf-8")
                                + f"\n\nUpdate {self.rng.randint(1, 10**6)}: Die Brücke kostet 120.000 Euro.\n",
                                encoding="utf-8")
                if "1 aktualisiert" in self._call(f"replace {name}", [handle_file(str(path)), ], "", True,
                                                api_name="/upload"):
                    self.done["replaced"] += 1
            elif uploaded and action == "remove":
                name = uploaded.pop(self.rng.randrange(len(uploaded)))
                if "Entfernt" in self._call(f"remove {name}", [f"upload/{name}"], api_name="/remove"):
                    self.done["removed"] += 1
            else:
                fresh = [p for p in self.pool if p.name not in uploaded]
                if not fresh:
                    continue
                path = self.rng.choice(fresh)
                if "1 hinzugefügt" in self._call(f"upload {path.name}", [handle_file(str(path))], api_name="/upload"):
                    uploaded.append(path.name)
                    self.done["added"] += 1


def qa_ingest(folder: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "ingest", "--no-progress", str(folder)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def disturb(folder: Path, pool: list[Path], rng: random.Random, edits: int = 2) -> str:
    """Edit ``edits`` articles, delete one, and bring back one from ``pool``: what a user's folder does."""
    present = sorted(folder.glob("*.txt"))
    for path in rng.sample(present, edits):
        path.write_text(path.read_text(encoding="utf-8") + f"\n\nNachtrag {rng.randint(1, 10**6)}: Die Lage "
                        "blieb am Abend bis 21:30 Uhr ruhig.\n", encoding="utf-8")
    gone = rng.choice(present)
    shutil.move(str(gone), gone.with_suffix(".weg"))
    back = [p for p in pool if not (folder / p.name).exists()]
    if back:
        shutil.copy(rng.choice(back), folder)
    return f"edited {edits}, deleted {gone.name}"


def snapshot(store: ChunkStore) -> dict:
    """The chunks (ids, texts, metadata, vectors), each article's sentences with their vectors, and the live
    chunks of the BM25 log with their lengths."""
    from qa.lexical import LexicalIndex

    got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    chunks = {i: (d, {k: v for k, v in m.items() if k != "sentence_vectors"}, np.asarray(e))
              for i, d, m, e in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}
    sentences = {f"{article}@{start}": (text, vector) for article, rows
                 in store.sentence_vectors(sorted(store.article_states())).items()
                 for start, _, text, vector in rows}
    lexical = LexicalIndex()
    lexical.follow(store.lexical_collection)
    bm25 = {lexical.ids[i]: (None, {"length": float(lexical.lengths[i])}, np.zeros(1))
            for i in np.flatnonzero(lexical.alive)}
    return {"chunks": chunks, "sentences": {k: (t, {}, v) for k, (t, v) in sentences.items()}, "bm25": bm25}


def same_index(a: dict, b: dict) -> tuple[bool, str]:
    """Alike up to the float noise of embedding in other batches (vectors within 0.01, sentence vectors are
    stored as float16)."""
    for name in ("chunks", "sentences", "bm25"):
        if a[name].keys() != b[name].keys():
            return False, f"{name}: {len(a[name].keys() ^ b[name].keys())} ids differ"
        for key, (doc, meta, vec) in a[name].items():
            doc2, meta2, vec2 = b[name][key]
            if doc != doc2 or meta != meta2 or not np.allclose(vec, vec2, atol=1e-2):
                return False, f"{name}: {key} differs"
    return True, (f"{len(a['chunks'])} chunks, {len(a['sentences'])} sentences and {len(a['bm25'])} BM25 "
                  "entries alike")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "chaos_results.md")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="qa-chaos-"))
    pool = generate_corpus(ROOT / "seeds", work / "pool", args.articles, seed=args.seed)
    folder = work / "articles"
    folder.mkdir()
    for path in pool[:60]:
        shutil.copy(path, folder)
    index = work / "index"
    env = {**os.environ, "QA_INDEX_DIR": str(index)}
    log = []
    started = time.monotonic()

    def note(line: str) -> None:
        log.append(f"{time.monotonic() - started:6.1f} s  {line}")
        print(log[-1], flush=True)

    first = qa_ingest(folder, env)
    first.communicate()
    note(f"indexed the first 60 articles (exit {first.returncode})")
    app, url = start_app(str(index))
    busy = Busy()
    asker = Asker(url, [p.question for p in load_pairs() if p.answerable][:40], busy)
    for _ in range(20):  # the idle latency: nothing else runs
        asker.ask()
    note(f"asked {asker.asked} questions on the idle app")
    # Named like the folder's articles (gen_00001.txt …), other texts: an upload must never replace them.
    uploader = Uploader(url, generate_corpus(ROOT / "seeds", work / "upload-pool", 40, seed=args.seed + 1), work,
                        busy, args.seed)
    asker.start()
    uploader.start()
    try:
        for path in pool[60:]:
            shutil.copy(path, folder)
        note(f"folder now holds {len(list(folder.glob('*.txt')))} articles")
        for k in range(args.kills):
            # Enough work that a kill falls inside it: the model loads in ~3 s, and 30 edited articles (about
            # 150 chunks) take some 5 s more on 2 cores; the first run indexes 240 new articles.
            what = disturb(folder, pool, rng, edits=rng.randint(25, 40)) if k else "no edit"
            proc = busy.cli = qa_ingest(folder, env)
            delay = rng.uniform(5, 40) if k == 0 else rng.uniform(2, 9)
            try:
                proc.wait(delay)
                note(f"ingest {k + 1} finished before its kill at {delay:.1f} s (exit {proc.returncode}; {what})")
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                note(f"ingest {k + 1} killed after {delay:.1f} s ({what})")
        disturb(folder, pool, rng)
        writers = [qa_ingest(folder, env), qa_ingest(folder, env)]
        busy.cli = writers[1]
        outs = [w.communicate() for w in writers]
        waited = sum("waiting for it to finish" in err for _, err in outs)
        for w, (out, err) in zip(writers, outs):
            note(f"writer exit {w.returncode}: {out.strip().splitlines()[-1] if out.strip() else err.strip()[-200:]}")
        note(f"{waited} of 2 concurrent writers waited for the other")
        uploader.stop.set()
        uploader.join(300)
        note(f"page uploads: {uploader.done['added']} added, {uploader.done['replaced']} replaced, "
             f"{uploader.done['removed']} removed")
        time.sleep(3)  # a question or two on the final index
    finally:
        uploader.stop.set()
        asker.stop.set()
        asker.join(60)
        app.terminate()
        app.wait(30)

    settings = Settings.from_env().with_(index_dir=index)
    clean = settings.with_(index_dir=work / "clean-index")
    embedder = Embedder(cache_dir=settings.cache_dir)
    ingest_paths([folder], ChunkStore(clean), embedder, clean, progress=False)
    kept = sorted(p for p in settings.uploads.iterdir() if p.is_file() and not p.name.startswith("."))
    if kept:
        ingest_paths(kept, ChunkStore(clean), embedder, clean, progress=False, add=True, namespace=UPLOADS)
    equal, detail = same_index(snapshot(ChunkStore(settings)), snapshot(ChunkStore(clean)))
    note(f"final index equals a clean ingest: {'yes' if equal else 'NO'} ({detail})")

    idle = _p50_p95([t for t, _ in asker.latencies[:20]])
    during_all = [t for t, was_busy in asker.latencies[20:] if was_busy]
    during = _p50_p95(during_all or [float("nan")])
    lines = [
        "# Chaos: killed ingests, concurrent writers and page uploads under a live app",
        "",
        f"- Date: {datetime.now().isoformat(timespec='seconds')}; nproc: {os.cpu_count()}; "
        f"corpus: {args.articles} generated articles (seed {args.seed}); command: `python bench/chaos.py "
        f"--articles {args.articles} --kills {args.kills} --seed {args.seed}`",
        f"- Questions answered by the live app during the run: {asker.asked}; errors seen: {len(asker.errors)}",
        f"- Answer latency, idle (the first 20, nothing else running): p50 {idle[0]:.2f} s, p95 {idle[1]:.2f} s; "
        f"while an ingest or upload ran ({len(during_all)} questions): p50 {during[0]:.2f} s, p95 {during[1]:.2f} s "
        f"= {during[1] / idle[1]:.1f}× the idle p95 (target ≤ 3×)",
        f"- Page uploads during the CLI ingests: {uploader.done['added']} added, {uploader.done['replaced']} "
        f"replaced (with the flag), {uploader.done['removed']} removed; errors seen: {len(uploader.errors)}",
        f"- Ingests killed at random points: {sum('killed' in line for line in log)} of {args.kills}; "
        f"concurrent writers: 2 ({waited} waited)",
        f"- Final index equals a clean ingest of the same files: {'yes' if equal else 'NO'} ({detail})",
        "",
        "## Log",
        "",
        *[f"    {line}" for line in log],
    ]
    if asker.errors or uploader.errors:
        lines += ["", "## Errors", "", *[f"- {e}" for e in (asker.errors + uploader.errors)[:30]]]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:6]))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if equal and not asker.errors and not uploader.errors and during[1] <= 3 * idle[1] else 1)


def _p50_p95(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


if __name__ == "__main__":
    main()
