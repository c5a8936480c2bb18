"""What every article format shares: the ``Article`` and the ``Problem`` the readers give, the checks a file
passes before it is opened, and the rules that make a file's text an article's: decoding, paragraphs, the
title, the date.

Every article's text is paragraphs separated by one blank line, each paragraph's whitespace collapsed to
single spaces. What goes wrong with a file becomes an ``ArticleError`` that starts with its name (``about``).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date as Date, datetime
from pathlib import Path
from typing import Iterator

from qa.errors import ArticleError

# The first line of a .txt or .md article: the date (YYYY-MM or YYYY-MM-DD), then text or nothing.
DATE_LINE = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}(?:-\d{2})?)(?![\d-])[ \t]*(.*)\Z")
# A line that is only an advertisement label carries no news.
_AD_MARKERS = {"anzeige", "werbung", "advertisement", "sponsored", "gesponsert"}
_TITLE_MAX = 90
# UTF-32's little-endian mark starts with UTF-16's, so it is looked for first.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True)
class Article:
    id: str          # the file name, or "<file name>:<key>" for a record: stable across runs, unique in an index
    path: Path
    title: str       # the headline, or the start of the first sentence when there is none
    date: str        # YYYY-MM, or YYYY-MM-DD when the source gives the day
    text: str        # clean text, paragraphs separated by a blank line; chunk offsets point into it
    sha256: str      # of the file's bytes, or of a record's fields: any change re-indexes just that article
    url: str = ""    # the article's web address, when known
    source: str = ""  # the publisher or site ("tagesschau.de"), when known


@dataclass(frozen=True)
class Problem:
    """A file (or one record of it) that was skipped, and why."""

    path: Path
    reason: str
    record: bool = False  # one record of an export: the file's other articles were read

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def suffix_of(path: Path) -> str:
    """The suffix that names ``path``'s format, in lower case."""
    return path.suffix.lower()


# --- before a file is opened -------------------------------------------------------------------------------

@contextmanager
def about(path: Path) -> Iterator[None]:
    """Turn what goes wrong with ``path`` into an ``ArticleError`` that starts with its name."""
    try:
        _check_name(path.name)
        yield
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ArticleError(f"{path}: {_os_reason(path, exc)}") from None


def check_file(path: Path, max_bytes: int, what: str) -> None:
    """Refuse what is no regular file (reading a named pipe would wait for a writer forever) or is too large."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        kind = next((kind for test, kind in _KINDS if test(info.st_mode)), "a special file")
        raise ArticleError(f"this is {kind}, not a regular file; articles are plain text files")
    if info.st_size > max_bytes:
        raise ArticleError(f"the file has {info.st_size:,} bytes; {what} over {max_bytes:,} bytes are refused")


def _check_name(name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # Python keeps the bytes of a name that is not UTF-8 as lone surrogates
        raise ArticleError("the file name is not UTF-8 text; rename the file (its name is the article's id)") from None


def _os_reason(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link that loops (it leads back to itself); fix or remove the link"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"a symbolic link to {os.readlink(path)}, which does not exist; fix or remove the link"
    return f"cannot be read ({exc.strerror})"


# --- from a file's text to an article's --------------------------------------------------------------------

def file_article(path: Path, data: bytes, date: str, paragraphs: list[str], *, title: str = "",
                 url: str = "", source: str = "") -> Article:
    """The article of a file of one article; its id is the file's name."""
    text = "\n\n".join(paragraphs)
    return Article(id=path.name, path=path, title=title or title_from(text), date=date, text=text,
                   sha256=hashlib.sha256(data).hexdigest(), url=url, source=source)


def decode(data: bytes) -> str:
    """A text file's bytes as text: UTF-8, or UTF-16 (UTF-32) when it starts with its byte-order mark."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            name = encoding[:6].upper()
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ArticleError(f"not {name} text, though it starts with the {name} byte-order mark (bad "
                                   f"bytes at offset {len(bom) + exc.start}); save the file as UTF-8") from None
            if "\x00" in text[:8192]:
                raise ArticleError("this is a binary file, not a text article")
            return text
    if b"\x00" in data[:8192]:
        raise ArticleError("this is a binary file, not a text article")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                           "save the file as UTF-8") from None


def text_lines(text: str) -> list[str]:
    """The lines of a file's text, whatever its line ends; an empty file is refused."""
    if not text.strip():
        raise ArticleError("the file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def paragraphs_of(lines: list[str]) -> list[str]:
    """The paragraphs of ``lines``: blank lines separate them, whitespace is collapsed, ad labels are left out."""
    paragraphs, current = [], []
    for line in lines + [""]:
        line = " ".join(line.split())  # tabs, non-breaking and repeated spaces become one space
        if line and line.lower().rstrip(":") not in _AD_MARKERS:
            current.append(line)
        elif not line and current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def title_from(text: str) -> str:
    """A title for an article without a headline: the start of its first sentence."""
    sentences = re.split(r"(?<=[.!?])\s", text.split("\n", 1)[0], maxsplit=2)
    # A dateline ("Washington.") is no title: take the sentence after it.
    first = sentences[1] if len(sentences) > 1 and len(sentences[0].split()) <= 2 else sentences[0]
    if len(first) <= _TITLE_MAX:
        return first
    cut = first.rfind(" ", 0, _TITLE_MAX)
    return first[: cut if cut > 0 else _TITLE_MAX].rstrip(",;:") + " …"


def parse_date(value: str) -> str:
    """YYYY-MM or YYYY-MM-DD from YYYY-MM, YYYY-MM-DD, an ISO date-time or DD.MM.YYYY."""
    try:
        if month := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return Date(int(month[1]), int(month[2]), 1).isoformat()[:7]
        if german := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value):
            return Date(int(german[3]), int(german[2]), int(german[1])).isoformat()
        # The day as written, not converted to UTC: 21:30 on the 7th in Berlin is news of the 7th.
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        raise ArticleError(f"the date {value!r} is not a date; write it as YYYY-MM-DD "
                           "(YYYY-MM, DD.MM.YYYY and ISO date-times are read too)") from None
