"""The index folder on disk, checked before Chroma touches it: a folder that is not this product's index, a
read-only one or a full disk is refused with the reason and what to do, instead of a half-written index or a
Chroma that hangs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError
from qa.locking import BATCH_FILE, GENERATION_FILE, OPEN_FILE, TURN_FILE, WRITER_FILE

MARKER_FILE = "qa-index.json"
_OURS = {MARKER_FILE, GENERATION_FILE, WRITER_FILE, BATCH_FILE, TURN_FILE, OPEN_FILE}


def check_index_folder(folder: Path, collection: str) -> None:
    """Refuse a folder that is not (or cannot become) this product's index, with the reason and the fix.

    An empty or missing folder becomes an index. One with our marker file is ours; one without it is
    ours only when its Chroma database holds our collections (an index built before the marker).
    """
    if folder.exists() and not folder.is_dir():
        raise QAError(f"the index location {folder} is a file, not a folder; set QA_INDEX_DIR to a folder "
                      "(it is created when missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        names = set(os.listdir(folder))
    except OSError as exc:
        raise QAError(f"cannot create the index folder {folder}: {exc.strerror}; set QA_INDEX_DIR to a "
                      "folder you can write to") from None
    if MARKER_FILE not in names:
        others = sorted(n for n in names if n not in _OURS and not n.startswith(f".{GENERATION_FILE}."))
        if others and not _holds_our_collections(folder, collection):
            shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
            raise QAError(f"the folder {folder} holds other data ({shown}), not an index of this program; "
                          "set QA_INDEX_DIR to an empty or new folder")
    if not os.access(folder, os.W_OK) or not all(
            os.access(folder / n, os.W_OK) for n in ("chroma.sqlite3", MARKER_FILE) if (folder / n).exists()):
        raise QAError(f"the index at {folder} is read-only, and Chroma writes to its folder even to answer; "
                      f"make it writable (chmod -R u+w {folder}) or copy it to a writable folder and set "
                      "QA_INDEX_DIR to the copy")
    if MARKER_FILE not in names:
        (folder / MARKER_FILE).write_text('{"format": 1, "program": "qa-news"}\n', encoding="utf-8")


def _holds_our_collections(folder: Path, collection: str) -> bool:
    """Whether ``folder``'s Chroma database has collections of ours; read without changing the file."""
    database = folder / "chroma.sqlite3"
    if not database.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            names = [row[0] for row in db.execute("SELECT name FROM collections")]
    except sqlite3.Error:
        return False
    return any(name.startswith(f"{collection}-") for name in names)


MIN_FREE_BYTES = 64 * 2**20  # below this Chroma's writes can fail, or hang, halfway


def check_free_space(folder: Path) -> None:
    """Refuse a batch before it starts when the disk is (nearly) full: Chroma may hang on a full disk."""
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise _disk_full(folder, free)


def _disk_full(folder: Path, free: int, chroma_said: str = "") -> QAError:
    said = f" (Chroma said: {chroma_said[:200]})" if chroma_said else ""
    return QAError(f"the disk holding the index ({folder}) is full ({free / 2**20:.0f} MiB free, "
                   f"{MIN_FREE_BYTES // 2**20} MiB needed): free some space and run the same ingest again; "
                   f"what was written is kept and the next run completes it{said}")


def write_error(exc: Exception, settings: Settings) -> QAError:
    """A failed write as a sentence: a full disk or a read-only index said plainly, with what to do."""
    text = f"{type(exc).__name__}: {exc}"
    where = settings.index_dir if not settings.server_mode else None
    if where is not None:
        free = shutil.disk_usage(where).free if where.exists() else None
        full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left" in text or (
            free is not None and free < MIN_FREE_BYTES)
        if full:
            return _disk_full(where, free or 0, text)
        if "readonly" in text.replace("-", "").replace(" ", "").lower():
            return QAError(f"the index at {where} is read-only; make it writable (chmod -R u+w {where}) and run "
                           "the ingest again")
    return QAError(f"writing to the index at {settings.index_dir if where else 'the Chroma server'} failed: "
                   f"{text[:300]}; what was written is kept, and the next ingest completes it")
