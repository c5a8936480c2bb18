"""Reading article files, in the format their suffix names (in upper or lower case); the parsers of the
formats beyond ``.txt`` are in ``qa.formats``.

One article per file; its id is the file name:

- ``.txt``: a first line `` date YYYY-MM`` or `` date YYYY-MM-DD`` (the rest of that line is text), an
  optional headline, then paragraphs separated by blank lines. UTF-8, or UTF-16 (UTF-32) when the file
  starts with its byte-order mark (Notepad's "Unicode").
- ``.md`` / ``.markdown``: the same first line (``date YYYY-MM`` or ``date YYYY-MM-DD``), or a front matter
  block between two ``---`` lines with ``title:``, ``date:`` and optional ``url:`` and ``source:``. A leading
  ``# Heading`` is the title. Markdown syntax is removed: heading marks, emphasis, links (their text stays),
  images, list bullets, quote marks and code fences (the code stays). Encoded like ``.txt``.
- ``.html`` / ``.htm``: a saved web page. trafilatura takes out the article's text, title, canonical address
  and site name, leaving menus, cookie banners, scripts, ads and the footer behind; the date comes from the
  page's markup (meta tags, JSON-LD, the address, ``<time>``), else htmldate searches the text. Decoded by
  its byte-order mark or declared charset, else as UTF-8. Nothing is ever fetched from the network.

Many articles per file, one per record; ids are ``"<file name>:<key>"`` (see ``belongs_to``), the key being
the first 10 hex digits of the SHA-1 of the record's url, else of ``"<title>|<date>"``, with ``-2``, ``-3`` for
repeats within the file: a key stays when rows are added or moved.

- ``.jsonl``: one JSON object per line with ``title``, ``date``, ``text`` and optional ``url`` and ``source``.
- ``.csv``: a header row naming those columns, then one row per article, fields separated by ``,`` or ``;``
  (whichever the header uses); a field holding the separator, a quote or a line break is put in quotes.

Records files are UTF-8 (with or without a byte-order mark) and read as a stream. A record's date is
YYYY-MM, YYYY-MM-DD, an ISO date-time (its own calendar day, whatever the zone) or DD.MM.YYYY; a missing
title is taken from the text. A bad record becomes a ``Problem`` naming its line (JSONL) or row (CSV, the
header being row 1), and the rest of the file is still read.

Every article's text is paragraphs separated by one blank line, each paragraph's whitespace collapsed to
single spaces. A file that cannot be read becomes a ``Problem`` (named file, plain reason) instead of an
exception, so one bad file never costs the rest of the folder; so does an article's name in a folder that
is no regular file (a pipe, a socket, a link that loops or points to nothing), which is never opened. A
path that does not exist at all is an ``ArticleError``.
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
from typing import Callable, Iterable, Iterator

from qa.errors import ArticleError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".csv")
_RECORD_SUFFIXES = (".jsonl", ".csv")
MAX_ARTICLE_BYTES = 5_000_000
# The first line of a .txt or .md article: the date (YYYY-MM or YYYY-MM-DD), then text or nothing.
_DATE_LINE = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}(?:-\d{2})?)(?![\d-])[ \t]*(.*)\Z")
# A line that is only an advertisement label carries no news.
_AD_MARKERS = {"anzeige", "werbung", "advertisement", "sponsored", "gesponsert"}
_HEADLINE_MAX = 160
_TITLE_MAX = 90
# UTF-32's little-endian mark starts with UTF-16's, so it is looked for first.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
_RECORD_KEY = re.compile(r"[0-9a-f]{10}(-\d+)?")


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


def belongs_to(article_id: str, file_name: str) -> bool:
    """Whether ``article_id`` is the article of the file named ``file_name``, or one of its records."""
    if article_id == file_name:
        return True
    prefix, sep, key = article_id.rpartition(":")
    return bool(sep) and prefix == file_name and _RECORD_KEY.fullmatch(key) is not None


# --- one article per file ----------------------------------------------------------------------------------

def parse_article(path: Path, data: bytes) -> Article:
    """Parse the bytes of one ``.txt``, ``.md`` or ``.html`` file; raise ``ArticleError`` saying what is wrong."""
    return _single_parser(path)(path, data)


def _single_parser(path: Path) -> Callable[[Path, bytes], Article]:
    suffix = _suffix(path)
    if suffix in _RECORD_SUFFIXES:
        raise ArticleError(f"a {suffix} file holds one article per record; read it with read_articles")
    from qa.formats import parse_html, parse_markdown  # they build on this module

    parsers = {".txt": _parse_txt, ".md": parse_markdown, ".markdown": parse_markdown,
               ".html": parse_html, ".htm": parse_html}
    if suffix not in parsers:
        raise ArticleError(f"unsupported file type {suffix or '(no suffix)'}; "
                           "articles are .txt, .md, .html, .jsonl or .csv")
    return parsers[suffix]


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _parse_txt(path: Path, data: bytes) -> Article:
    lines = _lines(_decode(data))
    header = _DATE_LINE.match(lines[0])
    if not header:
        raise ArticleError("missing the date header: the first line must start with 'date YYYY-MM' "
                           "or 'date YYYY-MM-DD'")
    written, rest = header.groups()
    if not 1 <= int(month := written[5:7]) <= 12:
        raise ArticleError(f"the date header has month {month}; expected 01 to 12")
    date = _parse_date(written)

    paragraphs = _paragraphs([rest] + lines[1:])
    if not paragraphs:
        raise ArticleError("the article has a date header but no text")
    headline = ""
    if len(paragraphs) > 1 and _looks_like_headline(paragraphs[0]):
        headline = paragraphs.pop(0)
    return _file_article(path, data, date, paragraphs, title=headline)


def _file_article(path: Path, data: bytes, date: str, paragraphs: list[str], *, title: str = "",
                  url: str = "", source: str = "") -> Article:
    text = "\n\n".join(paragraphs)
    return Article(id=path.name, path=path, title=title or _title_from(text), date=date, text=text,
                   sha256=hashlib.sha256(data).hexdigest(), url=url, source=source)


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
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


def _lines(text: str) -> list[str]:
    if not text.strip():
        raise ArticleError("the file is empty")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs, current = [], []
    for line in lines + [""]:
        line = " ".join(line.split())  # tabs, non-breaking and repeated spaces become one space
        if line and line.lower().rstrip(":") not in _AD_MARKERS:
            current.append(line)
        elif not line and current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _looks_like_headline(paragraph: str) -> bool:
    return len(paragraph) <= _HEADLINE_MAX and not paragraph.endswith((".", "!", "?", ":", '"', "“", "”"))


def _title_from(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s", text.split("\n", 1)[0], maxsplit=2)
    # A dateline ("Washington.") is no title: take the sentence after it.
    first = sentences[1] if len(sentences) > 1 and len(sentences[0].split()) <= 2 else sentences[0]
    if len(first) <= _TITLE_MAX:
        return first
    cut = first.rfind(" ", 0, _TITLE_MAX)
    return first[: cut if cut > 0 else _TITLE_MAX].rstrip(",;:") + " …"


def _parse_date(value: str) -> str:
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


# --- reading files -----------------------------------------------------------------------------------------

def read_article(path: Path) -> Article:
    """Read one ``.txt``, ``.md`` or ``.html`` file; ``ArticleError`` (with the file's name) when it cannot be used.

    Only a regular file is opened: reading a named pipe would wait for a writer forever.
    """
    with _about(path):
        parse = _single_parser(path)
        _check_file(path, MAX_ARTICLE_BYTES, "articles")
        return parse(path, path.read_bytes())


@contextmanager
def _about(path: Path) -> Iterator[None]:
    """Turn what goes wrong with ``path`` into an ``ArticleError`` that starts with its name."""
    try:
        _check_name(path.name)
        yield
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ArticleError(f"{path}: {_os_reason(path, exc)}") from None


def _check_file(path: Path, max_bytes: int, what: str) -> None:
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


# --- finding and reading many files ------------------------------------------------------------------------

def find_article_files(paths: Iterable[Path | str]) -> list[Path]:
    """The article files named by ``paths`` (files, or folders searched recursively), in a stable order.

    In a folder, every name ending in one of ``SUPPORTED_SUFFIXES`` (in any case) that is not a folder: a
    pipe or a broken link among them is refused by ``read_articles`` with its reason, not left out without
    a word. Hidden files and folders (a leading dot: ``.git``, the chat's ``.incoming`` uploads) are left
    out. A file named on its own is always taken, and refused there if its type is unsupported.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _suffix(p) in SUPPORTED_SUFFIXES and not p.is_dir()
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise ArticleError(f"{path} is neither a file nor a folder")
        elif path.is_symlink():
            raise ArticleError(f"{path} is a symbolic link that loops or points to nothing")
        else:
            raise ArticleError(f"{path} does not exist; give a folder or a file of articles")
    return found


def read_articles(paths: Iterable[Path | str]) -> tuple[list[Article], list[Problem]]:
    """Every readable article under ``paths``, and a ``Problem`` for each file or record that was skipped.

    Two files with the same name would share ids; the second one is skipped.
    """
    articles: list[Article] = []
    problems: list[Problem] = []
    read: dict[str, Path] = {}
    for path in find_article_files(paths):
        try:
            found, skipped = _records(path) if _suffix(path) in _RECORD_SUFFIXES else ([read_article(path)], [])
        except ArticleError as exc:
            problems.append(Problem(path, str(exc).removeprefix(f"{path}: ")))
            continue
        if path.name in read:
            problems.append(Problem(path, f"another file named {path.name} was read first ({read[path.name]}); "
                                          "article ids are file names"))
            continue
        read[path.name] = path
        articles += found
        problems += skipped
    return articles, problems


def _records(path: Path) -> tuple[list[Article], list[Problem]]:
    from qa.formats import read_records  # it builds on this module

    return read_records(path)
