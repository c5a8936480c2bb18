"""Shared fixtures: a real Chroma per test (embedded in tmp_path, or the test server), one real embedder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import qa  # noqa: F401  (sets the offline environment first)
from qa.config import Settings
from qa.embedding import Embedder
from qa.store import ChunkStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CACHE = Settings.from_env({}).cache_dir


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    """No developer setting leaks into a test; the default index lives in the test's tmp folder."""
    for name in list(os.environ):
        if name.startswith("QA_") and name != "QA_TEST_CHROMA_PORT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "default-index"))
    monkeypatch.setenv("QA_CACHE_DIR", str(CACHE))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder(cache_dir=CACHE)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """(host, port) of a running `chroma run`: the one `make test` started, or one started here."""
    port = os.environ.get("QA_TEST_CHROMA_PORT")
    if port:
        yield "127.0.0.1", int(port)
        return
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if not chroma:
        pytest.fail("the `chroma` command is not installed; run `make test`")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("`chroma run` did not start")
                time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def settings(request, tmp_path) -> Settings:
    """Settings for a fresh, empty index: embedded in tmp_path, or a new collection on the Chroma server."""
    base = Settings.from_env().with_(index_dir=tmp_path / "index", seeds_dir=SEEDS)
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        return base.with_(chroma_host=host, chroma_port=port, collection=f"t{uuid.uuid4().hex[:12]}")
    return base


@pytest.fixture
def store(settings) -> ChunkStore:
    return ChunkStore(settings)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the seed articles."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """An expected failure marked ``fails_at(label)`` counts only when the assertion that failed is the one
    named: its message starts with ``label:``. Any other failure, a crash or another assertion, is reported
    as a failure, so an xfail cannot hide a change in what goes wrong."""
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("fails_at")
    if marker is None or call.when != "call" or not hasattr(report, "wasxfail") or call.excinfo is None:
        return
    label = marker.args[0]
    got = str(call.excinfo.value)
    if not got.startswith(f"{label}:"):
        del report.wasxfail
        report.outcome = "failed"
        report.longrepr = (f"expected to fail at the '{label}' assertion, failed otherwise: "
                           f"{call.excinfo.typename}: {got[:500]}")
