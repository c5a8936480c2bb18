"""Login flood: wrong passwords sent all at once to a page with QA_APP_AUTH, then the right one until it works.

Starts ``python app.py`` with ``QA_APP_AUTH=anna:geheim`` (default lockout settings unless QA_LOGIN_* are
set) on an index of the seed articles, sends ``--guesses`` wrong logins at the same moment, and times
them: at most one guess a second is checked, so they take at least that many seconds in all. Then the
right password is tried every 5 s until it logs in (the lockout ends within QA_LOGIN_LOCKOUT_S, at most
5 minutes), and ``Client(url, auth=…).predict(question, api_name="/chat")`` must answer with the question
alone. The report goes to stdout and ``bench/login_results.md``.

    python bench/login_flood.py [--guesses 40]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402,F401  (offline environment first)
from load_app import message_text, start_app  # noqa: E402  (bench/: this folder is on the path)

QUESTION = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"


def login(url: str, password: str) -> int:
    body = urllib.parse.urlencode({"username": "anna", "password": password}).encode()
    try:
        with urllib.request.urlopen(f"{url}login", data=body, timeout=600) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "login_results.md")
    args = parser.parse_args()
    index = Path(tempfile.mkdtemp(prefix="qa-login-")) / "index"
    os.environ.update(QA_INDEX_DIR=str(index), QA_APP_AUTH="anna:geheim")
    subprocess.run([sys.executable, "-m", "qa", "ingest", "--no-progress"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    app, url = start_app(str(index))
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(args.guesses) as pool:
            statuses = list(pool.map(lambda _: login(url, "falsch"), range(args.guesses)))
        flood = time.monotonic() - started
        back_at, tries = None, 0
        while time.monotonic() - started < 600:
            tries += 1
            if login(url, "geheim") == 200:
                back_at = time.monotonic() - started
                break
            time.sleep(5)
        from gradio_client import Client

        _, chat, _ = Client(url, auth=("anna", "geheim"), verbose=False).predict(QUESTION, api_name="/chat")
        answered = "70.000" in message_text(chat[-1])
    finally:
        app.terminate()
        app.wait(30)
    counts = ", ".join(f"{n} × HTTP {status}" for status, n in sorted(Counter(statuses).items()))
    lines = [
        "# Login flood against the page's login",
        "",
        f"- Date: {datetime.now().isoformat(timespec='seconds')}; nproc: {os.cpu_count()}; command: "
        f"`python bench/login_flood.py --guesses {args.guesses}`; settings: QA_LOGIN_LOCKOUT_AFTER="
        f"{os.environ.get('QA_LOGIN_LOCKOUT_AFTER', '10 (default)')}, QA_LOGIN_LOCKOUT_S="
        f"{os.environ.get('QA_LOGIN_LOCKOUT_S', '120 (default)')}",
        f"- {args.guesses} wrong logins sent at once: {counts}; all answered after {flood:.1f} s "
        f"(target: at least {args.guesses} s, one a second overall)",
        f"- The right login worked again {back_at:.1f} s after the flood began ({tries} tries, every 5 s; "
        "target: within 5 minutes)" if back_at else "- The right login did NOT work again within 10 minutes",
        f"- `Client(url, auth=…).predict(question, api_name=\"/chat\")` with the question alone: "
        f"{'answered (70.000 cited)' if answered else 'NOT answered'}",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    sys.exit(0 if flood >= args.guesses and back_at and back_at <= 300 and answered else 1)


if __name__ == "__main__":
    main()
