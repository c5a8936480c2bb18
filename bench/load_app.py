"""Load on the chat page: 20 questions from 5 concurrent gradio_client clients; errors and latency.

Starts ``python app.py`` on a free port with its own index (or uses ``--url``), warms it up, then has
5 clients, each in its own thread and session, ask 4 questions one after another through the ``/chat``
API. Latency is from submitting to the final answer, so it includes the time spent queued: the app
answers one question at a time (two would share the two cores). Run it alone.

    python bench/load_app.py [--mode extractive|llm] [--clients 5] [--questions 20] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (offline environment first)
from eval.dataset import load_pairs  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from qa.web import MODES  # noqa: E402


def message_text(message: dict) -> str:
    """A chat message's text: Gradio 6 sends its content as a list of typed parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def start_app(index: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "QA_INDEX_DIR": index}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("app.py did not start") from None
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=list(MODES.values()), default="extractive")
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--url", help="an app that is already running")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "load_results.md")
    args = parser.parse_args()

    from gradio_client import Client

    label = next(k for k, v in MODES.items() if v == args.mode)
    questions = [p.question for p in load_pairs() if not p.history][: args.questions]
    per_client = [questions[i::args.clients] for i in range(args.clients)]
    results: list[tuple[float, str | None]] = []
    lock = threading.Lock()

    with tempfile.TemporaryDirectory() as index:
        if not args.url:  # an index of its own is not seeded by itself: only the default one is
            subprocess.run([sys.executable, "-m", "qa", "ingest", "--no-progress", str(ROOT / "seeds")], check=True,
                           env={**os.environ, "QA_INDEX_DIR": index}, stdout=subprocess.DEVNULL)
        proc, url = (None, args.url) if args.url else start_app(index)
        try:
            # Warm: one question in each mode (the app loads the index and the model in the background
            # at start; a question in LLM mode waits for that), so the clock measures answering only.
            for warm_label in MODES:
                Client(url, verbose=False).predict(questions[0], [], warm_label, api_name="/chat")
            barrier = threading.Barrier(args.clients)

            def run(mine: list[str]) -> None:
                client = Client(url, verbose=False)
                barrier.wait()
                for question in mine:
                    started = time.perf_counter()
                    error = None
                    try:
                        _, chat, _ = client.predict(question, [], label, api_name="/chat")
                        if "qa-error" in message_text(chat[-1]):
                            error = message_text(chat[-1])
                    except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                        error = f"{type(exc).__name__}: {exc}"
                    with lock:
                        results.append((time.perf_counter() - started, error))

            started = time.perf_counter()
            threads = [threading.Thread(target=run, args=(mine,)) for mine in per_client]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
        finally:
            if proc:
                proc.terminate()
                proc.wait(15)

    seconds = [s for s, _ in results]
    errors = [e for _, e in results if e]
    report = "\n".join([
        f"# Load on the chat page ({datetime.now():%Y-%m-%d %H:%M})",
        "",
        f"{len(results)} questions from {args.clients} concurrent gradio_client clients ({args.mode} mode), "
        f"through the `/chat` API of `python app.py`; {os.cpu_count()} cores. Latency: submit to final "
        "answer, queueing included (one answer at a time).",
        "",
        "| errors | p50 | p95 | max | wall time | questions/s |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {len(errors)} | {percentile(seconds, .5):.2f} s | {percentile(seconds, .95):.2f} s | "
        f"{max(seconds):.2f} s | {wall:.1f} s | {len(results) / wall:.2f} |",
        "",
        *[f"- error: {e}" for e in errors],
    ]) + "\n"
    print(report)
    args.out.write_text(report, encoding="utf-8")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
