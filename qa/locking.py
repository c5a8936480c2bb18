"""Who may change the index, and how readers learn that it changed.

Three guarantees, for the embedded index (file locks in its folder) and for a Chroma server (records in
collections beside the index's own):

- **One writer at a time.** A sync holds the writer lock from its first read of the index to its last
  write; a second one waits, saying for whom, and then syncs against what the first one left.
- **No half-written article for readers.** Each batch of writes (delete and re-add of whole articles)
  holds the batch lock exclusively; a question holds it shared while it reads the index, so it sees the
  index before a batch or after it. (Embedded only: a Chroma server serves each call on its own.)
- **A generation stamp**, changed after every batch. A reader compares it before each question and
  refreshes what it derived from the index (its Chroma client, the BM25 index) when it differs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

WRITER_FILE = ".qa-writer.lock"
BATCH_FILE = ".qa-batch.lock"
OPEN_FILE = ".qa-open.lock"   # Chroma's first open creates its tables: two processes at once collide
TURN_FILE = ".qa-turn.lock"   # taken before the batch lock: a waiting writer stops new readers, so it never starves
GENERATION_FILE = "qa-generation"
STALE_AFTER_S = 120      # a server lock whose writer sent no sign of life for this long was left by a crash
_POLL_S = 0.5


def _holder_text(info: dict) -> str:
    since = time.strftime("%H:%M:%S", time.localtime(info.get("since", 0)))
    return f"process {info.get('pid', '?')} on {info.get('host', '?')}, since {since}"


def _me() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}


class FolderLocks:
    """The embedded index's locks and stamp: files in its folder, locked with ``flock``.

    ``flock`` locks belong to an open file, so two threads of one process exclude each other as two
    processes do, and a process that dies releases its locks with its files.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._local = threading.local()

    def _file(self, name: str):
        return open(self.folder / name, "a+", encoding="utf-8")

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        with self._file(WRITER_FILE) as f:
            if not _try_flock(f, fcntl.LOCK_EX):
                f.seek(0)
                log.warning("another ingest into %s is running (%s); waiting for it to finish …", self.folder,
                            _holder_text(_json_or_empty(f.read())))
                fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            f.truncate()
            f.write(json.dumps(_me()))
            f.flush()
            try:
                yield
            finally:
                f.truncate(0)
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def opening(self) -> Iterator[None]:
        """Exclusive while a process opens the folder's database (and creates it, the first time)."""
        with self._file(OPEN_FILE) as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Exclusive: readers wait until the batch is written and the stamp changed."""
        with self._file(TURN_FILE) as turn, self._file(BATCH_FILE) as f:
            fcntl.flock(turn, fcntl.LOCK_EX)
            fcntl.flock(f, fcntl.LOCK_EX)
            fcntl.flock(turn, fcntl.LOCK_UN)
            try:
                yield
            finally:  # a batch that failed halfway changed the index too
                self._write_generation()
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Shared, and re-entrant within a thread: a question's reads see one state of the index."""
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._file(TURN_FILE) as turn, self._file(BATCH_FILE) as f:
            fcntl.flock(turn, fcntl.LOCK_EX)  # held only while taking the shared lock
            fcntl.flock(f, fcntl.LOCK_SH)
            fcntl.flock(turn, fcntl.LOCK_UN)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(f, fcntl.LOCK_UN)

    def generation(self) -> str:
        try:
            return (self.folder / GENERATION_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def _write_generation(self) -> None:
        tmp = self.folder / f".{GENERATION_FILE}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
        os.replace(tmp, self.folder / GENERATION_FILE)


class ServerLocks:
    """A Chroma server's writer lock and stamp, as collections next to the index's own.

    Creating a collection is atomic on the server: of two writers creating the lock collection, one
    gets an error and waits. The holder renews its record with each batch; one left by a writer that
    died is taken over after ``STALE_AFTER_S`` without renewal.
    """

    def __init__(self, client, name: str) -> None:
        self.client = client
        self.lock_name = f"{name}-writer"
        self.state_name = f"{name}-state"
        self._lock = None

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        said = False
        while True:
            me = {**_me(), "beat": time.time()}
            try:
                self._lock = self.client.create_collection(self.lock_name, metadata=me, embedding_function=None)
                break
            except Exception as exc:
                if "already exists" not in str(exc):
                    raise
            held = self._held()
            if held is None:
                continue  # released between our two calls
            if time.time() - float(held.get("beat", 0)) > STALE_AFTER_S:
                log.warning("taking over the lock of %s: it gave no sign of life for %d s", _holder_text(held),
                            STALE_AFTER_S)
                self._delete_lock()
                continue
            if not said:
                log.warning("another ingest into %s is running (%s); waiting for it to finish …", self.lock_name,
                            _holder_text(held))
                said = True
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            self._lock = None
            self._delete_lock()

    def _held(self) -> dict | None:
        try:
            return dict(self.client.get_collection(self.lock_name).metadata or {})
        except Exception:
            return None

    def _delete_lock(self) -> None:
        with contextlib.suppress(Exception):
            self.client.delete_collection(self.lock_name)

    def _beat(self) -> None:
        if self._lock is not None:
            self._lock.modify(metadata={**(self._lock.metadata or {}), "beat": time.time()})

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._beat()
            self._state().modify(metadata={"generation": uuid.uuid4().hex})

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        yield

    def generation(self) -> str:
        return str((self._state().metadata or {}).get("generation", ""))

    def _state(self):
        return self.client.get_or_create_collection(self.state_name, embedding_function=None)


def _try_flock(f, kind: int) -> bool:
    try:
        fcntl.flock(f, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _json_or_empty(text: str) -> dict:
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
