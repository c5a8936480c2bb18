"""The chat window: a Gradio page over ``qa.ask_stream``, with the cited passages under every answer, and the
articles of the index, where a user adds their own files and removes articles.

It holds no answering logic of its own: a question goes to the same streaming API that Python users call,
through the same ``qa.Conversation`` that ``qa chat`` keeps, and the page only shows what comes back (its
HTML: ``qa.render``; uploads' names and refusals: ``qa.uploads``). A cited passage opens its whole article
in the page (title, date, source and address; passage and sentence marked). The chat renders no Markdown
or LaTeX. The page keeps each browser session's conversation beside its chat; the ``/chat`` API takes the
conversation as plain JSON instead and returns it with the answer (``conversation_of``, ``turns_of``), so a
wrongly shaped one is answered with a sentence saying what is wrong; history and mode may be left out.
Every message the page shows is German (``qa.german``).

Uploaded files (the formats of ``qa.formats``; at most QA_MAX_UPLOAD_MB each) are kept
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
import logging
import os
import shutil
import socket
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from qa.answer import Answer
from qa.config import Settings
from qa.conversation import Conversation
from qa.errors import ConfigError, QAError, QuestionError
from qa.formats import SUPPORTED_SUFFIXES
from qa.login import LoginLimiter
from qa.questions import clean_text
from qa.render import (escape, render_answer, render_draft, render_error, render_removed, render_report,
                       render_streaming, render_waiting, valid)
from qa.store import ArticleInfo
from qa.sync import IngestReport, namespace_of
from qa.uploads import UPLOADS, Upload, plan_upload, skip_list, skipped, stored_name

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


@dataclass
class Session:
    """One browser session's conversation, and how many chat messages it was last shown as.

    A chat of another length is not the one this session showed (a page left open while the app was
    restarted, say): its messages are not read back, a new conversation starts.
    """

    talk: Conversation
    shown: int = 0


class ChatApp:
    """The page's behaviour, apart from Gradio: what a message, an upload or a removal does."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._llm_warming = False

    def respond(self, message: str, chat: list | None = None, session: Session | None = None,
                mode_label: str | None = None) -> Iterator[tuple[str, list[dict], Session]]:
        """The page's question: yield (textbox, chat, session) as the answer streams in.

        ``chat`` is the page's own chat and ``session`` the conversation it shows (none: a new one);
        ``mode_label`` a label of ``MODES`` or a mode (none: QA_MODE). The question is cleaned first, as
        every route cleans it (``qa.questions.clean_text``): what is shown and sent back is what was asked.
        The fast answer shows at once; in the generated mode the model's words replace it as they stream.
        """
        session = session if isinstance(session, Session) else self.new_session()
        chat = [{"role": m["role"], "content": _plain(m["content"])} for m in chat or []]
        if len(chat) != session.shown:
            session = Session(Conversation(settings=self.settings), len(chat))
        yield from self._answer(message, chat, session, mode_label)

    def chat_api(self, message: str, history: object = None,
                 mode_label: str | None = None) -> Iterator[tuple[str, list[dict], list[dict]]]:
        """The ``/chat`` API: yield (textbox, chat, turns) as the answer streams in.

        ``history`` is the conversation so far as plain JSON (``conversation_of``): the ``turns`` an earlier
        call returned, or chat messages of plain text; none: a new conversation. A wrongly shaped one is
        answered with what is wrong. ``chat`` shows the conversation as the page does (HTML), its last message
        the answer with its sources; ``turns`` is the conversation as plain JSON, the next call's history.
        """
        try:
            talk = conversation_of(history, self.settings)
        except QuestionError as exc:  # say what is wrong, as the answer
            typed, message = _read(message)
            yield typed, [*_asked(message), {"role": "assistant", "content": render_error(str(exc))}], []
            return
        chat = chat_of(talk)
        for box, chat, session in self._answer(message, chat, Session(talk, len(chat)), mode_label):
            yield box, chat, turns_of(session.talk)

    def _answer(self, message: str, chat: list[dict], session: Session,
                mode_label: str | None) -> Iterator[tuple[str, list[dict], Session]]:
        """``message`` answered in ``session``'s conversation, shown under ``chat``, step by step."""
        typed, message = _read(message)
        if not isinstance(message, str) or not message.strip():
            yield typed, chat, session  # empty input does nothing
            return
        mode = MODES.get(mode_label, mode_label if mode_label in MODES.values() else self.settings.mode)
        turn = len(session.talk) + 1
        chat += [*_asked(message), {"role": "assistant", "content": render_waiting("Suche in den Artikeln …")}]
        session.shown = len(chat)
        yield "", chat, session
        try:
            # Closed before the answer is shown: the stream holds the index's read lock, and showing it
            # reads the cited articles.
            with session.talk.ask_stream(message, mode=mode) as stream:
                for text in stream:
                    # A step that brought the fast answer (again when the model is asked a second time):
                    # shown while the model writes, its words then replace it.
                    if not text and not stream.text and stream.draft is not None:
                        chat[-1] = {"role": "assistant", "content": render_draft(stream.draft, turn)}
                        yield "", chat, session
                    elif mode == "llm":
                        chat[-1] = {"role": "assistant", "content": render_streaming(stream.text, stream.draft, turn)}
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
        name of its own (``name-2.txt``), or skipped when its bytes are the first one's (``qa.uploads``).
        The files are indexed from a staging folder and only then moved in, so a failed ingest leaves the
        upload folder as it was.
        """
        from qa.api import ingest

        try:
            uploaded = self._uploaded_files()
        except QAError as exc:
            return Upload(render_error(str(exc)))
        folder = self.settings.uploads
        plan = plan_upload([Path(getattr(f, "name", f)) for f in files or []], uploaded, folder,
                           self.settings.max_upload_mb, replace)

        def done(report: IngestReport | None = None, error: str = "") -> Upload:
            skips = skipped(report, plan.refused)
            listing = None if error else skip_list(skips, self._reports())
            return Upload(render_report(report, skips, plan.notes, plan.held_back) + error, listing, plan.held_back)

        if not plan.staged:
            return done() if plan.refused or plan.held_back else Upload(render_error("Keine Datei gewählt."))
        staging = folder / f".staging-{uuid.uuid4().hex[:12]}"
        try:
            staging.mkdir(parents=True)
            for name, path in plan.staged.items():
                shutil.copyfile(path, staging / name)
            report = ingest(sorted(staging.iterdir()), add=True, progress=progress or False,
                            settings=self.settings, namespace=UPLOADS)
            kept = self._uploaded_files()
            for name in plan.staged:  # a file that gave no article at all is not kept
                if name in kept:
                    os.replace(staging / name, folder / name)
        except QAError as exc:
            return done(error=render_error(str(exc)))
        except OSError as exc:
            return done(error=render_error(f"das Upload-Verzeichnis {folder} ist nicht beschreibbar ({exc.strerror})"))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return done(report)

    def _reports(self) -> Path:
        """Where the lists of skipped files go: Gradio's own upload folder, which it serves and clears."""
        return Path(os.environ.get("GRADIO_TEMP_DIR") or self.settings.uploads / ".incoming") / "berichte"

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
        return render_removed(gone, titles)

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


def conversation_of(history: object, settings: Settings | None = None) -> Conversation:
    """The conversation a ``/chat`` caller sends as its history, in plain text (no HTML).

    Each entry is a turn as ``turns_of`` gives it, ``{"question": …, "understood": …, "answer": …}``
    (``understood`` may be left out), or a chat message ``{"role": "user" | "assistant", "content": …}``, an
    answer after its question. A wrongly shaped history raises ``QuestionError`` naming what is wrong.

    >>> conversation_of([{"role": "user", "content": "Wann?"}, {"role": "assistant", "content": "Heute."}]).history()
    [('Wann?', 'Heute.')]
    """
    talk = Conversation(settings=settings)
    if history is None:
        return talk
    if not isinstance(history, list):
        raise QuestionError('the chat history must be a list of turns {"question": text, "answer": text} or of '
                            'messages {"role": "user" or "assistant", "content": text}, '
                            f"got {type(history).__name__}")
    question = None  # a user's message, until the answer after it
    for i, entry in enumerate(history):
        if _is_turn(entry):
            talk.record(valid(entry["question"]), Answer(valid(entry["answer"]),
                                                         question=valid(entry.get("understood") or "")))
            question = None
        elif _is_message(entry):
            text = valid(_plain(entry["content"]))
            if 'class="qa-' in text:   # the page's own HTML, sent back: the turns say it in plain text
                raise QuestionError(f"chat history[{i}] is the page's HTML; send the turns that /chat returned "
                                    "(its third value) as the history instead")
            if entry["role"] == "user":
                question = text
            elif question is not None:
                talk.record(question, Answer(text))
                question = None
        else:
            raise QuestionError(f'chat history[{i}] must be a turn {{"question": text, "answer": text}} or a '
                                f'message {{"role": "user" or "assistant", "content": text}}, '
                                f"got {valid(repr(entry))[:80]}")
    return talk


def _is_turn(entry: object) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("question"), str)
            and isinstance(entry.get("answer"), str) and isinstance(entry.get("understood", ""), (str, type(None))))


def _is_message(entry: object) -> bool:
    return (isinstance(entry, dict) and entry.get("role") in ("user", "assistant")
            and _plain(entry.get("content")) is not None)


def turns_of(talk: Conversation) -> list[dict]:
    """``talk`` as plain JSON, what the ``/chat`` API returns for the next call's history."""
    return [{"question": turn.asked, "understood": turn.understood, "answer": turn.answer.text}
            for turn in talk.turns]


def chat_of(talk: Conversation) -> list[dict]:
    """The chat that shows ``talk``'s turns: each question and its answer's text (a history brings no passages)."""
    chat = []
    for n, turn in enumerate(talk.turns, 1):
        chat += [*_asked(turn.asked), {"role": "assistant", "content": render_answer(turn.answer, n)}]
    return chat


def _plain(content: object) -> str | None:
    """A message's content as text (Gradio 6 sends a list of typed parts); None when it holds no text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and isinstance(part.get("text"), str)
                                         for part in content):
        return "".join(part["text"] for part in content)
    return None


def _read(message: object) -> tuple[str, object]:
    """(what the box keeps when it must, the question as asked): cleaned as every route cleans it."""
    if not isinstance(message, str):
        return "", message
    return valid(message), clean_text(message)


def _asked(message: object) -> list[dict]:
    """The user's message as the chat shows it: escaped, on one line; none for an empty one."""
    if not isinstance(message, str) or not message.strip():
        return []
    return [{"role": "user", "content": escape(" ".join(message.split()))}]


def _source_cell(article: ArticleInfo) -> str:
    """Who published it: the source's name, else the address's host."""
    return article.source or urllib.parse.urlsplit(article.url).hostname or "–"


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
    # API callers send their conversation as plain JSON, not through the chat: Gradio checks a chat's shape
    # itself and answers a wrong one only with "upstream app has raised an exception" (and a traceback
    # in the log), before chat_api could say what is wrong. They get it back, with the new turn, as JSON.
    history, turns = gr.JSON(visible=False), gr.JSON(visible=False)
    api = gr.Button(visible=False)
    outputs = [box, chatbot, session]
    # One request at a time: two answers at once would share the two cores and both be slow. Waiting
    # users see their place in the queue on the chat.
    for event in (box.submit, send.click):
        event(app.respond, [box, chatbot, session, mode], outputs, api_visibility="private", concurrency_limit=1,
              concurrency_id="answer", show_progress="full")
    api.click(app.chat_api, [box, history, mode], [box, chatbot, turns], api_name="chat", concurrency_limit=1,
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
