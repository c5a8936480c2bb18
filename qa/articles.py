"""Reading article files: ``.txt`` with a `` date YYYY-MM`` header, an optional headline, then paragraphs.

A file that cannot be read becomes a ``Problem`` (named file, plain reason) instead of an exception, so one
bad file never costs the rest of the folder. A path that does not exist at all is an ``ArticleError``.
"""

from __future__ import annotations

import hashlib
import re
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
    if not data.strip():
        raise ArticleError("the file is empty")
    if b"\x00" in data[:8192]:
        raise ArticleError("this is a binary file, not a text article")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                           "save the file as UTF-8") from None
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
    """Read one file; ``ArticleError`` (with the file's name) when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"the file has {size:,} bytes; articles over {MAX_ARTICLE_BYTES:,} bytes are refused")
        return parse_article(path, path.read_bytes())
    except ArticleError as exc:
        raise ArticleError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ArticleError(f"{path}: cannot be read ({exc.strerror})") from None


def find_article_files(paths: Iterable[Path | str]) -> list[Path]:
    """The ``.txt`` files named by ``paths`` (files, or folders searched recursively), in a stable order."""
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.txt") if p.is_file()))
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise ArticleError(f"{path} is neither a file nor a folder")
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
