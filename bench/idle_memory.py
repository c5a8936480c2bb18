"""Memory of the chat page in fast-only use: ``python app.py`` on an index of the seeds, its VmRSS 15 s
after start and after one fast answer (the language model must not be loaded for either).

    python bench/idle_memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (offline environment first)
from load_app import message_text, start_app  # noqa: E402  (bench/load_app.py: this folder is on the path)
from qa.web import MODES  # noqa: E402

FAST = next(label for label, mode in MODES.items() if mode == "extractive")


def rss_mib(pid: int) -> int:
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS:"))
    return int(line.split()[1]) // 1024


def main() -> None:
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as index:
        subprocess.run([sys.executable, "-m", "qa", "ingest", "--no-progress", str(ROOT / "seeds")], check=True,
                       env={**os.environ, "QA_INDEX_DIR": index}, stdout=subprocess.DEVNULL)
        proc, url = start_app(index)
        try:
            time.sleep(15)  # the background warm-up: index and embedding model
            idle = rss_mib(proc.pid)
            _, chat, _ = Client(url, verbose=False).predict(
                "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?", [], FAST, api_name="/chat")
            time.sleep(3)
            answered = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(15)
    print(f"app idle after start: {idle} MiB; after one fast answer: {answered} MiB "
          f"({'answered' if 'qa-answer' in message_text(chat[-1]) else 'NOT answered'}); {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
