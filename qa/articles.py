"""Reading article files: finding them in folders, reading each in its format (``qa.formats``), and a
``Problem`` for what cannot be read.

One article per file, its id the file name; or many per file, one per record, with ids
``"<file name>:<key>"`` (``belongs_to``). What each format holds, and how it is read: the docstring of
``qa.formats``.

A file that cannot be read becomes a ``Problem`` (named file, plain reason) instead of an exception, so one
bad file never costs the rest of the folder; so does an article's name in a folder that is no regular file
(a pipe, a socket, a link that loops or points to nothing), which is never opened. A path that does not
exist at all is an ``ArticleError``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from qa.article_text import Article, Problem, about, check_file, suffix_of
from qa.errors import ArticleError
from qa.formats import RECORD_ROWS, SUPPORTED_SUFFIXES, article_parser, read_records

MAX_ARTICLE_BYTES = 5_000_000
_RECORD_KEY = re.compile(r"[0-9a-f]{10}(-\d+)?")


def belongs_to(article_id: str, file_name: str) -> bool:
    """Whether ``article_id`` is the article of the file named ``file_name``, or one of its records."""
    if article_id == file_name:
        return True
    prefix, sep, key = article_id.rpartition(":")
    return bool(sep) and prefix == file_name and _RECORD_KEY.fullmatch(key) is not None


def parse_article(path: Path, data: bytes) -> Article:
    """Parse the bytes of one ``.txt``, ``.md`` or ``.html`` file; raise ``ArticleError`` saying what is wrong."""
    return article_parser(path)(path, data)


# --- reading files -----------------------------------------------------------------------------------------

def read_article(path: Path) -> Article:
    """Read one ``.txt``, ``.md`` or ``.html`` file; ``ArticleError`` (with the file's name) when it cannot be used.

    Only a regular file is opened: reading a named pipe would wait for a writer forever.
    """
    with about(path):
        parse = article_parser(path)
        check_file(path, MAX_ARTICLE_BYTES, "articles")
        return parse(path, path.read_bytes())


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
            found.extend(sorted(p for p in path.rglob("*") if suffix_of(p) in SUPPORTED_SUFFIXES and not p.is_dir()
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
            found, skipped = read_records(path) if suffix_of(path) in RECORD_ROWS else ([read_article(path)], [])
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
