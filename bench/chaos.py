"""Chaos: ingests killed at random points and two writers at once, while a live app answers throughout.

Generates a corpus (default 300 articles, varied from seeds/), indexes its first 60 articles, and starts
``python app.py`` on that index. A client then asks a question through the ``/chat`` API about once a
second until the end, counting every error (a raised call, or an answer that is an error line). Meanwhile:

1. ``--kills`` times: a few articles of the folder are edited, added or deleted, ``qa ingest`` is started
   on the folder and killed with SIGKILL after a random 5–40 s (before, during or between batch writes);
2. two ``qa ingest`` of the folder are started at once (the second must wait for the first);
3. the index is compared with a clean ingest of the same files into a fresh index: the same chunks and
   sentences (ids, texts, metadata, vectors within 0.01) and the same live BM25 entries.

The report goes to stdout and ``bench/chaos_results.md``. Run it alone: the figures are the app's errors.

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
from qa.web import MODES  # noqa: E402

FAST = next(label for label, mode in MODES.items() if mode == "extractive")


class Asker(threading.Thread):
    """Asks the live app one question after another until stopped; keeps every error it sees."""

    def __init__(self, url: str, questions: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.questions = url, questions
        self.asked, self.errors = 0, []
        self.stop = threading.Event()

    def run(self) -> None:
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        rng = random.Random(1)
        while not self.stop.is_set():
            question = rng.choice(self.questions)
            try:
                _, chat = client.predict(question, [], FAST, api_name="/chat")
                text = message_text(chat[-1])
                if "qa-error" in text or "Fehler:" in text:
                    self.errors.append(f"{question}: {text[:200]}")
            except Exception as exc:  # noqa: BLE001 - any failure is what this bench counts
                self.errors.append(f"{question}: {type(exc).__name__}: {exc}"[:300])
            self.asked += 1
            self.stop.wait(1.0)


def qa_ingest(folder: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", "ingest", "--no-progress", str(folder)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def disturb(folder: Path, pool: list[Path], rng: random.Random) -> str:
    """Edit two articles, delete one, and bring back one from ``pool``: what a user's folder does."""
    present = sorted(folder.glob("*.txt"))
    for path in rng.sample(present, 2):
        path.write_text(path.read_text(encoding="utf-8") + f"\n\nNachtrag {rng.randint(1, 10**6)}: Die Lage "
                        "blieb am Abend bis 21:30 Uhr ruhig.\n", encoding="utf-8")
    gone = rng.choice(present)
    shutil.move(str(gone), gone.with_suffix(".weg"))
    back = [p for p in pool if not (folder / p.name).exists()]
    if back:
        shutil.copy(rng.choice(back), folder)
    return f"edited 2, deleted {gone.name}"


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
    asker = Asker(url, [p.question for p in load_pairs() if p.answerable][:40])
    asker.start()
    try:
        for path in pool[60:]:
            shutil.copy(path, folder)
        note(f"folder now holds {len(list(folder.glob('*.txt')))} articles")
        for k in range(args.kills):
            what = disturb(folder, pool, rng) if k else "no edit"
            proc = qa_ingest(folder, env)
            delay = rng.uniform(5, 40)  # the model loads in ~8 s; a batch of 256 chunks embeds in ~13 s
            try:
                proc.wait(delay)
                note(f"ingest {k + 1} finished before its kill at {delay:.1f} s (exit {proc.returncode}; {what})")
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                note(f"ingest {k + 1} killed after {delay:.1f} s ({what})")
        disturb(folder, pool, rng)
        writers = [qa_ingest(folder, env), qa_ingest(folder, env)]
        outs = [w.communicate() for w in writers]
        waited = sum("waiting for it to finish" in err for _, err in outs)
        for w, (out, err) in zip(writers, outs):
            note(f"writer exit {w.returncode}: {out.strip().splitlines()[-1] if out.strip() else err.strip()[-200:]}")
        note(f"{waited} of 2 concurrent writers waited for the other")
        time.sleep(3)  # a question or two on the final index
    finally:
        asker.stop.set()
        asker.join(60)
        app.terminate()
        app.wait(30)

    settings = Settings.from_env().with_(index_dir=index)
    clean = settings.with_(index_dir=work / "clean-index")
    embedder = Embedder(cache_dir=settings.cache_dir)
    ingest_paths([folder], ChunkStore(clean), embedder, clean, progress=False)
    equal, detail = same_index(snapshot(ChunkStore(settings)), snapshot(ChunkStore(clean)))
    note(f"final index equals a clean ingest: {'yes' if equal else 'NO'} ({detail})")

    lines = [
        "# Chaos: killed ingests and concurrent writers under a live app",
        "",
        f"- Date: {datetime.now().isoformat(timespec='seconds')}; nproc: {os.cpu_count()}; "
        f"corpus: {args.articles} generated articles (seed {args.seed}); command: `python bench/chaos.py "
        f"--articles {args.articles} --kills {args.kills} --seed {args.seed}`",
        f"- Questions answered by the live app during the run: {asker.asked}; errors seen: {len(asker.errors)}",
        f"- Ingests killed at random points: {sum('killed' in line for line in log)} of {args.kills}; "
        f"concurrent writers: 2 ({waited} waited)",
        f"- Final index equals a clean ingest of the same files: {'yes' if equal else 'NO'} ({detail})",
        "",
        "## Log",
        "",
        *[f"    {line}" for line in log],
    ]
    if asker.errors:
        lines += ["", "## Errors", "", *[f"- {e}" for e in asker.errors[:30]]]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:6]))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if equal and not asker.errors else 1)


if __name__ == "__main__":
    main()
