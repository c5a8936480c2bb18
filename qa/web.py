"""The chat window: a Gradio page over ``qa.ask_stream``, with the cited passages under every answer.

It holds no answering logic of its own: a question goes to the same streaming API that Python users call,
and the page only shows what comes back. Everything shown is escaped first and the chat renders no
Markdown or LaTeX, so HTML, a script, ``**stars**`` or an image link typed into the chat, or standing in
an article, is shown as text. The ``/chat`` API takes its history as plain JSON, so a wrongly shaped one
is answered with a sentence saying what is wrong.

Serving starts lean: the index and the embedding model load at once, the language model when its mode
is chosen (or at start with QA_MODE=llm). GRADIO_SERVER_PORT is taken as given: a busy port is an error,
not quietly the next one. Uploads are refused above 1 MB (the page takes no files), and with QA_APP_AUTH
every failed login in a row waits longer than the one before.

    python app.py           # or: qa serve    → http://127.0.0.1:7860 (GRADIO_SERVER_NAME/_PORT to change)
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import html
import logging
import os
import re
import socket
import threading
from typing import Iterator

from qa.answer import Answer, Citation, Draft
from qa.config import Settings
from qa.errors import ConfigError, QAError, QuestionError

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
.qa-note.qa-abstained { border-left-color: #6b7280; }
"""
MAX_UPLOAD = "1mb"  # the page takes no files: an upload is only ever someone filling the disk
LOGIN_DELAY, LOGIN_MAX_DELAY = 0.25, 4.0  # seconds after a failed login; doubling with each failure in a row


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def render_answer(answer: Answer, turn: int) -> str:
    """The verified answer as HTML: markers linked to the passages below it, and a note when it was
    declined or came from the extractive fallback. ``turn`` keeps anchors apart between answers."""
    numbers = {c.number for c in answer.citations}

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        return f'<a href="#qa-src-{turn}-{n}">[{n}]</a>' if n in numbers else match.group(0)

    linked = re.sub(r"\[(\d+)\]", link, escape(answer.text))
    parts = [f'<div class="qa-answer">{linked}</div>']
    if answer.abstained:
        parts.append('<div class="qa-note qa-abstained">Die Artikel beantworten diese Frage nicht.</div>')
    elif answer.fallback_reason and answer.answerer == "extractive":
        parts.append('<div class="qa-note qa-fallback">Extraktive Antwort: die Antwort des Sprachmodells hielt '
                     f'der Prüfung gegen ihre Quellen nicht stand ({escape(answer.fallback_reason)}).</div>')
    elif answer.fallback_reason:
        parts.append('<div class="qa-note qa-fallback">Der gewählte Satz wird zitiert: die Kurzantwort des '
                     f'Sprachmodells stand nicht darin ({escape(answer.fallback_reason)}).</div>')
    if answer.citations:
        parts.append('<div class="qa-sources">' + "".join(render_citation(c, turn) for c in answer.citations)
                     + "</div>")
    return "".join(parts)


def render_citation(citation: Citation, turn: int) -> str:
    """One cited passage in full, with its title, date and file, the sentence the answer rests on marked."""
    text = citation.text
    start = text.find(citation.quote) if citation.quote else -1
    if start >= 0:
        body = (escape(text[:start]) + "<mark>" + escape(citation.quote) + "</mark>"
                + escape(text[start + len(citation.quote):]))
    else:
        body = escape(text)
    return (f'<div class="qa-source" id="qa-src-{turn}-{citation.number}">'
            f'<div class="qa-source-head">[{citation.number}] <b>{escape(citation.title)}</b> · '
            f'{escape(citation.date)} · <code>{escape(citation.article)}</code></div>'
            f"<p>{body}</p></div>")


def render_error(message: str) -> str:
    return f'<div class="qa-note qa-error">Fehler: {escape(message)}</div>'


class ChatApp:
    """The page's behaviour, apart from Gradio: what a message does to a conversation."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._llm_warming = False

    def respond(self, message: str, chat: object, pairs: list[tuple[str, str]], mode_label: str
                ) -> Iterator[tuple[str, list[dict], list[tuple[str, str]]]]:
        """Yield (textbox, chat, pairs) as the answer streams in; ``pairs`` is the (question, answer) history.

        ``chat`` is the page's own chat, or whatever JSON an API caller sent as its history.
        """
        from qa.api import ask_stream

        try:
            chat = messages(chat)
        except QuestionError as exc:  # an API caller's history: say what is wrong, as the answer
            yield message, [*_asked(message), {"role": "assistant", "content": render_error(str(exc))}], []
            return
        pairs = conversation(chat, pairs)
        if not isinstance(message, str) or not message.strip():
            yield message or "", chat, pairs  # empty input does nothing
            return
        mode = MODES.get(mode_label, mode_label if mode_label in MODES.values() else "extractive")
        chat += [*_asked(message), {"role": "assistant", "content": "…"}]
        yield "", chat, pairs
        streamed = ""
        try:
            for item in ask_stream(message, mode=mode, history=pairs, settings=self.settings):
                if isinstance(item, Answer):
                    chat[-1] = {"role": "assistant", "content": render_answer(item, len(pairs) + 1)}
                    pairs.append((item.question, item.text))
                    yield "", chat, pairs
                    return
                if isinstance(item, Draft):  # the fast answer, to read while the model works
                    chat[-1] = {"role": "assistant", "content": render_answer(item.answer, len(pairs) + 1)
                                + '<div class="qa-note qa-draft">Das Sprachmodell formuliert die Antwort …</div>'}
                    yield "", chat, pairs
                    continue
                if mode == "llm":
                    streamed += item
                    chat[-1] = {"role": "assistant", "content": escape(streamed) + " ▌"}
                    yield "", chat, pairs
        except QAError as exc:  # bad input: say why, keep the conversation
            chat[-1] = {"role": "assistant", "content": render_error(str(exc))}
            yield message, chat, pairs
        except Exception as exc:  # a failure below us: one line, never a traceback
            log.exception("answering failed")
            chat[-1] = {"role": "assistant",
                        "content": render_error(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])}
            yield message, chat, pairs

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
        pipeline.embedder.warm_up()
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
                                f'"content": text}}, got {message!r:.80}')
        out.append({"role": message["role"], "content": text})
    return out


def _plain(content: object) -> str | None:
    """A message's content as text (Gradio 6 sends a list of typed parts); None when it holds no text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) and isinstance(part.get("text"), str)
                                         for part in content):
        return "".join(part["text"] for part in content)
    return None


def _asked(message: object) -> list[dict]:
    """The user's message as the chat shows it: escaped, on one line; none for an empty one."""
    if not isinstance(message, str) or not message.strip():
        return []
    return [{"role": "user", "content": escape(" ".join(message.split()))}]


def conversation(chat: list[dict], pairs: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """The (question, answer) history of ``chat`` (as ``messages`` returns it) as shown.

    ``pairs`` is the session's own record (with each follow-up's standalone form); it is used when it
    matches the chat. A chat from elsewhere (an API caller sending its own history, or none) is read
    from its messages instead, so the history is always the one the caller sees.
    """
    turns = []
    question = None
    for message in chat:
        text = message["content"]
        if message["role"] == "user":
            question = text
        elif question is not None:
            answer = re.search(r'<div class="qa-answer">(.*?)</div>', text, re.S)
            if answer:  # answered turns only: an error line is no answer to follow up on
                turns.append((html.unescape(question), html.unescape(re.sub(r"<[^>]+>", "", answer.group(1)))))
            question = None
    pairs = [tuple(p) for p in pairs or []]
    return pairs if len(pairs) == len(turns) else turns


def build(app: ChatApp | None = None):
    """The Gradio Blocks of the chat page."""
    import gradio as gr

    app = app or ChatApp()
    with gr.Blocks(title="Fragen an deutsche Nachrichtenartikel", analytics_enabled=False) as demo:
        gr.Markdown("## Fragen an deutsche Nachrichtenartikel\nJede Antwort nennt die Stellen der Artikel, "
                    "auf denen sie beruht; steht etwas nicht in den Artikeln, sagt sie das.")
        # Messages are HTML we escaped ourselves; rendered as Markdown too, "![x](http://…)" typed into the
        # chat or standing in an article would make every reader's browser fetch that address.
        chatbot = gr.Chatbot(label="Gespräch", height=520, elem_id="qa-chat", sanitize_html=True,
                             render_markdown=False, latex_delimiters=[],
                             placeholder="Stellen Sie eine Frage zu den Artikeln, zum Beispiel eine der "
                                         "Beispielfragen unten.")
        pairs = gr.State([])
        with gr.Row():
            box = gr.Textbox(placeholder="Ihre Frage …", show_label=False, scale=6, elem_id="qa-question",
                             max_lines=4, autofocus=True)
            send = gr.Button("Fragen", variant="primary", scale=1, elem_id="qa-send")
        with gr.Row():
            mode = gr.Radio(list(MODES), value=_label(app.settings.mode), label="Antwort", elem_id="qa-mode",
                            scale=3)
            restart = gr.Button("Neues Gespräch", scale=1, elem_id="qa-restart")
        gr.Examples(EXAMPLES, inputs=box, label="Beispielfragen")
        # API callers send their history as plain JSON, not through the chat: Gradio checks a chat's shape
        # itself and answers a wrong one only with "upstream app has raised an exception" (and a traceback
        # in the log), before respond could say what is wrong.
        history = gr.JSON(visible=False)
        api = gr.Button(visible=False)
        inputs, outputs = [box, chatbot, pairs, mode], [box, chatbot, pairs]
        # One request at a time: two answers at once would share the two cores and both be slow. Waiting
        # users see their place in the queue on the chat.
        for event in (box.submit, send.click):
            event(app.respond, inputs, outputs, api_visibility="private", concurrency_limit=1,
                  concurrency_id="answer", show_progress="full")
        api.click(app.respond, [box, history, pairs, mode], outputs, api_name="chat", concurrency_limit=1,
                  concurrency_id="answer")
        mode.change(app.choose, mode, None, api_visibility="private", queue=False)
        restart.click(lambda: ("", [], []), None, outputs, api_visibility="private")
    return demo


def _label(mode: str) -> str:
    return next(label for label, value in MODES.items() if value == mode)


def serve(settings: Settings | None = None, *, prevent_thread_lock: bool = False):
    """Start the page: 127.0.0.1:7860 unless GRADIO_SERVER_NAME/GRADIO_SERVER_PORT say otherwise."""
    settings = settings or Settings.from_env()
    host = os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = _port(host)  # before Gradio is imported: it reads GRADIO_SERVER_PORT with a bare int()
    auth = _login(*settings.app_auth.split(":", 1)) if settings.app_auth else None
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        log.warning("serving on %s without a login: anyone who reaches this address can use the app; "
                    "set QA_APP_AUTH=user:password", host)
    app = ChatApp(settings)
    demo = build(app)
    demo.queue(max_size=64)
    # The index and the embedding model load while the page comes up, so the first fast answer does not
    # wait for them; the language model only when its mode is the default (else when it is chosen).
    app.warm_up(llm=settings.mode == "llm")
    # An explicit port: left to itself, Gradio would move to the next free one without a word.
    return demo.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=prevent_thread_lock,
                       show_error=False, css=CSS, max_file_size=MAX_UPLOAD)


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
    """QA_APP_AUTH's check for Gradio's login form; each failed login in a row waits twice as long.

    The count is shared by all clients (Gradio passes no request), so guessing is slow from anywhere. The
    wait is an asyncio sleep, since Gradio awaits an async check: the page keeps serving meanwhile, and
    attempts wait side by side rather than in a queue, so a flood of them never locks the owner out for
    longer than the longest wait.
    """
    user_bytes, password_bytes = user.encode(), password.encode()
    failures = 0

    async def check(username: str, typed: str) -> bool:
        nonlocal failures
        # Both compared in constant time, and both always: the time taken tells nothing about either.
        right_user = hmac.compare_digest(username.encode(), user_bytes)
        right_password = hmac.compare_digest(typed.encode(), password_bytes)
        if right_user and right_password:
            failures = 0
            return True
        failures = min(failures + 1, 16)  # past the longest wait; 2 ** failures stays a small number
        await asyncio.sleep(min(LOGIN_DELAY * 2 ** (failures - 1), LOGIN_MAX_DELAY))
        return False

    return check
