"""Files uploaded through the chat page: which are added to the index, under which names, and which are
refused or held back, and why.

An uploaded file is kept in the upload folder (QA_UPLOAD_DIR) under its own name, cleaned of characters
that would disguise it, and its articles get ids ``upload/<name>`` that no other article can have. A file
whose name an earlier upload brought replaces it only when asked to; a second file of one name in the same
upload is kept under a name of its own (``name-2.txt``), or skipped when its bytes are the first one's.

>>> stored_name("rechnung\\u202etxt.exe")
'rechnungtxt.exe'
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.formats import SUPPORTED_SUFFIXES
from qa.german import german
from qa.render import number

if TYPE_CHECKING:
    from qa.sync import IngestReport

# The namespace of uploaded articles' ids: no file name holds a "/", so no article ingested from a folder,
# the CLI or Python has an id in it, and an upload can never replace one of those.
UPLOADS = "upload/"


@dataclass(frozen=True)
class Upload:
    """What an upload did: the report as HTML, the full list of what was skipped as a text file (None when
    nothing was), and the names held back because an earlier upload brought a file of that name."""

    html: str
    skipped_file: Path | None = None
    held_back: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.html


@dataclass
class UploadPlan:
    staged: dict[str, Path] = field(default_factory=dict)   # the name it is kept as -> the given file
    refused: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)


def plan_upload(given: list[Path], uploaded: set[str], folder: Path, max_mb: int, replace: bool) -> UploadPlan:
    """Which of the ``given`` files are added, under which names, and which are refused or held back.

    ``uploaded``: the names of the files earlier uploads brought (held back unless ``replace``). A second
    file of one name in the same upload gets a name of its own, unless its bytes are an earlier one's."""
    plan = UploadPlan()
    origin: dict[str, str] = {}      # the name it is kept as -> the name it was given with
    for path in given:
        name = stored_name(path.name)
        reason = upload_problem(path, name, max_mb)
        if reason:
            plan.refused.append((path.name, reason))
            continue
        if name in plan.staged:
            twin = next((kept for kept, was in origin.items()
                         if was == name and plan.staged[kept].read_bytes() == path.read_bytes()), None)
            if twin:
                plan.refused.append((name, f"derselbe Inhalt wie {twin} in diesem Upload; einmal hinzugefügt"))
                continue
            first, name = name, _free_name(name, set(plan.staged) | uploaded | {p.name for p in folder.glob("*")})
            plan.notes.append(f"{first}: noch eine Datei dieses Namens im selben Upload; gespeichert als {name}")
        elif name in uploaded and not replace:
            if name not in plan.held_back:
                plan.held_back.append(name)
            continue
        plan.staged[name], origin[name] = path, stored_name(path.name)
    return plan


def stored_name(name: str) -> str:
    """An uploaded file's name as it is kept: without control and format characters (a right-to-left
    override would show ``txt.exe`` as ``exe.txt``), surrounding spaces removed."""
    return "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()


def _free_name(name: str, taken: set[str]) -> str:
    """``name`` with ``-2``, ``-3`` … before its suffix: the first that is not in ``taken``."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return next(f"{stem}-{n}{suffix}" for n in range(2, len(taken) + 3) if f"{stem}-{n}{suffix}" not in taken)


def upload_problem(path: Path, name: str, max_mb: int) -> str:
    """Why an uploaded file (kept as ``name``) is refused, or "" when it may be read."""
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return (f"Dateityp {Path(name).suffix or '(keiner)'} wird nicht gelesen; Artikel sind "
                + ", ".join(SUPPORTED_SUFFIXES) + "-Dateien")
    if not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        return "der Dateiname muss ein einfacher Name sein, der nicht mit einem Punkt beginnt; bitte umbenennen"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"die Datei ist nicht lesbar ({exc.strerror})"
    if size > max_mb * 1024 * 1024:
        return f"die Datei hat {number(size)} Bytes; die Seite nimmt Dateien bis {max_mb} MB (QA_MAX_UPLOAD_MB)"
    return ""


def skipped(report: IngestReport | None, refused: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(file name, reason) of everything an upload skipped: files refused by the page, then files and
    records the reader could not use."""
    return [*refused, *((p.path.name, p.reason) for p in (report.skipped if report else ()))]


def skip_list(skips: list[tuple[str, str]], folder: Path) -> Path | None:
    """The whole list of what was skipped, one "file: reason" line each, as a file the page offers for
    download (None when nothing was), written to ``folder``."""
    if not skips:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"uebersprungen-{uuid.uuid4().hex[:8]}.txt"
    path.write_text("".join(f"{name}: {german(reason)}\n" for name, reason in skips), encoding="utf-8")
    return path

