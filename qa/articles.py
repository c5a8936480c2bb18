"""Reading article files: ``.txt`` with a `` date YYYY-MM`` header, an optional headline, then paragraphs.

The text is UTF-8, or UTF-16 (UTF-32) when the file starts with its byte-order mark (Notepad's "Unicode").
A file that cannot be read becomes a ``Problem`` (named file, plain reason) instead of an exception, so one
bad file never costs the rest of the folder; so does a ``.txt`` name in a folder that is no regular file
(a pipe, a socket, a link that loops or points to nothing), which is never opened. A path that does not
exist at all is an ``ArticleError``.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from qa.errors import ArticleError

MAX_ARTICLE_BYTES = 5_000_000
_HEADER = re.compile(r"\A[ \t]*date[ \t]+(\d{4})-(\d{2})(?![\d-])[ \t]*(.*)\Z")
# A line that is only an advertisement label carries no news.
_AD_MARKERS = {"anzeige", "werbung", "advertisement", "sponsored", "gesponsert"}
_HEADLINE_MAX = 160
_TITLE_MAX = 90
# UTF-32's little-endian mark starts with UTF-16's, so it is looked for first.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True)
class Article:
    id: str          # the file name: stable across runs, unique within an index
    path: Path
    title: str       # the headline, or the start of the first sentence when there is none
    date: str        # YYYY-MM
    text: str        # clean text, paragraphs separated by a blank line; chunk offsets point into it
    sha256: str      # of the file's bytes: any change to the file re-indexes it


@dataclass(frozen=True)
class Problem:
    """A file that was skipped, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def parse_article(path: Path, data: bytes) -> Article:
    """Parse the bytes of one article file; raise ``ArticleError`` saying what is wrong with it."""
    raw = _decode(data)
    if not raw.strip():
        raise ArticleError("the file is empty")
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = _HEADER.match(lines[0])
    if not header:
        raise ArticleError("missing the date header: the first line must start with 'date YYYY-MM'")
    year, month, rest = header.groups()
    if not 1 <= int(month) <= 12:
        raise ArticleError(f"the date header has month {month}; expected 01 to 12")

    paragraphs = _paragraphs([rest] + lines[1:])
    if not paragraphs:
        raise ArticleError("the article has a date header but no text")
    headline = None
    if len(paragraphs) > 1 and _looks_like_headline(paragraphs[0]):
        headline = paragraphs.pop(0)
    text = "\n\n".join(paragraphs)
    return Article(id=path.name, path=path, title=headline or _title_from(text), date=f"{year}-{month}",
                   text=text, sha256=hashlib.sha256(data).hexdigest())


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


def read_article(path: Path) -> Article:
    """Read one file; ``ArticleError`` (with the file's name) when it cannot be used.

    Only a regular file is opened: reading a named pipe would wait for a writer forever.
    """
    try:
        _check_name(path.name)
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            kind = next((kind for test, kind in _KINDS if test(info.st_mode)), "a special file")
            raise ArticleError(f"this is {kind}, not a regular file; articles are plain text files")
        if info.st_size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"the file has {info.st_size:,} bytes; "
                               f"articles over {MAX_ARTICLE_BYTES:,} bytes are refused")
        return parse_article(path, path.read_bytes())
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ArticleError(f"{path}: {_os_reason(path, exc)}") from None


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


def find_article_files(paths: Iterable[Path | str]) -> list[Path]:
    """The ``.txt`` files named by ``paths`` (files, or folders searched recursively), in a stable order.

    In a folder, every name ending in ``.txt`` (or ``.TXT``) that is not a folder: a pipe or a broken link
    among them is refused by ``read_article`` with its reason, not left out without a word.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".txt" and not p.is_dir()))
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise ArticleError(f"{path} is neither a file nor a folder")
        elif path.is_symlink():
            raise ArticleError(f"{path} is a symbolic link that loops or points to nothing")
        else:
            raise ArticleError(f"{path} does not exist; give a folder or .txt file of articles")
    return found


def read_articles(paths: Iterable[Path | str]) -> tuple[list[Article], list[Problem]]:
    """Every readable article under ``paths``, and a ``Problem`` for each file that was skipped.

    Two files with the same name would share an id; the second one is skipped.
    """
    articles: dict[str, Article] = {}
    problems: list[Problem] = []
    for path in find_article_files(paths):
        try:
            article = read_article(path)
        except ArticleError as exc:
            problems.append(Problem(path, str(exc).removeprefix(f"{path}: ")))
            continue
        if article.id in articles:
            problems.append(Problem(path, f"another file named {article.id} was read first "
                                          f"({articles[article.id].path}); article ids are file names"))
            continue
        articles[article.id] = article
    return list(articles.values()), problems
