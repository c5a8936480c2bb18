"""`make run` as a new user runs it: a fresh clone, then the time until the chat prints its address and until
its first answer (through the `/chat` API, as soon as the address is printed).

    python bench/first_run.py [--port 7880] [--keep]

Clones this checkout's HEAD into a temporary folder (pip's download cache, the llama.cpp wheel and the
converted embedding model in ~/.cache are used as they are), runs `make run` there, and stops it afterwards.
Run it alone: it installs and loads models on the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7880)
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    clone = Path(tempfile.mkdtemp(prefix="qa-first-run-")) / "qa"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith("QA_")}
    env["GRADIO_SERVER_PORT"] = str(args.port)
    log = clone.parent / "make-run.log"
    url = f"http://127.0.0.1:{args.port}/"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        while url not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() - started > 1200:
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                return 1
            time.sleep(0.5)
        listening = time.monotonic() - started
        # The clone's own venv has gradio_client; asked from there, as a user's script would.
        ask = subprocess.run([str(clone / ".venv/bin/python"), "-c", _ASK, url, QUESTION], capture_output=True,
                             text=True, env={**env, "HF_HUB_OFFLINE": "1"}, timeout=600)
        answered = time.monotonic() - started
        print(f"address printed after {listening:.1f} s; first answer {answered - listening:.1f} s later "
              f"({answered:.1f} s after `make run`)")
        print(f"answer: {ask.stdout.strip() or ask.stderr.strip()[-500:]}")
        return ask.returncode
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        if args.keep:
            print(f"clone kept at {clone}")
        else:
            subprocess.run(["rm", "-rf", str(clone.parent)], check=False)


_ASK = """
import re, sys
from gradio_client import Client
_, chat, _ = Client(sys.argv[1], verbose=False).predict(sys.argv[2], [], "Schnell (zitierte Sätze)", api_name="/chat")
content = chat[-1]["content"]
content = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
print(re.sub(r"<[^>]+>", "", re.search(r'<div class="qa-answer[^"]*">(.*?)</div>', content, re.S).group(1)))
"""

if __name__ == "__main__":
    sys.exit(main())
