"""The chat page's HTML: an answer with its cited passages, a whole article, an error line, an upload's report.

Everything shown is escaped here first, so HTML, a script, ``**stars**`` or an image link standing in an
article or typed into the chat is shown as text (the page renders no Markdown or LaTeX). The package's
English messages are shown in German (``qa.german``).

>>> render_error("the question is empty; type a question about the articles")
'<div class="qa-note qa-error">Fehler: die Frage ist leer; geben Sie eine Frage zu den Artikeln ein</div>'
"""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import TYPE_CHECKING, Callable

from qa.answer import ASKED_AGAIN, Answer, Citation
from qa.german import german

if TYPE_CHECKING:
    from qa.store import ArticleInfo
    from qa.sync import IngestReport

SHOWN_PER_REASON = 5     # skipped files or records listed under each reason in an upload's report
_RECORD_AT = re.compile(r"(line|row) (\d+): ")   # where a record's problem stands in its file
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def valid(text: str) -> str:
    """``text`` with lone surrogates (not UTF-8, so not sendable) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # German digit groups: 49.995


def render_answer(answer: Answer, turn: int, article: Callable[[str], ArticleInfo | None] | None = None) -> str:
    """The verified answer as HTML: markers linked to the passages below it, and a note when it was
    declined or came from the extractive fallback. ``turn`` keeps anchors apart between answers.
    ``article`` looks up a cited article's whole text, shown under its passage on a click."""
    numbers = {c.number for c in answer.citations}

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        return f'<a href="#qa-src-{turn}-{n}">[{n}]</a>' if n in numbers else match.group(0)

    linked = re.sub(r"\[(\d+)\]", link, escape(answer.text))
    declined = " qa-abstained" if answer.abstained else ""  # greyed: the answer itself says so
    parts = [f'<div class="qa-answer{declined}">{linked}</div>']
    if answer.fallback_reason and not answer.abstained:
        if answer.answerer == "llm" and ASKED_AGAIN in answer.fallback_reason:
            parts.append('<div class="qa-note qa-fallback">Das Sprachmodell wurde ein zweites Mal gefragt, nur mit '
                         'dem zitierten Satz: seine erste Antwort war nicht verwendbar '
                         f'({escape(german(answer.fallback_reason))}).</div>')
        elif answer.answerer == "extractive":
            parts.append('<div class="qa-note qa-fallback">Extraktive Antwort: die Antwort des Sprachmodells '
                         f'hielt der Prüfung gegen ihre Quellen nicht stand ({escape(german(answer.fallback_reason))}).</div>')
        else:
            parts.append('<div class="qa-note qa-fallback">Der gewählte Satz wird zitiert: die Kurzantwort des '
                         f'Sprachmodells stand nicht darin ({escape(german(answer.fallback_reason))}).</div>')
    parts.append(render_sources(answer.citations, turn, article))
    return "".join(parts)


def render_draft(draft: Answer, turn: int) -> str:
    """The fast answer, to read while the language model writes its own (again while it is asked a second time)."""
    return render_answer(draft, turn) + render_waiting("Das Sprachmodell formuliert die Antwort …")


def render_streaming(text: str, draft: Answer | None, turn: int) -> str:
    """The model's words so far, in place of the fast answer, whose passages stay under them."""
    return (f'<div class="qa-answer">{escape(text)} ▌</div>'
            + (render_sources(draft.citations, turn) if draft else ""))


def render_waiting(text: str) -> str:
    return f'<div class="qa-note qa-draft">{escape(text)}</div>'


def render_sources(citations: list[Citation], turn: int,
                   article: Callable[[str], ArticleInfo | None] | None = None) -> str:
    """The cited passages under an answer ("" when there are none)."""
    if not citations:
        return ""
    return ('<div class="qa-sources">'
            + "".join(render_citation(c, turn, article(c.article) if article else None) for c in citations)
            + "</div>")


def render_citation(citation: Citation, turn: int, article: ArticleInfo | None = None) -> str:
    """One cited passage in full, with its title, date, source and file, the sentence the answer rests on
    marked; with ``article``, the whole article below it, opened by a click, passage and sentence marked."""
    text = citation.text
    start = text.find(citation.quote) if citation.quote else -1
    if start >= 0:
        body = (escape(text[:start]) + "<mark>" + escape(citation.quote) + "</mark>"
                + escape(text[start + len(citation.quote):]))
    else:
        body = escape(text)
    whole = ""
    if article is not None and article.text:
        whole = ('<details class="qa-article"><summary>Ganzen Artikel lesen</summary>'
                 + render_article(article, citation) + "</details>")
    return (f'<div class="qa-source" id="qa-src-{turn}-{citation.number}">'
            f'<div class="qa-source-head">[{citation.number}] <b>{escape(citation.title)}</b> · '
            f'{_origin(citation.date, citation.source, citation.url)}<code>{escape(citation.article)}</code></div>'
            f"<p>{body}</p>{whole}</div>")


def render_article(article: ArticleInfo, citation: Citation | None = None) -> str:
    """A whole article: title, date, source and address, then its paragraphs; the cited passage and, in
    it, the cited sentence marked."""
    marks = []
    if citation is not None:
        marks.append((citation.start, citation.end, '<span class="qa-passage">', "</span>"))
        at = article.text.find(citation.quote, citation.start, citation.end + 1) if citation.quote else -1
        if at >= 0:
            marks.append((at, at + len(citation.quote), "<mark>", "</mark>"))
    paragraphs = []
    for block in re.finditer(r"[^\n]+", article.text):
        paragraphs.append("<p>" + _marked(article.text, block.start(), block.end(), marks) + "</p>")
    return (f'<div class="qa-article-head"><b>{escape(article.title)}</b> · '
            f'{_origin(article.date, article.source, article.url)}<code>{escape(article.file)}</code></div>'
            + "".join(paragraphs))


def _marked(text: str, start: int, end: int, marks: list[tuple[int, int, str, str]]) -> str:
    """``text[start:end]`` escaped, each piece inside a mark wrapped in its tags (outer marks first)."""
    cuts = sorted({start, end, *(min(max(p, start), end) for s, e, _, _ in marks for p in (s, e))})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = escape(text[a:b])
        for s, e, open_tag, close_tag in reversed(marks):
            if s <= a and b <= e:
                piece = open_tag + piece + close_tag
        out.append(piece)
    return "".join(out)


def _origin(date: str, source: str, url: str) -> str:
    """Date, publisher and a link to the article's address (http and https only), each followed by ' · '."""
    parts = [escape(date)] if date else []
    if url.startswith(("https://", "http://")):
        label = source or urllib.parse.urlsplit(url).hostname or url
        parts.append(f'<a class="qa-url" href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
                     f"{escape(label)}</a>")
    elif source:
        parts.append(escape(source))
    return "".join(part + " · " for part in parts)


def render_error(message: str) -> str:
    """An error line; the package's English messages are shown in German."""
    return f'<div class="qa-note qa-error">Fehler: {escape(valid(german(message)))}</div>'


def render_report(report: IngestReport | None, skips: list[tuple[str, str]], notes: list[str] = (),
                  held_back: list[str] = ()) -> str:
    """What an upload did: added, updated and unchanged articles; the files held back or renamed; and what
    was skipped (``skips``: file name and reason), counted per reason with the first few of each (the whole
    list is a file to download)."""
    lines = []
    if report is not None:
        lines.append(f"{report.added} hinzugefügt, {report.updated} aktualisiert, {report.unchanged} unverändert"
                     f"; {report.chunks} Abschnitte im Index.")
    lines += [escape(note) for note in notes]
    if held_back:
        lines.append('<span class="qa-skip">Nicht ersetzt, weil ein früherer Upload Dateien dieses Namens brachte: '
                     + escape(", ".join(held_back)) + ". Zum Ersetzen „Gleichnamige ersetzen“ ankreuzen und "
                     "erneut hinzufügen.</span>")
    if skips:
        groups: dict[str, list[str]] = {}
        for name, reason in skips:
            at = _RECORD_AT.match(reason)  # one record of an export: grouped by what was wrong with it
            place = f"{name} Zeile {at.group(2)}" if at else name
            groups.setdefault(reason[at.end():] if at else reason, []).append(place)
        lines.append(f"{number(len(skips))} übersprungen:")
        for why, places in sorted(groups.items(), key=lambda group: -len(group[1])):
            if len(places) == 1:
                lines.append(f'<span class="qa-skip">{escape(places[0])}: {escape(german(why))}</span>')
                continue
            shown = ", ".join(places[:SHOWN_PER_REASON])
            more = len(places) - SHOWN_PER_REASON
            if more > 0:
                shown += f" und {number(more)} weitere (alle in der Liste zum Herunterladen)"
            lines.append(f'<span class="qa-skip">{number(len(places))} × {escape(german(why))}: '
                         f"{escape(shown)}</span>")
    return '<div class="qa-note qa-report">' + "<br>".join(lines) + "</div>"


def render_removed(gone: list[str], titles: dict[str, str]) -> str:
    """The articles a removal took out of the index, by title and id."""
    names = "; ".join(f"{escape(titles.get(a, a))} ({escape(a)})" for a in gone) or "keiner"
    return f'<div class="qa-note">Entfernt: {names}.</div>'
