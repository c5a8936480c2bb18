"""Reading article files, in the format their suffix names (in upper or lower case).

One article per file; its id is the file name:

- ``.txt``: a first line `` date YYYY-MM`` (the rest of that line is text), an optional headline, then
  paragraphs separated by blank lines. UTF-8, or UTF-16 (UTF-32) when the file starts with its byte-order
  mark (Notepad's "Unicode").
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
import csv
import errno
import functools
import hashlib
import io
import itertools
import json
import os
import re
import stat
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date as Date, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from qa.errors import ArticleError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".csv")
_RECORD_SUFFIXES = (".jsonl", ".csv")
MAX_ARTICLE_BYTES = 5_000_000
MAX_RECORDS_BYTES = 200_000_000
_HEADER = re.compile(r"\A[ \t]*date[ \t]+(\d{4})-(\d{2})(?![\d-])[ \t]*(.*)\Z")
_MD_HEADER = re.compile(r"\A[ \t]*date[ \t]+(\d{4}-\d{2}(?:-\d{2})?)(?![\d-])[ \t]*(.*)\Z")
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
    parsers = {".txt": _parse_txt, ".md": _parse_markdown, ".markdown": _parse_markdown,
               ".html": _parse_html, ".htm": _parse_html}
    if suffix not in parsers:
        raise ArticleError(f"unsupported file type {suffix or '(no suffix)'}; "
                           "articles are .txt, .md, .html, .jsonl or .csv")
    return parsers[suffix]


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _parse_txt(path: Path, data: bytes) -> Article:
    lines = _lines(_decode(data))
    header = _HEADER.match(lines[0])
    if not header:
        raise ArticleError("missing the date header: the first line must start with 'date YYYY-MM'")
    year, month, rest = header.groups()
    if not 1 <= int(month) <= 12:
        raise ArticleError(f"the date header has month {month}; expected 01 to 12")

    paragraphs = _paragraphs([rest] + lines[1:])
    if not paragraphs:
        raise ArticleError("the article has a date header but no text")
    headline = ""
    if len(paragraphs) > 1 and _looks_like_headline(paragraphs[0]):
        headline = paragraphs.pop(0)
    return _file_article(path, data, f"{year}-{month}", paragraphs, title=headline)


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


# --- Markdown ----------------------------------------------------------------------------------------------

_FRONT_FIELD = re.compile(r"\A([A-Za-z_]\w*):[ \t]*(.*?)[ \t]*\Z")
_FENCE = re.compile(r"\A {0,3}(```|~~~)")
_ATX_HEADING = re.compile(r"\A {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\Z")
_RULE = re.compile(r"\A {0,3}([-*_=])(?:[ \t]*\1){2,}[ \t]*\Z")  # also a setext heading's underline
_BULLET = re.compile(r"\A[ \t]*[-*+][ \t]+")
_NUMBERED = re.compile(r"\A[ \t]*\d{1,9}[.)][ \t]+")
_QUOTE = re.compile(r"\A[ \t]*(?:>[ \t]?)+")
_LINK_DEFINITION = re.compile(r"\A {0,3}\[[^\]]+\]:[ \t]*\S+")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_INLINE = (
    (re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])"), ""),       # images
    (re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),   # links keep their text
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),           # autolinks
    (re.compile(r"(`+)(.+?)\1"), r"\2"),                             # inline code
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),                  # strikethrough
    # Emphasis only at word edges, so that "Bürger*innen" and "file_name" keep their * and _.
    (re.compile(r"(?<![\w*_])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*_])"), r"\2"),
)


def _parse_markdown(path: Path, data: bytes) -> Article:
    lines = _lines(_decode(data))
    fields, body = _front_matter(lines)
    if fields is None:
        header = _MD_HEADER.match(lines[0])
        if not header:
            raise ArticleError("no date: start the file with a line 'date YYYY-MM-DD', or with a front matter "
                               "block ('---', 'title: …', 'date: YYYY-MM-DD', '---')")
        fields, body = {"date": header[1]}, [header[2]] + lines[1:]
    if not fields.get("date"):
        raise ArticleError("the front matter has no 'date:' line; add one, e.g. 'date: 2021-12-07'")
    date = _parse_date(fields["date"])
    headline, paragraphs = _markdown_paragraphs(body)
    if not paragraphs:
        raise ArticleError("the article has a date but no text")
    return _file_article(path, data, date, paragraphs, title=" ".join(fields.get("title", "").split()) or headline,
                         url=fields.get("url", ""), source=fields.get("source", ""))


def _front_matter(lines: list[str]) -> tuple[dict[str, str] | None, list[str]]:
    """The ``key: value`` lines between a first ``---`` line and the next one, and the lines after it.

    Only plain top-level fields are read (quotes around a value are removed); lists and nested blocks,
    such as tags, are passed over: the article needs none of them.
    """
    if lines[0].strip() != "---":
        return None, lines
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            fields = {}
            for match in filter(None, map(_FRONT_FIELD.match, lines[1:end])):
                value = match[2]
                if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                fields[match[1].lower()] = value
            return fields, lines[end + 1:]
    raise ArticleError("the front matter that starts with '---' on line 1 is never closed; "
                       "end it with another '---' line")


def _markdown_paragraphs(lines: list[str]) -> tuple[str, list[str]]:
    """The leading ``# Heading`` (or ""), and the paragraphs of the rest with the Markdown syntax removed.

    Headings and list items become paragraphs of their own, so that they never run into the next sentence.
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    headline = ""
    if first is not None and (heading := _ATX_HEADING.match(lines[first])) and len(heading[1]) == 1:
        headline, lines = _markdown_inline(heading[2]), lines[first + 1:]
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            out.append("")
        elif fenced:
            out.append(line)
        elif _RULE.match(line) or _LINK_DEFINITION.match(line):
            out.append("")
        elif heading := _ATX_HEADING.match(line):
            out += ["", _markdown_inline(heading[2]), ""]
        else:
            line = _QUOTE.sub("", line)
            if _BULLET.match(line) or _NUMBERED.match(line):
                out.append("")  # the numbers of a numbered list stay: "2." may be what the text refers to
            out.append(_markdown_inline(_BULLET.sub("", line)))
    return headline, _paragraphs(out)


def _markdown_inline(line: str) -> str:
    # Escaped characters are hidden from the patterns in the private-use area, then brought back.
    line = _MD_ESCAPE.sub(lambda m: chr(0xE000 + ord(m[1])), line)
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return re.sub(r"[\ue021-\ue07e]", lambda m: chr(ord(m[0]) - 0xE000), line)


# --- HTML --------------------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Invisible characters of web pages that would split a word for search: soft hyphen, zero-width space.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))


def _parse_html(path: Path, data: bytes) -> Article:
    import htmldate
    import trafilatura
    from trafilatura.utils import load_html

    page_text = _decode_html(data)
    if not page_text.strip():
        raise ArticleError("the file is empty")
    # Parsed here, so that both libraries get a tree: htmldate downloads a string that looks like an address.
    tree = load_html(page_text)
    if tree is None:
        raise ArticleError("not an HTML page (no <html> markup found)")
    # favor_precision: on a page of menus alone the default mode returns the menus as text.
    # extensive_search off: htmldate would otherwise take any year on the page, "© 2021" too, as a date.
    page = trafilatura.bare_extraction(tree, with_metadata=True, include_comments=False, favor_precision=True,
                                       date_extraction_params={"extensive_search": False, "original_date": True})
    headline, paragraphs = _html_paragraphs(page.body) if page is not None else ("", [])
    if not paragraphs:
        raise ArticleError("no article text found in the page (only menus, banners or scripts); save the "
                           "article's own page, or its text as .txt")
    date = page.date or _day_from_text(htmldate.find_date(tree, extensive_search=True, original_date=True,
                                                           url=page.url))
    if not date:
        raise ArticleError('no publication date found in the page; add <meta property="article:published_time" '
                           'content="YYYY-MM-DD"> to the page\'s <head>, or save the article as .txt with a '
                           "'date YYYY-MM' line")
    return _file_article(path, data, date, paragraphs, title=headline or " ".join((page.title or "").split()),
                         url=page.url or "", source=page.sitename or "")


def _day_from_text(found: str | None) -> str | None:
    # htmldate gives a bare year (a "© 2021" in the footer) as 1 January: no day of publication.
    return None if found is None or found.endswith("-01-01") else found


def _decode_html(data: bytes) -> str:
    """The page as text: by its byte-order mark, else by its declared charset, else as UTF-8."""
    if data.startswith((codecs.BOM_UTF8, *(bom for bom, _ in _BOMS))):
        return _decode(data)
    if b"\x00" in data[:8192]:
        raise ArticleError("this is a binary file, not a web page")
    declared = _META_CHARSET.search(data[:4096])
    label = declared[1].decode("ascii") if declared else "utf-8"
    try:
        codec = codecs.lookup(label)
    except LookupError:
        raise ArticleError(f"the page declares the charset {label!r}, which is unknown; save it as UTF-8") from None
    # Browsers read pages labelled Latin-1 or ASCII as Windows-1252, and so are they written: „“ are 0x84, 0x93.
    encoding = "cp1252" if codec.name in ("iso8859-1", "ascii") else codec.name
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        where = f"the page declares charset {label}" if declared else "no charset is declared"
        raise ArticleError(f"not {label} text (byte 0x{data[exc.start]:02x} at offset {exc.start}), and {where}; "
                           'save the page as UTF-8 or declare its charset (<meta charset="…">)') from None


def _html_paragraphs(body) -> tuple[str, list[str]]:
    """The page's ``<h1>`` (or ""), and its paragraphs: one per block, list item and table row."""
    for element in body.iter("lb", "cell"):  # a line break or the next cell is a space, not nothing
        element.tail = " " + (element.tail or "")
    lines = []
    for block in body:
        for part in block.findall({"list": "item", "table": "row"}.get(block.tag, ".")):
            lines += ["".join(part.itertext()).translate(_INVISIBLE), ""]
    headline = ""
    if len(body) and body[0].tag == "head" and body[0].get("rend") == "h1":
        headline, lines = " ".join(lines[0].split()), lines[2:]
    return headline, _paragraphs(lines)


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


# --- many articles per file --------------------------------------------------------------------------------

_RECORD_FIELDS = ("title", "date", "text", "url", "source")
_Fields = Callable[[], dict]  # a record's fields, parsed when called: a broken record raises ArticleError


def _read_records(path: Path) -> tuple[list[Article], list[Problem]]:
    """The articles of a ``.jsonl`` or ``.csv`` file, and a ``Problem`` for each record that was skipped."""
    with _about(path):
        _check_file(path, MAX_RECORDS_BYTES, "files of records")
        articles, problems, keys = [], [], Counter()
        rows = _jsonl_rows if _suffix(path) == ".jsonl" else _csv_rows
        with path.open("rb") as file:
            _check_records_start(file.read(8192))
            file.seek(0)
            for where, fields in rows(file):
                try:
                    articles.append(_record_article(path, fields(), keys))
                except ArticleError as exc:
                    problems.append(Problem(path, f"{where}: {exc}", record=True))
        return articles, problems


def _check_records_start(head: bytes) -> None:
    if not head.strip():
        raise ArticleError("the file is empty")
    if any(head.startswith(bom) for bom, _ in _BOMS):
        raise ArticleError("a UTF-16 or UTF-32 file; save .jsonl and .csv files as UTF-8")
    if b"\x00" in head:
        raise ArticleError("this is a binary file, not a text file of records")


def _jsonl_rows(file: io.BufferedReader) -> Iterator[tuple[str, _Fields]]:
    for number, line in enumerate(file, 1):
        if line.strip():
            yield f"line {number}", functools.partial(_json_fields, line)


def _json_fields(line: bytes) -> dict:
    try:
        record = json.loads(line.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not UTF-8 text (byte 0x{line[exc.start]:02x}); save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ArticleError(f"not valid JSON ({exc.msg.removesuffix(' at')}, column {exc.colno}); each line must "
                           "be one "
                           '{"title": …, "date": …, "text": …} object') from None
    if not isinstance(record, dict):
        raise ArticleError('not a JSON object; each line must be one {"title": …, "date": …, "text": …} object')
    return record


def _csv_rows(file: io.BufferedReader) -> Iterator[tuple[str, _Fields]]:
    """Rows numbered as a spreadsheet shows them: the header is row 1, a field's line breaks stay in its row."""
    lines = _utf8_lines(file)
    first = next(lines, "")
    separator = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=separator)
    try:
        header = [name.strip().lower() for name in next(reader)]
        for needed in ("date", "text"):
            if needed not in header:
                raise ArticleError(f"the header row ({separator.join(header)}) has no '{needed}' column; the "
                                   "first row must name the columns title, date, text (and url, source if known)")
        for number, values in enumerate(reader, 2):
            if any(value.strip() for value in values):
                yield f"row {number}", functools.partial(_csv_fields, header, values, separator)
    except csv.Error as exc:
        raise ArticleError(f"line {reader.line_num} cannot be read as CSV ({exc})") from None


def _utf8_lines(file: io.BufferedReader) -> Iterator[str]:
    """The file's lines, line ends kept (as the csv module wants them), decoded one by one to name a bad one."""
    for number, line in enumerate(file, 1):
        try:
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ArticleError(f"line {number} is not UTF-8 text (byte 0x{line[exc.start]:02x}); save the file as "
                               "UTF-8 (in Excel: 'CSV UTF-8')") from None


def _csv_fields(header: list[str], values: list[str], separator: str) -> dict:
    if len(values) != len(header):
        raise ArticleError(f"{len(values)} fields where the header has {len(header)}; put quotes around a "
                           f"field that holds a '{separator}'")
    return dict(zip(header, values))


def _record_article(path: Path, record: dict, keys: Counter) -> Article:
    """One record as an article; ``keys`` counts the keys given out so far in its file."""
    title, date, text, url, source = (_record_field(record, name) for name in _RECORD_FIELDS)
    paragraphs = _paragraphs(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if not paragraphs:
        raise ArticleError("the record has no text; give it a 'text' field")
    if not date:
        raise ArticleError("the record has no date; give it a 'date' field (YYYY-MM-DD)")
    text, date = "\n\n".join(paragraphs), _parse_date(date)
    title = " ".join(title.split()) or _title_from(text)
    # The key comes from what names the article, not from its place in the file: rows may be added or moved.
    key = hashlib.sha1((url or f"{title}|{date}").encode()).hexdigest()[:10]
    keys[key] += 1
    if keys[key] > 1:
        key = f"{key}-{keys[key]}"
    fields = json.dumps([title, date, text, url, source], ensure_ascii=False)
    return Article(id=f"{path.name}:{key}", path=path, title=title, date=date, text=text,
                   sha256=hashlib.sha256(fields.encode()).hexdigest(), url=url, source=source)


def _record_field(record: dict, name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArticleError(f"the '{name}' field is {json.dumps(value, ensure_ascii=False)[:40]}, not text; "
                           "put it in quotes")
    return value.strip()


# --- finding and reading many files ------------------------------------------------------------------------

def find_article_files(paths: Iterable[Path | str]) -> list[Path]:
    """The article files named by ``paths`` (files, or folders searched recursively), in a stable order.

    In a folder, every name ending in one of ``SUPPORTED_SUFFIXES`` (in any case) that is not a folder: a
    pipe or a broken link among them is refused by ``read_articles`` with its reason, not left out without
    a word. A file named on its own is always taken, and refused there if its type is unsupported.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _suffix(p) in SUPPORTED_SUFFIXES and not p.is_dir()))
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
            found, skipped = _read_records(path) if _suffix(path) in _RECORD_SUFFIXES else ([read_article(path)], [])
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
