"""The chat page: rendering and behaviour on the real pipeline, then the running app (``python app.py`` in a
subprocess) driven in headless Chromium with Playwright, and called through its API with gradio_client.

The page test saves a screenshot of a real answer with its sources to test-artifacts/answer.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from qa.answer import Answer, Citation
from qa.config import Settings
from qa.web import ChatApp, conversation, render_answer
from tests.conftest import CACHE, ROOT, SEEDS

SOLDIERS = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"
FAST = "Schnell (zitierte Sätze)"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _citation(**changes) -> Citation:
    values = dict(number=1, text="Vorher. US-Geheimdienstlern zufolge hat Moskau dort 70.000 Soldaten "
                                 "zusammengezogen. Danach.", article="004_x.txt", title="Titel „Ukraine“",
                  date="2021-12", score=1.0, quote="US-Geheimdienstlern zufolge hat Moskau dort 70.000 "
                                                   "Soldaten zusammengezogen.")
    return Citation(**{**values, **changes})


# --- rendering --------------------------------------------------------------------------------------

def test_markers_link_to_their_passage_and_the_cited_sentence_is_marked():
    html = render_answer(Answer("Moskau hat 70.000 Soldaten zusammengezogen [1].", [_citation()]), turn=3)
    assert '<a href="#qa-src-3-1">[1]</a>' in html and 'id="qa-src-3-1"' in html
    assert "<mark>US-Geheimdienstlern zufolge hat Moskau dort 70.000 Soldaten zusammengezogen.</mark>" in html
    assert "Titel „Ukraine“" in html and "2021-12" in html and "004_x.txt" in html


def test_html_in_an_answer_or_an_article_is_escaped():
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    html = render_answer(Answer(f"{evil} [1]", [_citation(text=evil, quote="", title=evil, article=evil)]), 1)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_declined_and_fallback_answers_are_marked():
    assert "beantworten diese Frage nicht" in render_answer(Answer("Dazu steht nichts in den Artikeln.",
                                                                   abstained=True), 1)
    html = render_answer(Answer("Satz [1].", [_citation()], answerer="extractive",
                                fallback_reason="the number 22:45 is not in the cited text"), 1)
    assert "Extraktive Antwort" in html and "22:45" in html


# --- behaviour on the real pipeline -----------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory, embedder):
    from qa.pipeline import Pipeline, _pipelines

    settings = Settings.from_env({}).with_(index_dir=tmp_path_factory.mktemp("app-index"), seeds_dir=SEEDS,
                                           cache_dir=CACHE)
    _pipelines[settings] = Pipeline(settings, embedder)  # share the session's loaded model
    _pipelines[settings].ingest(progress=False)
    return ChatApp(settings)


def _last(steps):
    return list(steps)[-1]


def test_a_question_gets_the_answer_and_its_passages_and_the_history_grows(app):
    box, chat, pairs = _last(app.respond(SOLDIERS, [], [], FAST))
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"]
    assert "70.000" in chat[1]["content"] and "qa-source" in chat[1]["content"]
    assert pairs[0][0] == SOLDIERS and "70.000" in pairs[0][1]


def test_the_history_is_the_conversation_as_shown(app):
    _, chat, pairs = _last(app.respond(SOLDIERS, [], [], FAST))
    assert _last(app.respond("Wer?", [], pairs, FAST))[2][:-1] == []  # a fresh chat starts afresh
    # A chat sent from elsewhere, without the session's record: read from its messages.
    assert conversation(chat, None)[0][0] == SOLDIERS and "70.000" in conversation(chat, None)[0][1]
    assert conversation(chat, pairs) == pairs


def test_empty_input_does_nothing(app):
    chat = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    assert _last(app.respond("   \n", chat, [("x", "y")], FAST)) == ("   \n", chat, [])  # "y" is no answer


def test_too_long_input_is_refused_with_a_message_and_kept_in_the_box(app):
    long = "Warum? " * 400
    box, chat, pairs = _last(app.respond(long, [], [], FAST))
    assert box == long and pairs == []
    assert "Fehler" in chat[-1]["content"] and "QA_MAX_QUESTION_CHARS" in chat[-1]["content"]


def test_a_failure_below_shows_one_line_not_a_traceback(app, monkeypatch):
    import qa.api

    def broken(*args, **kwargs):
        raise OSError("disk full\nTraceback (most recent call last): …")
        yield  # pragma: no cover

    monkeypatch.setattr(qa.api, "ask_stream", broken)
    _, chat, _ = _last(app.respond(SOLDIERS, [], [], FAST))
    assert chat[-1]["content"] == '<div class="qa-note qa-error">Fehler: OSError: disk full</div>'


# --- the running app --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python app.py`` on a free port with its own index, until the module's tests are done."""
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "QA_SEEDS_DIR": str(SEEDS),
           "QA_INDEX_DIR": str(tmp_path_factory.mktemp("served-index")), "QA_CACHE_DIR": str(CACHE)}
    log = tmp_path_factory.mktemp("app-log") / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"app.py did not start:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed (Debian package `chromium`); run `make test`")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1200, "height": 1100}, locale="de-DE")
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#qa-question textarea", timeout=60_000)  # past Gradio's loading spinner
    yield page
    context.close()


def _ask(page, question: str) -> None:
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")


@pytest.mark.slow
def test_the_page_answers_a_german_question_with_its_cited_passage(page):
    # An example question; Gradio may draw the examples a moment after the question box.
    page.get_by_text("Wann ist die Sitzung des NATO-Russland-Rates geplant?").first.wait_for(timeout=30_000)
    _ask(page, SOLDIERS)
    source = page.locator("#qa-chat .qa-source").first
    source.wait_for(timeout=120_000)
    answer = page.locator("#qa-chat .qa-answer").last.inner_text()
    assert "70.000" in answer and "[1]" in answer
    assert "70.000 Soldaten zusammengezogen" in page.locator("#qa-chat .qa-source mark").first.inner_text()
    assert "004_" in source.inner_text()  # the source file
    page.locator("#qa-chat .qa-answer a").first.click()  # the marker links to its passage
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)


@pytest.mark.slow
def test_script_typed_into_the_chat_is_shown_as_text(page):
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    typed = '<script>window.pwned = 1; alert("x")</script><b id="bold">fett</b>'
    _ask(page, typed)
    page.locator("#qa-chat .qa-answer, #qa-chat .qa-note").last.wait_for(timeout=120_000)
    page.locator("#qa-chat").get_by_text('<script>window.pwned = 1; alert("x")</script>').first.wait_for(
        timeout=10_000)
    assert page.evaluate("window.pwned") is None and page.locator("#bold").count() == 0


@pytest.mark.slow
def test_the_start_over_button_clears_the_conversation(page):
    _ask(page, SOLDIERS)
    page.locator("#qa-chat .qa-source").first.wait_for(timeout=120_000)
    page.locator("#qa-restart").click()
    page.wait_for_function("document.querySelectorAll('#qa-chat .qa-answer').length === 0", timeout=10_000)


def _text(message: dict) -> str:
    """A chat message's text: Gradio 6 sends its content as a list of typed parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


@pytest.mark.slow
def test_the_chat_api_answers_through_gradio_client(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    box, chat = client.predict(SOLDIERS, [], FAST, api_name="/chat")
    assert box == "" and "70.000" in _text(chat[-1]) and "qa-source" in _text(chat[-1])
    # The same client is one session: a follow-up is understood.
    _, chat = client.predict("Und wie viele soll die Ukraine laut Moskau verlegt haben?", chat, FAST,
                             api_name="/chat")
    assert "120.000" in _text(chat[-1])


@pytest.mark.slow
@pytest.mark.llm
def test_a_generated_answer_streams_through_the_api(server):
    from gradio_client import Client

    client = Client(server, verbose=False)
    job = client.submit("Wann ist die Sitzung des NATO-Russland-Rates geplant?", [],
                        "Ausformuliert (Sprachmodell)", api_name="/chat")
    final = job.result(timeout=300)
    assert "12. Januar" in _text(final[1][-1])
    assert len(job.outputs()) > 3  # the answer arrived in pieces before the verified one


@pytest.mark.slow
@pytest.mark.llm
def test_a_second_user_sees_that_they_are_queued_while_the_model_answers_the_first(page, server):
    from gradio_client import Client

    first = Client(server, verbose=False).submit(
        "Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?", [], "Ausformuliert (Sprachmodell)",
        api_name="/chat")
    deadline = time.monotonic() + 60
    while first.status().code.name not in ("PROCESSING", "ITERATING") and time.monotonic() < deadline:
        time.sleep(0.05)
    page.get_by_label("Ausformuliert (Sprachmodell)").check()
    _ask(page, "Wann ist die Sitzung des NATO-Russland-Rates geplant?")
    page.get_by_text(re.compile(r"queue", re.I)).first.wait_for(timeout=30_000)  # Gradio's "queue: 1/1"
    first.result(timeout=300)
    page.locator("#qa-chat .qa-source").first.wait_for(timeout=300_000)  # then it is answered too
    # Two conversations, each its own: the page shows only its own question.
    assert page.locator("#qa-chat").get_by_text("Um wie viel Uhr soll das Telefonat").count() == 0
