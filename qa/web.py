"""The chat window: a Gradio page over ``qa.ask_stream``, with the cited passages under every answer.

It holds no answering logic of its own: a question goes to the same streaming API that Python users call,
and the page only shows what comes back. Everything shown is escaped first, so HTML or a script typed
into the chat, or standing in an article, is shown as text.

    python app.py           # or: qa serve    → http://127.0.0.1:7860 (GRADIO_SERVER_NAME/_PORT to change)
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from typing import Iterator

from qa.answer import Answer, Citation, Draft
from qa.config import Settings
from qa.errors import QAError

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

    def respond(self, message: str, chat: list[dict], pairs: list[tuple[str, str]], mode_label: str
                ) -> Iterator[tuple[str, list[dict], list[tuple[str, str]]]]:
        """Yield (textbox, chat, pairs) as the answer streams in; ``pairs`` is the (question, answer) history."""
        from qa.api import ask_stream

        chat = list(chat or [])
        pairs = conversation(chat, pairs)
        if not isinstance(message, str) or not message.strip():
            yield message or "", chat, pairs  # empty input does nothing
            return
        mode = MODES.get(mode_label, mode_label if mode_label in MODES.values() else "extractive")
        chat.append({"role": "user", "content": escape(" ".join(message.split()))})
        chat.append({"role": "assistant", "content": "…"})
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


def conversation(chat: list[dict], pairs: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """The (question, answer) history of the chat as shown.

    ``pairs`` is the session's own record (with each follow-up's standalone form); it is used when it
    matches the chat. A chat from elsewhere (an API caller sending its own history, or none) is read
    from its messages instead, so the history is always the one the caller sees.
    """
    turns = []
    question = None
    for message in chat:
        text = _plain(message.get("content", ""))
        if message.get("role") == "user":
            question = text
        elif message.get("role") == "assistant" and question is not None:
            answer = re.search(r'<div class="qa-answer">(.*?)</div>', text, re.S)
            if answer:  # answered turns only: an error line is no answer to follow up on
                turns.append((html.unescape(question), html.unescape(re.sub(r"<[^>]+>", "", answer.group(1)))))
            question = None
    pairs = [tuple(p) for p in pairs or []]
    return pairs if len(pairs) == len(turns) else turns


def _plain(content) -> str:
    """A message's content as text: Gradio 6 sends a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def build(settings: Settings | None = None):
    """The Gradio Blocks of the chat page."""
    import gradio as gr

    app = ChatApp(settings)
    with gr.Blocks(title="Fragen an deutsche Nachrichtenartikel", analytics_enabled=False) as demo:
        gr.Markdown("## Fragen an deutsche Nachrichtenartikel\nJede Antwort nennt die Stellen der Artikel, "
                    "auf denen sie beruht; steht etwas nicht in den Artikeln, sagt sie das.")
        chatbot = gr.Chatbot(label="Gespräch", height=520, elem_id="qa-chat", sanitize_html=True,
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
        inputs, outputs = [box, chatbot, pairs, mode], [box, chatbot, pairs]
        # One request at a time: two answers at once would share the two cores and both be slow. Waiting
        # users see their place in the queue on the chat.
        box.submit(app.respond, inputs, outputs, api_name="chat", concurrency_limit=1, concurrency_id="answer",
                   show_progress="full")
        send.click(app.respond, inputs, outputs, api_visibility="private", concurrency_limit=1,
                   concurrency_id="answer", show_progress="full")
        restart.click(lambda: ("", [], []), None, outputs, api_visibility="private")
    return demo


def _label(mode: str) -> str:
    return next(label for label, value in MODES.items() if value == mode)


def serve(settings: Settings | None = None, *, prevent_thread_lock: bool = False):
    """Start the page: 127.0.0.1:7860 unless GRADIO_SERVER_NAME/GRADIO_SERVER_PORT say otherwise."""
    settings = settings or Settings.from_env()
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    auth = tuple(settings.app_auth.split(":", 1)) if settings.app_auth else None
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        log.warning("serving on %s without a login: anyone who reaches this address can use the app; "
                    "set QA_APP_AUTH=user:password", host)
    demo = build(settings)
    demo.queue(max_size=64)
    # The index and the model (with its fixed prompt prefixes) load while the page comes up, not on the
    # first question: both answer modes are one click away.
    from qa.pipeline import pipeline_for

    threading.Thread(target=_warm_up, args=(pipeline_for(settings),), daemon=True).start()
    return demo.launch(auth=auth, prevent_thread_lock=prevent_thread_lock, show_error=False, css=CSS)


def _warm_up(pipeline) -> None:
    try:
        pipeline.ensure_index()
        pipeline.warm_up_llm()
    except Exception:  # the first question reports it, as one line, if it matters
        log.exception("warming up the language model failed")
