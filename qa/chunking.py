"""Sentence-aware chunks of an article, each knowing where it stands in the article's text.

A chunk is a run of whole sentences, packed up to ``max_chars`` (e5 reads at most 512 tokens; 700
characters of German are about 200). A chunk ends at a paragraph break once it has ``min_chars``; a chunk
cut inside a paragraph repeats that paragraph's last sentence at the start of the next one, so a fact
split across the cut is still whole in one of them. ``120.000``, ``16.00 Uhr``, ``21:30`` and ``7. Dezember``
are never sentence ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.article_text import Article

# A sentence may end at . ! ? or … (plus closing quotes/brackets) followed by whitespace and a capital,
# a digit or an opening quote.
_BOUNDARY = re.compile(r"[.!?…]+[\"'“”»«)\]]*(?=\s+[\"„“»«(\[]?[A-ZÄÖÜ0-9])")
# Words after which a period does not end the sentence.
_ABBREVIATIONS = {
    "abs", "abg", "allg", "art", "bd", "bspw", "bzgl", "bzw", "ca", "chr", "dr", "etc", "evtl", "gegr", "ggf",
    "hl", "inkl", "jh", "jr", "kap", "lt", "mio", "mrd", "mr", "mrs", "nr", "prof", "rd", "s", "sog", "st",
    "str", "tel", "u", "usw", "vgl", "vs", "z", "ziff", "zit", "jan", "feb", "febr", "apr", "aug", "sept",
    "okt", "nov", "dez",
}
_DATELINE = re.compile(r"[A-ZÄÖÜ][^\W\d_]*(?:[ /-][^\W\d_]+)*\.")
_PLACE_LINKS = {"am", "an", "der", "im", "in", "ob", "bei", "upon"}  # Frankfurt am Main, Halle an der Saale
HARD_MAX_CHARS = 1800  # e5 truncates beyond 512 tokens: a longer "sentence" is split at a space


@dataclass(frozen=True)
class Chunk:
    id: str           # "<article id>#<n>": re-chunking the same article overwrites, never duplicates
    article_id: str
    n: int            # position within the article, from 0
    text: str         # exactly article.text[start:end]
    start: int
    end: int
    title: str
    date: str
    url: str = ""     # the article's web address, when known
    source: str = ""  # who published it, when known


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in ``text``, whitespace excluded; a blank line always ends one."""
    return [span for paragraph in paragraph_sentences(text) for span in paragraph]


def paragraph_sentences(text: str) -> list[list[tuple[int, int]]]:
    """The sentence spans of each paragraph (paragraphs are separated by a blank line)."""
    blocks = re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*", text)
    return [spans for block in blocks if (spans := _sentences_between(text, block.start(), block.end()))]


def _sentences_between(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, begin = [], start
    for match in _BOUNDARY.finditer(text, start, end):
        if _is_abbreviation_or_ordinal(text, begin, match.start()):
            continue
        spans.append((begin, match.end()))
        begin = match.end()
        while begin < end and text[begin].isspace():
            begin += 1
    if begin < end and text[begin:end].strip():
        spans.append((begin, end))
    if len(spans) > 1 and _is_dateline(text[spans[0][0]:spans[0][1]].strip()):
        spans[:2] = [(spans[0][0], spans[1][1])]  # „Regensburg.“ alone would be quoted as an answer
    return [piece for span in spans for piece in _split_oversized(text, *_strip(text, *span))]


def _is_dateline(sentence: str) -> bool:
    """A paragraph's opening place name, „Washington.“ or „Frankfurt am Main.“: no sentence of its own."""
    words = sentence[:-1].replace("/", " ").split()
    return (bool(_DATELINE.fullmatch(sentence)) and len(words) <= 3
            and all(w[0].isupper() or w in _PLACE_LINKS for w in words))


def _is_abbreviation_or_ordinal(text: str, begin: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"[\w.]*$", text[begin:dot]).group()
    last = word.rsplit(".", 1)[-1]
    if last.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word):  # "bzw.", "z.B."
        return True
    if last.isdigit() and len(last) <= 2:  # "am 7. Dezember", "10. und 12. Januar"
        return True
    return len(last) == 1 and last.isupper()  # an initial: "Joe R. Biden"


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_oversized(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > HARD_MAX_CHARS:
        cut = text.rfind(" ", start, start + HARD_MAX_CHARS)
        cut = cut if cut > start else start + HARD_MAX_CHARS
        pieces.append((start, cut))
        start, _ = _strip(text, cut, end)
    pieces.append((start, end))
    return pieces


def chunk_article(article: Article, max_chars: int = 700, min_chars: int = 250) -> list[Chunk]:
    """Split ``article`` into chunks of whole sentences; see the module docstring for the rules."""
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for sentences in paragraph_sentences(article.text):
        for i, sentence in enumerate(sentences):
            if current and sentence[1] - current[0][0] > max_chars:
                groups.append(current)
                # Inside a paragraph, carry the last sentence over when it still leaves room.
                carry = current[-1:] if i > 0 and sentence[1] - current[-1][0] <= max_chars else []
                current = carry
            current.append(sentence)
        if current and current[-1][1] - current[0][0] >= min_chars:
            groups.append(current)
            current = []
    if current:
        if groups and current[-1][1] - groups[-1][0][0] <= max_chars:
            groups[-1] = groups[-1] + current  # a short tail joins the chunk before it
        else:
            groups.append(current)
    return [
        Chunk(id=f"{article.id}#{n}", article_id=article.id, n=n, text=article.text[g[0][0]:g[-1][1]],
              start=g[0][0], end=g[-1][1], title=article.title, date=article.date, url=article.url,
              source=article.source)
        for n, g in enumerate(groups)
    ]
