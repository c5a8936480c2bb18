#!/usr/bin/env bash
# Start `chroma run` on 127.0.0.1 for the server-mode tests, run the given command, stop the server.
set -euo pipefail
bin=$(dirname "$0")/../.venv/bin
data=$(mktemp -d)
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin/chroma" run --path "$data" --host 127.0.0.1 --port "$port" > "$data.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data" "$data.log"; }
trap cleanup EXIT
up=
for _ in $(seq 1 150); do
  if "$bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/api/v2/heartbeat', timeout=1)" 2>/dev/null; then
    up=1
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
[ -n "$up" ] || { echo "chroma run did not start on 127.0.0.1:$port:"; cat "$data.log"; exit 1; }
echo "Chroma server for the tests on 127.0.0.1:$port"
QA_TEST_CHROMA_PORT=$port "$@"
