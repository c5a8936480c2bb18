"""The chat window: a Gradio page over ``qa.ask_stream``, with the cited passages under every answer, and the
articles of the index, where a user adds their own files and removes articles.

It holds no answering logic of its own: a question goes to the same streaming API that Python users call,
through the same ``qa.Conversation`` that ``qa chat`` keeps, and the page only shows what comes back. A
cited passage opens its whole article in the page (title, date, source and address; passage and sentence
marked). Everything shown is escaped first and the chat renders no Markdown or LaTeX, so HTML, a script,
``**stars**`` or an image link typed into the chat, or standing in an article, is shown as text. The
``/chat`` API takes its history as plain JSON, so a wrongly shaped one is answered with a sentence saying
what is wrong; history and mode may be left out. Every message the page shows is German (``qa.german``).

Uploaded files (``.txt``, ``.md``, ``.html``, ``.jsonl``, ``.csv``; at most QA_MAX_UPLOAD_MB each) are kept
in the upload folder beside the index (QA_UPLOAD_DIR) and added to the index beside what it holds, as
articles ``upload/<name>`` that no other article can be (an upload replaces only an earlier upload, and only
when asked to); Gradio's own copy of an upload waits in that folder too, so nothing is written outside it
and the index. Uploads and removals have a queue of their own, apart from the answers'.

Serving starts lean: the index and the embedding model load at once, the language model when its mode
is chosen (or at start with QA_MODE=llm). GRADIO_SERVER_PORT is taken as given: a busy port is an error,
not quietly the next one. With QA_APP_AUTH, logins are checked one at a time with a pause after each failure,
and an address (or, for a flood from many, everyone) is locked out for a while after too many (``qa.login``).

    make run                # or: qa serve, python app.py → http://127.0.0.1:7860 (GRADIO_SERVER_NAME/_PORT)
"""

from __future__ import annotations

import errno
import hmac
import html
import logging
import os
import re
import shutil
import socket
import threading
import unicodedata
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from qa.answer import ASKED_AGAIN, Answer, Citation
from qa.articles import SUPPORTED_SUFFIXES
from qa.config import Settings
from qa.conversation import Conversation
from qa.errors import ConfigError, QAError, QuestionError
from qa.german import german
from qa.login import LoginLimiter
from qa.questions import clean_text
from qa.store import ArticleInfo
from qa.sync import IngestReport, namespace_of

log = logging.getLogger(__name__)

MODES = {"Schnell (zitierte Sätze)": "extractive", "Ausformuliert (Sprachmodell)": "llm"}
EXAMPLES = [
    "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?",
    "Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?",
    "Wann ist die Sitzung des NATO-Russland-Rates geplant?",
    "Who is the Kremlin spokesman?",
]
CSS = """
.qa-sources { margin-top: .8em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.qa-source { margin: .5em 0; }
.qa-source-head { font-size: .85em; opacity: .8; }
.qa-source p { margin: .2em 0 0 0; }
.qa-source mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.qa-note { font-size: .85em; margin-top: .5em; padding: .3em .5em; border-left: 3px solid #f59e0b; }
.qa-answer.qa-abstained { color: #6b7280; font-style: italic; }
.qa-article { margin: .3em 0 0 0; font-size: .92em; }
.qa-article summary { cursor: pointer; color: var(--link-text-color, #2563eb); }
.qa-article-head { font-size: .85em; opacity: .8; margin: .3em 0; }
.qa-passage { background: rgba(253, 230, 138, .35); }
.qa-skip { color: #b45309; }
"""
# The namespace of uploaded articles' ids: no file name holds a "/", so no article ingested from a folder,
# the CLI or Python has an id in it, and an upload can never replace one of those.
UPLOADS = "upload/"
SHOWN_PER_REASON = 5     # skipped files or records listed under each reason in an upload's report
_RECORD_AT = re.compile(r"(line|row) (\d+): ")   # where a record's problem stands in its file


def escape(text: str) -> str:
    return html.escape(text, quote=True)


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
    return f'<div class="qa-note qa-error">Fehler: {escape(_valid(german(message)))}</div>'


@dataclass
class Session:
    """One browser session's conversation, and how many chat messages it was last shown as.

    A chat of another length came from elsewhere (an API caller's own history, or none): it is read
    from its messages instead, so the history is always the one the caller sees.
    """

    talk: Conversation
    shown: int = 0


class ChatApp:
    """The page's behaviour, apart from Gradio: what a message, an upload or a removal does."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._llm_warming = False

    def respond(self, message: str, chat: object = None, session: Session | None = None,
                mode_label: str | None = None) -> Iterator[tuple[str, list[dict], Session]]:
        """Yield (textbox, chat, session) as the answer streams in.

        ``chat`` is the page's own chat, or whatever JSON an API caller sent as its history (none: a new
        conversation); ``mode_label`` a label of ``MODES`` or a mode (none: QA_MODE). The question is
        cleaned first, as every route cleans it (``qa.questions.clean_text``): what is shown and sent back
        is what was asked. The fast answer shows at once; in the generated mode the model's words replace
        it as they stream.
        """
        typed = _valid(message) if isinstance(message, str) else ""   # what the box keeps when it must
        message = clean_text(message) if isinstance(message, str) else message
        session = session if isinstance(session, Session) else self.new_session()
        try:
            chat = messages(chat)
        except QuestionError as exc:  # an API caller's history: say what is wrong, as the answer
            error = {"role": "assistant", "content": render_error(str(exc))}
            yield typed, [*_asked(message), error], self.new_session()
            return
        if len(chat) != session.shown:
            session = Session(conversation_from(chat, self.settings), len(chat))
        if not isinstance(message, str) or not message.strip():
            yield typed, chat, session  # empty input does nothing
            return
        mode = MODES.get(mode_label, mode_label if mode_label in MODES.values() else self.settings.mode)
        turn = len(session.talk) + 1
        chat += [*_asked(message), {"role": "assistant", "content": _waiting("Suche in den Artikeln …")}]
        session.shown = len(chat)
        yield "", chat, session
        try:
            # Closed before the answer is shown: the stream holds the index's read lock, and showing it
            # reads the cited articles.
            with session.talk.ask_stream(message, mode=mode) as stream:
                for text in stream:
                    if not text and not stream.text and stream.draft is not None:  # a new fast answer: read it
                        chat[-1] = {"role": "assistant", "content": render_answer(stream.draft, turn)  # meanwhile
                                    + _waiting("Das Sprachmodell formuliert die Antwort …")}
                        yield "", chat, session
                    elif mode == "llm":
                        chat[-1] = {"role": "assistant", "content": f'<div class="qa-answer">{escape(stream.text)} ▌'
                                    "</div>" + (render_sources(stream.draft.citations, turn) if stream.draft else "")}
                        yield "", chat, session
                answer = stream.result()
            chat[-1] = {"role": "assistant", "content": render_answer(answer, turn, self.article)}
            yield "", chat, session
        except QAError as exc:  # bad input: say why, keep the conversation
            chat[-1] = {"role": "assistant", "content": render_error(str(exc))}
            yield typed, chat, session
        except Exception as exc:  # a failure below us: one line, never a traceback
            log.exception("answering failed")
            chat[-1] = {"role": "assistant",
                        "content": render_error(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])}
            yield typed, chat, session

    def new_session(self) -> Session:
        """A conversation of its own, answered with this page's settings."""
        return Session(Conversation(settings=self.settings))

    def article(self, article_id: str) -> ArticleInfo | None:
        """A cited article's whole text, for the page to open under its passage (None when it is gone)."""
        from qa.api import article

        try:
            return article(article_id, settings=self.settings)
        except QAError:
            return None

    def list_articles(self, words: str = "") -> tuple[str, list[list], list[tuple[str, str]]]:
        """(count line, table rows, choices for removal) of the indexed articles whose fields hold ``words``."""
        try:
            held = self._held()
        except QAError as exc:
            return render_error(str(exc)), [], []
        shown = [a for a in held if a.matches(words or "")]
        count = f"{len(held)} Artikel im Index" + (f", {len(shown)} passen zum Filter" if words.strip() else "")
        if words.strip() and not shown:
            count += " (gesucht wird in Titel, Datum, Quelle, Datei und Adresse, nicht im Text)"
        rows = [[a.title, a.date, _source_cell(a), stored_name(a.file), a.chunks] for a in shown]  # no bidi tricks
        return count, rows, [(f"{a.title} ({a.date}) · {a.id}", a.id) for a in shown]

    def add_files(self, files: list | None, progress: Callable[[int, int], None] | None = None, *,
                  replace: bool = False) -> Upload:
        """Add uploaded files to the index as ``upload/<name>``, beside what it holds; keep them in the
        upload folder.

        A file of another type, over the size limit or with a name that is no plain file name is refused
        with its reason. A file whose name an earlier upload already brought is held back unless
        ``replace``: the page asks first. A second file of the same name in one upload is kept under a
        name of its own (``name-2.txt``), or skipped when its bytes are the first one's. The files are
        indexed from a staging folder and only then moved in, so a failed ingest leaves the upload folder
        as it was.
        """
        from qa.api import ingest

        try:
            uploaded = self._uploaded_files()
        except QAError as exc:
            return Upload(render_error(str(exc)))
        folder = self.settings.uploads
        plan = _plan_upload([Path(getattr(f, "name", f)) for f in files or []], uploaded, folder,
                            self.settings.max_upload_mb, replace)
        staged, refused, notes, held_back = plan.staged, plan.refused, plan.notes, plan.held_back
        if not staged:
            if refused or held_back:
                return Upload(render_report(None, refused, notes, held_back), _skip_list(self, None, refused),
                              held_back)
            return Upload(render_error("Keine Datei gewählt."))
        staging = folder / f".staging-{uuid.uuid4().hex[:12]}"
        try:
            staging.mkdir(parents=True)
            for name, path in staged.items():
                shutil.copyfile(path, staging / name)
            report = ingest(sorted(staging.iterdir()), add=True, progress=progress or False,
                            settings=self.settings, namespace=UPLOADS)
            kept = self._uploaded_files()
            for name in staged:  # a file that gave no article at all is not kept
                if name in kept:
                    os.replace(staging / name, folder / name)
        except QAError as exc:
            return Upload(render_report(None, refused, notes, held_back) + render_error(str(exc)), None, held_back)
        except OSError as exc:
            return Upload(render_report(None, refused, notes, held_back)
                          + render_error(f"das Upload-Verzeichnis {folder} ist nicht beschreibbar ({exc.strerror})"),
                          None, held_back)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return Upload(render_report(report, refused, notes, held_back), _skip_list(self, report, refused), held_back)

    def _held(self) -> list[ArticleInfo]:
        from qa.api import list_articles

        return list_articles(settings=self.settings)

    def _uploaded_files(self) -> set[str]:
        """The names of the files whose articles uploads brought to the index."""
        return {a.file for a in self._held() if namespace_of(a.id) == UPLOADS}

    def remove_articles(self, article_ids: list[str] | None) -> str:
        """Remove the chosen articles from the index; an uploaded single-article file goes with its article."""
        from qa.api import remove

        if not article_ids:
            return render_error("Kein Artikel gewählt.")
        try:
            titles = {a.id: a.title for a in self._held()}
            gone = remove(article_ids, settings=self.settings)
        except QAError as exc:
            return render_error(str(exc))
        for article_id in gone:
            name = article_id.removeprefix(UPLOADS)
            if namespace_of(article_id) == UPLOADS and ":" not in name and (self.settings.uploads / name).is_file():
                (self.settings.uploads / name).unlink()
        names = "; ".join(f"{escape(titles.get(a, a))} ({escape(a)})" for a in gone) or "keiner"
        return f'<div class="qa-note">Entfernt: {names}.</div>'

    def warm_up(self, *, llm: bool) -> None:
        """Load the index and the embedding model, and with ``llm`` the language model (once), in the background.

        The page loads the language model when its mode is chosen, not when the first generated answer is
        asked for: loading it then would hold the one answering slot, and everyone queued would wait too.
        """
        if llm:
            if self._llm_warming:
                return
            self._llm_warming = True
        threading.Thread(target=_warm_up, args=(self.settings, llm), daemon=True, name="qa-warm-up").start()

    def choose(self, mode_label: str) -> None:
        """The mode radio changed: a chosen generated mode starts loading its model."""
        if MODES.get(mode_label) == "llm":
            self.warm_up(llm=True)


def _warm_up(settings: Settings, llm: bool) -> None:
    from qa.pipeline import pipeline_for

    try:
        pipeline = pipeline_for(settings)
        pipeline.ensure_index()
        pipeline.warm_up()
        if llm:
            pipeline.warm_up_llm()
    except QAError as exc:  # an empty index, a model missing offline: the first question says it again
        log.error("%s", exc)
    except Exception:
        log.exception("warming up failed")


def messages(chat: object) -> list[dict]:
    """``chat`` as the page's messages, ``{"role": "user" | "assistant", "content": text}``.

    The page sends its own chat, with each content a list of typed parts; an API caller may send any JSON.
    A wrongly shaped one raises ``QuestionError`` naming what is wrong.
    """
    if chat is None:
        return []
    if not isinstance(chat, list):
        raise QuestionError('the chat history must be a list of messages {"role": "user" or "assistant", '
                            f'"content": text}}, got {type(chat).__name__}')
    out = []
    for i, message in enumerate(chat):
        text = _plain(message.get("content")) if isinstance(message, dict) else None
        if text is None or message.get("role") not in ("user", "assistant"):
            raise QuestionError(f'chat history[{i}] must be a message {{"role": "user" or "assistant", '
                                f'"content": text}}, got {_valid(repr(message))[:80]}')
        out.append({"role": message["role"], "content": _valid(text)})
    return out


def _plain(content: object) -> str | None:
    """A message's content as text (Gradio 6 sends a list of typed parts); None when it holds no text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and isinstance(part.get("text"), str)
                                         for part in content):
        return "".join(part["text"] for part in content)
    return None


def _valid(text: str) -> str:
    """``text`` with lone surrogates (not UTF-8, so not sendable) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _asked(message: object) -> list[dict]:
    """The user's message as the chat shows it: escaped, on one line; none for an empty one."""
    if not isinstance(message, str) or not message.strip():
        return []
    return [{"role": "user", "content": escape(" ".join(message.split()))}]


def conversation_from(chat: list[dict], settings: Settings | None = None) -> Conversation:
    """The conversation an API caller's chat (as ``messages`` returns it) shows: each question with the
    answer after it. An answer the page sent earlier is HTML: its answer line is what was said."""
    talk = Conversation(settings=settings)
    question = None
    for message in chat:
        text = message["content"]
        if message["role"] == "user":
            question = html.unescape(text)
        elif question is not None:
            if "qa-error" not in text:  # an error line is no answer to follow up on
                said = re.search(r'<div class="qa-answer[^"]*">(.*?)</div>', text, re.S)
                said = html.unescape(re.sub(r"<[^>]+>", "", said.group(1))) if said else text
                talk.record(question, Answer(said, question=question))
            question = None
    return talk


@dataclass
class _UploadPlan:
    staged: dict[str, Path] = field(default_factory=dict)   # the name it is kept as -> the given file
    refused: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)


def _plan_upload(given: list[Path], uploaded: set[str], folder: Path, max_mb: int, replace: bool) -> _UploadPlan:
    """Which of the ``given`` files are added, under which names, and which are refused or held back.

    ``uploaded``: the names of the files earlier uploads brought (held back unless ``replace``). A second
    file of one name in the same upload gets a name of its own, unless its bytes are an earlier one's."""
    plan = _UploadPlan()
    origin: dict[str, str] = {}      # the name it is kept as -> the name it was given with
    for path in given:
        name = stored_name(path.name)
        reason = _upload_problem(path, name, max_mb)
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


@dataclass(frozen=True)
class Upload:
    """What an upload did: the report as HTML, the full list of what was skipped as a text file (None when
    nothing was), and the names held back because an earlier upload brought a file of that name."""

    html: str
    skipped_file: Path | None = None
    held_back: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.html


def render_report(report: IngestReport | None, refused: list[tuple[str, str]], notes: list[str] = (),
                  held_back: list[str] = ()) -> str:
    """What an upload did: added, updated and unchanged articles; the files held back or renamed; and what
    was skipped, counted per reason with the first few of each (the whole list is a file to download)."""
    lines = []
    if report is not None:
        lines.append(f"{report.added} hinzugefügt, {report.updated} aktualisiert, {report.unchanged} unverändert"
                     f"; {report.chunks} Abschnitte im Index.")
    lines += [escape(note) for note in notes]
    if held_back:
        lines.append('<span class="qa-skip">Nicht ersetzt, weil ein früherer Upload Dateien dieses Namens brachte: '
                     + escape(", ".join(held_back)) + ". Zum Ersetzen „Gleichnamige ersetzen“ ankreuzen und "
                     "erneut hinzufügen.</span>")
    skips = skipped(report, refused)
    if skips:
        groups: dict[str, list[str]] = {}
        for name, reason in skips:
            at = _RECORD_AT.match(reason)  # one record of an export: grouped by what was wrong with it
            place = f"{name} Zeile {at.group(2)}" if at else name
            groups.setdefault(reason[at.end():] if at else reason, []).append(place)
        lines.append(f"{_number(len(skips))} übersprungen:")
        for why, places in sorted(groups.items(), key=lambda group: -len(group[1])):
            if len(places) == 1:
                lines.append(f'<span class="qa-skip">{escape(places[0])}: {escape(german(why))}</span>')
                continue
            shown = ", ".join(places[:SHOWN_PER_REASON])
            more = len(places) - SHOWN_PER_REASON
            if more > 0:
                shown += f" und {_number(more)} weitere (alle in der Liste zum Herunterladen)"
            lines.append(f'<span class="qa-skip">{_number(len(places))} × {escape(german(why))}: '
                         f"{escape(shown)}</span>")
    return '<div class="qa-note qa-report">' + "<br>".join(lines) + "</div>"


def skipped(report: IngestReport | None, refused: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(file name, reason) of everything an upload skipped: files refused by the page, then files and
    records the reader could not use."""
    return [*refused, *((p.path.name, p.reason) for p in (report.skipped if report else ()))]


def _skip_list(app: "ChatApp", report: IngestReport | None, refused: list[tuple[str, str]]) -> Path | None:
    """The whole list of what was skipped, one "file: reason" line each, as a file the page offers for
    download (in Gradio's own upload folder, which it serves and clears)."""
    skips = skipped(report, refused)
    if not skips:
        return None
    folder = Path(os.environ.get("GRADIO_TEMP_DIR") or app.settings.uploads / ".incoming") / "berichte"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"uebersprungen-{uuid.uuid4().hex[:8]}.txt"
    path.write_text("".join(f"{name}: {german(reason)}\n" for name, reason in skips), encoding="utf-8")
    return path


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # German digit groups: 49.995


def stored_name(name: str) -> str:
    """An uploaded file's name as it is kept: without control and format characters (a right-to-left
    override would show ``txt.exe`` as ``exe.txt``), surrounding spaces removed."""
    return "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()


def _free_name(name: str, taken: set[str]) -> str:
    """``name`` with ``-2``, ``-3`` … before its suffix: the first that is not in ``taken``."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return next(f"{stem}-{n}{suffix}" for n in range(2, len(taken) + 3) if f"{stem}-{n}{suffix}" not in taken)


def _upload_problem(path: Path, name: str, max_mb: int) -> str:
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
        return f"die Datei hat {_number(size)} Bytes; die Seite nimmt Dateien bis {max_mb} MB (QA_MAX_UPLOAD_MB)"
    return ""


def _source_cell(article: ArticleInfo) -> str:
    """Who published it: the source's name, else the address's host."""
    return article.source or urllib.parse.urlsplit(article.url).hostname or "–"


def _waiting(text: str) -> str:
    return f'<div class="qa-note qa-draft">{escape(text)}</div>'


def build(app: ChatApp | None = None):
    """The Gradio Blocks of the page: the chat, and the articles of the index."""
    import gradio as gr

    app = app or ChatApp()
    # Gradio's own copies of uploads (in the upload folder's .incoming/) are deleted after an hour.
    with gr.Blocks(title="Fragen an deutsche Nachrichtenartikel", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## Fragen an deutsche Nachrichtenartikel\nJede Antwort nennt die Stellen der Artikel, "
                    "auf denen sie beruht; steht etwas nicht in den Artikeln, sagt sie das.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                _chat_tab(gr, app)
            with gr.Tab("Artikel", id="articles", elem_id="qa-articles-tab") as tab:
                refresh = _articles_tab(gr, app)
        tab.select(*refresh, api_visibility="private")
    return demo


def _chat_tab(gr, app: ChatApp) -> None:
    # Messages are HTML we escaped ourselves; rendered as Markdown too, "![x](http://…)" typed into the
    # chat or standing in an article would make every reader's browser fetch that address.
    chatbot = gr.Chatbot(label="Gespräch", height=520, elem_id="qa-chat", sanitize_html=True,
                         render_markdown=False, latex_delimiters=[],
                         placeholder="Stellen Sie eine Frage zu den Artikeln, zum Beispiel eine der "
                                     "Beispielfragen unten.")
    session = gr.State(app.new_session())
    with gr.Row():
        box = gr.Textbox(placeholder="Ihre Frage …", show_label=False, scale=6, elem_id="qa-question",
                         max_lines=4, autofocus=True)
        send = gr.Button("Fragen", variant="primary", scale=1, elem_id="qa-send")
    with gr.Row():
        mode = gr.Radio(list(MODES), value=_label(app.settings.mode), label="Antwort", elem_id="qa-mode", scale=3)
        restart = gr.Button("Neues Gespräch", scale=1, elem_id="qa-restart")
    gr.Examples(EXAMPLES, inputs=box, label="Beispielfragen")
    # API callers send their history as plain JSON, not through the chat: Gradio checks a chat's shape
    # itself and answers a wrong one only with "upstream app has raised an exception" (and a traceback
    # in the log), before respond could say what is wrong.
    history = gr.JSON(visible=False)
    api = gr.Button(visible=False)
    outputs = [box, chatbot, session]
    # One request at a time: two answers at once would share the two cores and both be slow. Waiting
    # users see their place in the queue on the chat.
    for event in (box.submit, send.click):
        event(app.respond, [box, chatbot, session, mode], outputs, api_visibility="private", concurrency_limit=1,
              concurrency_id="answer", show_progress="full")
    api.click(app.respond, [box, history, session, mode], outputs, api_name="chat", concurrency_limit=1,
              concurrency_id="answer")
    mode.change(app.choose, mode, None, api_visibility="private", queue=False)
    restart.click(lambda: ("", [], app.new_session()), None, outputs, api_visibility="private")


def _articles_tab(gr, app: ChatApp):
    """The index's articles: a filtered list, uploads synced with a progress bar, and removal.

    Returns the (function, inputs, outputs) that fill the list, for when the tab is opened."""
    with gr.Row():
        count = gr.Markdown(elem_id="qa-article-count")
        words = gr.Textbox(placeholder="Filter: Titel, Datum, Datei, Quelle …", show_label=False, scale=2,
                           elem_id="qa-article-filter")
    table = gr.Dataframe(headers=["Titel", "Datum", "Quelle", "Datei", "Teile"], interactive=False,
                         wrap=True, elem_id="qa-article-list", max_height=420,
                         column_widths=["46%", "11%", "17%", "19%", "7%"])
    with gr.Row():
        with gr.Column(scale=3):
            # No file_types: Gradio would refuse another type with an English toast; the report says why.
            files = gr.File(label="Artikel hinzufügen (" + ", ".join(SUPPORTED_SUFFIXES) + ")",
                            file_count="multiple", type="filepath", elem_id="qa-upload")
            with gr.Row():
                add = gr.Button("Zum Index hinzufügen", variant="primary", elem_id="qa-add", scale=2)
                replace = gr.Checkbox(label="Gleichnamige ersetzen", value=False, elem_id="qa-replace", scale=1,
                                      info="Dateien, die ein früherer Upload unter diesem Namen brachte")
        with gr.Column(scale=2):
            # allow_custom_value: an API caller names ids its session was never offered (/remove).
            chosen = gr.Dropdown(label="Artikel entfernen", multiselect=True, choices=[], elem_id="qa-remove-choice",
                                 info="Einen oder mehrere Artikel wählen; ihre Dateien bleiben erhalten.",
                                 allow_custom_value=True)
            drop = gr.Button("Aus dem Index entfernen", variant="stop", elem_id="qa-remove")
    report = gr.HTML(elem_id="qa-report")
    skipped_file = gr.File(label="Alle übersprungenen Dateien und Datensätze", visible=False, interactive=False,
                           elem_id="qa-skipped-file")

    def listed(text: str = ""):
        shown, rows, choices = app.list_articles(text or "")
        return shown, rows, gr.Dropdown(choices=choices, value=[])

    def added(files: list | None, filter_words: str | None = None, replace: bool = False, progress=gr.Progress()):
        def step(done: int, total: int) -> None:
            progress((done, total), desc="Artikel werden indexiert", unit="Artikel")

        done = app.add_files(files, step, replace=bool(replace))
        # The files held back stay chosen, for a second click once "Gleichnamige ersetzen" is ticked.
        keep = [f for f in files or [] if stored_name(Path(getattr(f, "name", f)).name) in done.held_back]
        listing = str(done.skipped_file) if done.skipped_file else None
        return (done.html, gr.File(value=listing, visible=listing is not None),
                keep or None, False, *listed(filter_words))

    def removed(article_ids: list[str] | None, filter_words: str | None = None):
        return (app.remove_articles(article_ids), *listed(filter_words))

    shown = [count, table, chosen]
    words.change(listed, words, shown, api_visibility="private", queue=False)
    # Syncing runs in a queue of its own: a question never waits for an upload (the index's locks keep
    # each question on one state of the index), and uploads and removals wait for each other.
    # Also an API: /upload (files, and replace=True to replace earlier uploads of the same names) and
    # /remove (article ids), each answering with the report the page shows.
    add.click(added, [files, words, replace], [report, skipped_file, files, replace, *shown], api_name="upload",
              concurrency_limit=1, concurrency_id="index", show_progress_on=report)
    drop.click(removed, [chosen, words], [report, *shown], api_name="remove", concurrency_limit=1,
               concurrency_id="index", show_progress_on=report)
    return listed, [words], shown


def _label(mode: str) -> str:
    return next(label for label, value in MODES.items() if value == mode)


def serve(settings: Settings | None = None, *, prevent_thread_lock: bool = False):
    """Start the page: 127.0.0.1:7860 unless GRADIO_SERVER_NAME/GRADIO_SERVER_PORT say otherwise."""
    settings = settings or Settings.from_env()
    host = os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = _port(host)  # before Gradio is imported: it reads GRADIO_SERVER_PORT with a bare int()
    from starlette.middleware import Middleware
    auth = _login(*settings.app_auth.split(":", 1)) if settings.app_auth else None
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        log.warning("serving on %s without a login: anyone who reaches this address can use the app; "
                    "set QA_APP_AUTH=user:password", host)
    # Gradio keeps each upload in its own temporary folder first: beside the uploads, not in /tmp.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.uploads / ".incoming"))
    app = ChatApp(settings)
    demo = build(app)
    demo.queue(max_size=64)
    # The index and the embedding model load while the page comes up, so the first fast answer does not
    # wait for them; the language model only when its mode is the default (else when it is chosen).
    app.warm_up(llm=settings.mode == "llm")
    # An explicit port: left to itself, Gradio would move to the next free one without a word.
    # Logins are throttled before Gradio sees them: one at a time, one failure a second, locked out after
    # QA_LOGIN_LOCKOUT_AFTER (qa.login).
    middleware = [Middleware(LoginLimiter, lockout_after=settings.login_lockout_after,
                             lockout_s=settings.login_lockout_s)] if auth else []
    # show_error: the handlers turn their own failures into German lines, so what reaches Gradio is its
    # own refusal of a request (a server path given as an upload, a missing value), which says why.
    launched = demo.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=True,
                           show_error=True, css=CSS, max_file_size=f"{settings.max_upload_mb}mb", quiet=True,
                           app_kwargs={"middleware": middleware})
    shown = f"[{host}]" if ":" in host else host
    print(f"Chat: http://{shown}:{port}/  (add your own articles in its tab „Artikel“; Ctrl+C stops it)", flush=True)
    if not prevent_thread_lock:
        demo.block_thread()
    return launched


def _port(host: str) -> int:
    """GRADIO_SERVER_PORT (default 7860), checked to be a port number that is free on ``host``."""
    raw = os.environ.get("GRADIO_SERVER_PORT", "7860").strip()
    if not raw.isdecimal() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"GRADIO_SERVER_PORT must be a port number between 1 and 65535, got {raw!r}")
    port = int(raw)
    bare = host.strip("[]")
    with socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is free
        try:
            probe.bind((bare, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} is already in use on {host}; set GRADIO_SERVER_PORT to a free "
                                  f"port, e.g. GRADIO_SERVER_PORT={port + 1 if port < 65535 else 7860}") from exc
            raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror}); check GRADIO_SERVER_NAME and "
                              "GRADIO_SERVER_PORT") from exc
    return port


def _login(user: str, password: str):
    """QA_APP_AUTH's check for Gradio's login form. How often it may be asked is ``qa.login``'s job."""
    user_bytes, password_bytes = user.encode(), password.encode()

    def check(username: str, typed: str) -> bool:
        # Both compared in constant time, and both always: the time taken tells nothing about either.
        right_user = hmac.compare_digest(username.encode(), user_bytes)
        right_password = hmac.compare_digest(typed.encode(), password_bytes)
        return right_user and right_password

    return check
