"""The chat page: rendering and behaviour on the real pipeline, then the running app (``python app.py`` in a
subprocess, or ``serve()`` in this process) driven in headless Chromium with Playwright, called through its
API with gradio_client, and sent uploads and logins over plain HTTP.

The page test saves a screenshot of a real answer with its sources to test-artifacts/answer.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from qa.answer import Answer, Citation
from qa.config import Settings
from qa.errors import ConfigError
from qa.render import render_answer
from qa.web import ChatApp, build, conversation_of, serve
from tests.conftest import CACHE, ROOT, SEEDS

SOLDIERS = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"
FAST = "Schnell (zitierte Sätze)"
GENERATED = "Ausformuliert (Sprachmodell)"
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
    declined = render_answer(Answer("Dazu steht nichts in den Artikeln.", abstained=True), 1)
    assert declined == '<div class="qa-answer qa-abstained">Dazu steht nichts in den Artikeln.</div>'  # said once
    html = render_answer(Answer("Satz [1].", [_citation()], answerer="extractive",
                                fallback_reason="the number 22:45 is not in the cited text"), 1)
    assert "Extraktive Antwort" in html and "22:45" in html
    from qa.answer import ASKED_AGAIN

    again = render_answer(Answer("um 21:30 Uhr MEZ – „Satz“ [1]", [_citation()], answerer="llm",
                                 fallback_reason=f"the short answer „22:45“ is in none of the sentences shown; "
                                                 f"{ASKED_AGAIN}"), 1)
    assert "zweites Mal gefragt" in again and "Extraktive Antwort" not in again and "stand nicht darin" not in again


def test_the_chat_renders_no_markdown_or_latex():
    # Our messages are HTML we escaped ourselves: rendered as Markdown as well, "![x](http://…)" in a
    # question or an article would make the browser fetch it, and "**x**" would lose its stars.
    chat = next(block for block in build(ChatApp(Settings.from_env({}))).blocks.values()
                if getattr(block, "elem_id", None) == "qa-chat")
    assert chat.render_markdown is False and chat.latex_delimiters == [] and chat.sanitize_html is True
    html = render_answer(Answer("**fett** [Verweis](http://x) [1]", [_citation(text="![q](http://host/x.png)")]), 1)
    assert "**fett** [Verweis](http://x) <a" in html and "<p>![q](http://host/x.png)</p>" in html


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
    box, chat, session = _last(app.respond(SOLDIERS, [], None, FAST))
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"]
    assert "70.000" in chat[1]["content"] and "qa-source" in chat[1]["content"]
    assert session.talk.history()[0][0] == SOLDIERS and "70.000" in session.talk.history()[0][1]
    assert session.shown == 2


def test_a_cited_article_opens_whole_under_its_passage_with_the_sentence_marked(app):
    _, chat, _ = _last(app.respond(SOLDIERS, [], None, FAST))
    shown = chat[1]["content"]
    assert '<details class="qa-article"><summary>Ganzen Artikel lesen</summary>' in shown
    article = shown[shown.index('<details class="qa-article">'):]
    # The whole article: its first paragraph too, not only the cited passage.
    first = (SEEDS / "004_9f2cb45af6900b9b.txt").read_text(encoding="utf-8").split("\n")
    assert any(" ".join(line.split())[:40] in article for line in first[1:4] if line.strip())
    assert re.search(r'<span class="qa-passage">[^<]*<mark>[^<]*70\.000 Soldaten', article)


def test_the_history_is_the_conversation_as_shown(app):
    _, chat, session = _last(app.respond(SOLDIERS, [], None, FAST))
    _, fresh, restarted = _last(app.respond("Wer?", [], session, FAST))  # an emptied chat starts afresh
    assert len(fresh) == 2 and len(restarted.talk) <= 1 and restarted.talk is not session.talk


def test_the_chat_api_takes_the_conversation_as_plain_json_and_gives_it_back(app):
    box, chat, turns = _last(app.chat_api(SOLDIERS, None, FAST))
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"] and "qa-source" in chat[1]["content"]
    assert [(t["question"], t["understood"]) for t in turns] == [(SOLDIERS, SOLDIERS)]
    assert "70.000" in turns[0]["answer"] and "<" not in turns[0]["answer"]  # the answer's text, not HTML
    # Sent back: the follow-up is understood; the earlier turn is shown by its text.
    _, chat, turns = _last(app.chat_api("Und wie viele soll die Ukraine laut Moskau verlegt haben?", turns, FAST))
    assert len(turns) == 2 and "120.000" in turns[1]["answer"] and "120.000" in chat[-1]["content"]
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    assert chat[1]["content"] == f'<div class="qa-answer">{turns[0]["answer"]}</div>'


def test_a_history_of_plain_messages_pairs_each_answer_with_the_question_before_it():
    talk = conversation_of([{"role": "assistant", "content": "Hallo."},   # no question before it
                            {"role": "user", "content": "Wann?"}, {"role": "user", "content": "Wo <genau>?"},
                            {"role": "assistant", "content": [{"type": "text", "text": "In Genf [1]."}]},
                            {"question": "Wer?", "understood": "Wer (Genf)?", "answer": "Lawrow."},
                            {"question": "Wie?", "answer": "Per Video."}])
    assert talk.history() == [("Wo <genau>?", "In Genf [1]."), ("Wer (Genf)?", "Lawrow."), ("Wie?", "Per Video.")]


def test_empty_input_does_nothing(app):
    history = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
    box, chat, turns = _last(app.chat_api("   \n", history, FAST))
    assert box == "   \n" and turns == [{"question": "x", "understood": "x", "answer": "y"}]
    assert chat == [{"role": "user", "content": "x"},
                    {"role": "assistant", "content": '<div class="qa-answer">y</div>'}]
    box, chat, session = _last(app.respond("   \n", [], None, FAST))
    assert (box, chat, len(session.talk)) == ("   \n", [], 0)


def test_too_long_input_is_refused_with_a_message_and_kept_in_the_box(app):
    long = "Warum? " * 400
    box, chat, session = _last(app.respond(long, [], None, FAST))
    assert box == long and len(session.talk) == 0
    assert "Fehler" in chat[-1]["content"] and "QA_MAX_QUESTION_CHARS" in chat[-1]["content"]


def test_a_failure_below_shows_one_line_not_a_traceback(app, monkeypatch):
    import qa.api
    from qa.stream import StreamingAnswer

    def broken(*args, **kwargs):
        def steps():
            raise OSError("disk full\nTraceback (most recent call last): …")
            yield  # pragma: no cover

        return StreamingAnswer(steps())

    monkeypatch.setattr(qa.api, "ask_stream", broken)
    _, chat, _ = _last(app.respond(SOLDIERS, [], None, FAST))
    assert chat[-1]["content"] == '<div class="qa-note qa-error">Fehler: OSError: disk full</div>'


@pytest.mark.parametrize("history", ["not a list", [1, 2], [{"role": "user"}],
                                     [{"role": "system", "content": "x"}], [{"role": "user", "content": 3}],
                                     [{"question": "x", "answer": 3}],
                                     [{"question": "x", "answer": "y", "understood": 1}],
                                     [{"role": "user", "content": "Wann?"},     # the page's HTML sent back
                                      {"role": "assistant", "content": '<div class="qa-answer">Heute.</div>'}]])
def test_a_wrongly_shaped_history_is_answered_with_what_is_wrong(app, history):
    box, chat, turns = _last(app.chat_api(SOLDIERS, history, FAST))
    assert box == SOLDIERS and turns == [] and [m["role"] for m in chat] == ["user", "assistant"]
    error = chat[-1]["content"]
    assert error.startswith('<div class="qa-note qa-error">Fehler: ') and "Chatverlauf" in error and "\n" not in error


class _CountingLLM:
    """Stands in for the language model; counts the prompt prefixes it is warmed up with."""

    def __init__(self) -> None:
        self.prefixes = 0

    def warm_up(self, prefix=()) -> None:
        self.prefixes += 1


def _join_warm_up() -> None:
    for thread in threading.enumerate():
        if thread.name == "qa-warm-up":
            thread.join(120)


def test_choosing_the_generated_mode_loads_its_model_in_the_background_once(app, embedder):
    from qa.pipeline import Pipeline, _pipelines

    settings = app.settings.with_(llm_url="http://127.0.0.1:9/v1", llm_model="counting")
    llm = _CountingLLM()
    _pipelines[settings] = Pipeline(settings, embedder, llm=llm)
    try:
        chat_app = ChatApp(settings)
        chat_app.choose(FAST)
        _join_warm_up()
        assert llm.prefixes == 0
        chat_app.choose(GENERATED)
        _join_warm_up()
        warmed = llm.prefixes
        assert warmed > 0
        chat_app.choose(FAST)
        chat_app.choose(GENERATED)  # chosen again: already loaded
        _join_warm_up()
        assert llm.prefixes == warmed
    finally:
        del _pipelines[settings]


def test_the_fast_answer_shows_at_once_and_the_models_words_replace_it_as_they_stream(app, embedder):
    from qa.pipeline import Pipeline, _pipelines
    from tests.fakes import ScriptedLLM
    from tests.test_llm_answer import pick

    settings = app.settings.with_(llm_url="http://127.0.0.1:9/v1", llm_model="scripted")
    _pipelines[settings] = Pipeline(settings, embedder, llm=ScriptedLLM(pick("21:30", "um 21:30 Uhr MEZ")))
    try:
        steps = [chat[-1]["content"] for _, chat, _ in ChatApp(settings).respond(
            "Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?", [], None, GENERATED)]
    finally:
        del _pipelines[settings]
    assert "Suche in den Artikeln" in steps[0]  # never an empty bubble
    # Before the model has written a word: the fast answer, cited, and a note that the model is at work.
    assert "qa-source" in steps[1] and "21:30" in steps[1] and "Sprachmodell formuliert" in steps[1]
    streaming = steps[2:-1]
    assert streaming and all("▌" in step and "qa-source" in step for step in streaming)  # its passages stay
    assert steps[-1].startswith('<div class="qa-answer">um 21:30 Uhr MEZ – „') and "▌" not in steps[-1]


def test_a_second_draft_shows_the_fast_answer_again_and_the_models_words_start_afresh(app, monkeypatch):
    # The model's first copy could not be used: it is asked again, and meanwhile the fast answer is shown.
    import qa.api
    from qa.render import render_draft, render_streaming
    from qa.stream import Draft, StreamingAnswer

    fast = Answer("Moskau hat 70.000 Soldaten zusammengezogen [1].", [_citation()])
    final = Answer("70.000 Soldaten [1]", [_citation()], answerer="llm")

    def steps():
        yield from (Draft(fast), "7", "0.000", Draft(fast), "70.000 Soldaten")
        return final

    monkeypatch.setattr(qa.api, "ask_stream", lambda *args, **kwargs: StreamingAnswer(steps()))
    shown = [chat[-1]["content"] for _, chat, _ in app.respond(SOLDIERS, [], None, GENERATED)]
    assert shown[1:] == [render_draft(fast, 1), render_streaming("7", fast, 1), render_streaming("70.000", fast, 1),
                         render_draft(fast, 1), render_streaming("70.000 Soldaten", fast, 1),
                         render_answer(final, 1, app.article)]
    assert shown[1].endswith('<div class="qa-note qa-draft">Das Sprachmodell formuliert die Antwort …</div>')
    assert shown[3].startswith('<div class="qa-answer">70.000 ▌</div><div class="qa-sources">')


# --- the running app --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    """What the ``server`` prints."""
    return tmp_path_factory.mktemp("app-log") / "app.log"


@pytest.fixture(scope="module")
def served_index(tmp_path_factory) -> Path:
    """The index folder of the ``server``."""
    return tmp_path_factory.mktemp("served-index")


@pytest.fixture(scope="module")
def server(served_index, server_log):
    """``python app.py`` on a free port with its own index, until the module's tests are done."""
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "QA_SEEDS_DIR": str(SEEDS),
           "QA_INDEX_DIR": str(served_index), "QA_CACHE_DIR": str(CACHE)}
    with server_log.open("wb") as out:  # an index of its own is not seeded by itself: fill it first
        ingest = subprocess.run([sys.executable, "-m", "qa", "ingest", "--no-progress"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, timeout=300)
    if ingest.returncode != 0:
        pytest.fail(f"qa ingest failed:\n{server_log.read_text(errors='replace')[-3000:]}")
    with server_log.open("ab") as out:
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
                    pytest.fail(f"app.py did not start:\n{server_log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def serve_here(monkeypatch, embedder):
    """``serve(settings)`` in this process on a free port, sharing the session's embedding model; returns
    the page's address and the pipeline it answers with. Closed after the test."""
    from qa.pipeline import Pipeline, _pipelines

    started = []

    def start(settings: Settings) -> tuple[str, Pipeline]:
        _pipelines[settings] = Pipeline(settings, embedder)
        monkeypatch.setenv("GRADIO_SERVER_PORT", str(_free_port()))
        app, url, _ = serve(settings, prevent_thread_lock=True)
        started.append((app.get_blocks(), settings))
        return url, _pipelines[settings]

    yield start
    _join_warm_up()
    for demo, settings in started:
        demo.close()
        _pipelines.pop(settings, None)


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


DATA = ROOT / "tests" / "data"
BRIDGE_URL = "https://www.mainfranken-bote.example/wuerzburg/neue-fussgaengerbruecke-ueber-den-main-1234"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.slow
def test_articles_uploaded_through_the_page_are_listed_answered_from_cited_and_opened(page):
    # 1. The article list: the seeds the server was started with.
    page.get_by_role("tab", name="Artikel").click()
    page.locator("#qa-article-count").get_by_text("5 Artikel im Index").wait_for(timeout=60_000)
    _shot(page, "articles-1-list.png")
    # 2. An HTML page and a JSONL export (two good records, a broken line, a record without text), at once.
    page.locator("#qa-upload input[type=file]").set_input_files([str(DATA / "wuerzburg-bruecke.html"),
                                                                 str(DATA / "export.jsonl")])
    page.locator("#qa-upload").get_by_text(".jsonl", exact=True).wait_for(timeout=30_000)  # shown as its parts
    page.locator("#qa-add").click()
    report = page.locator("#qa-report .qa-report")
    report.wait_for(timeout=180_000)
    shown = report.inner_text()
    assert "3 hinzugefügt" in shown, shown
    assert "2 übersprungen" in shown and "export.jsonl Zeile 3" in shown and "export.jsonl Zeile 4" in shown
    page.locator("#qa-article-count").get_by_text("8 Artikel im Index").wait_for(timeout=30_000)
    listed = page.locator("#qa-article-list").inner_text()
    assert "Neue Fußgängerbrücke über den Main: Stadtrat stimmt zu" in listed and "2024-03-14" in listed
    assert "Kölner Dom bekommt neue Glocke" in listed and "Rhein-Echo" in listed
    _shot(page, "articles-2-uploaded.png")
    # 3. The filter.
    page.locator("#qa-article-filter textarea, #qa-article-filter input").first.fill("Glocke")
    page.locator("#qa-article-count").get_by_text("1 passen zum Filter").wait_for(timeout=30_000)
    assert "Hamburger Hafen" not in page.locator("#qa-article-list").inner_text()
    # 4. A question only the uploaded page answers: cited, with its address.
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "Wie viel übernimmt der Freistaat Bayern für die Planung der Brücke?")
    source = page.locator("#qa-chat .qa-source").first
    source.wait_for(timeout=120_000)
    assert "120.000 Euro" in page.locator("#qa-chat .qa-answer").last.inner_text()
    link = source.locator(".qa-source-head a.qa-url")
    assert link.get_attribute("href") == BRIDGE_URL and link.inner_text() == "Mainfranken-Bote"
    _shot(page, "articles-3-answer.png")
    # 5. The citation opens the whole article in the page, passage and sentence marked.
    source.get_by_text("Ganzen Artikel lesen").click()
    article = source.locator(".qa-article")
    article.locator(".qa-article-head").wait_for(timeout=10_000)
    whole = article.inner_text()
    assert "Der Würzburger Stadtrat hat am Donnerstagabend" in whole and "LED-Leuchten" in whole
    assert "Anzeige" not in whole and "Cookies" not in whole and "Skript" not in whole
    assert "übernimmt davon 120.000 Euro für die Planung" in article.locator("mark").inner_text()
    assert page.url.startswith("http://127.0.0.1")  # never left the page
    _shot(page, "articles-4-opened.png")


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
def test_markdown_typed_into_the_chat_is_shown_as_text(page, server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    typed = f"![q]({server}qa-probe.png) **fett** [Verweis](http://example.invalid/) $$x^2$$"
    _ask(page, typed)
    page.locator("#qa-chat .qa-answer, #qa-chat .qa-note").last.wait_for(timeout=120_000)
    page.locator("#qa-chat").get_by_text(typed).first.wait_for(timeout=10_000)
    assert page.locator("#qa-chat img, #qa-chat strong, #qa-chat a[href^='http'], #qa-chat .katex").count() == 0
    assert not [url for url in requested if "qa-probe" in url]  # the image was never fetched


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
    box, chat, turns = client.predict(SOLDIERS, [], FAST, api_name="/chat")
    assert box == "" and "70.000" in _text(chat[-1]) and "qa-source" in _text(chat[-1])
    assert turns[0]["question"] == SOLDIERS and "70.000" in turns[0]["answer"]
    # The turns sent back as the history: a follow-up is understood, by this client or any other.
    _, chat, turns = Client(server, verbose=False).predict(
        "Und wie viele soll die Ukraine laut Moskau verlegt haben?", turns, FAST, api_name="/chat")
    assert "120.000" in _text(chat[-1]) and len(turns) == 2


@pytest.mark.slow
def test_the_chat_api_answers_a_wrongly_shaped_history_with_what_is_wrong(server, server_log):
    from gradio_client import Client

    client = Client(server, verbose=False)
    logged = server_log.stat().st_size
    for history in ("not a list", [1, 2]):
        box, chat, turns = client.predict("Frage", history, FAST, api_name="/chat")
        error = _text(chat[-1])
        assert box == "Frage" and "Fehler: " in error and "Chatverlauf" in error and "\n" not in error
        assert turns == []
    with server_log.open("rb") as log:
        log.seek(logged)
        assert b"Traceback" not in log.read()


def _upload(server: str, size: int) -> int:
    """The status of posting a file of ``size`` bytes to Gradio's upload route."""
    boundary = "qa-test-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n")
    body = head.encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{server}gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_an_upload_above_the_limit_is_refused(server):
    assert Settings().max_upload_mb == 20
    assert _upload(server, 100) == 200
    assert _upload(server, 20 * 1024 * 1024 + 1) == 413


# --- serving --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_make_run_serves_the_chat_at_the_address_it_prints(tmp_path):
    """``make run`` as a user runs it: the checkout's own index (built from seeds/ when there is none),
    the chat on 127.0.0.1 at the printed address, answering through gradio_client."""
    import signal

    from gradio_client import Client

    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("QA_")}
    env["GRADIO_SERVER_PORT"] = str(port)  # 7860 may be taken on a shared machine; the default is tested below
    fresh = not (ROOT / ".index").exists()
    out = tmp_path / "make-run.log"
    with out.open("wb") as log:
        proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while url not in out.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run printed no address:\n{out.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        _, chat, _ = Client(url, verbose=False).predict(SOLDIERS, [], FAST, api_name="/chat")
        answer = _text(chat[-1])
        assert 'class="qa-answer"' in answer and "Fehler" not in answer
        if fresh:  # built from seeds/ by this run
            assert "70.000" in answer and (ROOT / ".index").is_dir()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "Traceback" not in out.read_text(errors="replace")


def test_a_port_that_is_no_number_is_refused_in_one_line_naming_the_variable():
    env = {**os.environ, "GRADIO_SERVER_PORT": "abc"}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: GRADIO_SERVER_PORT must be a port number between 1 and 65535, got 'abc'\n"


@pytest.mark.parametrize("port", ["0", "70000", "-1", ""])
def test_a_port_out_of_range_is_refused(app, monkeypatch, port):
    monkeypatch.setenv("GRADIO_SERVER_PORT", port)
    with pytest.raises(ConfigError, match=f"^GRADIO_SERVER_PORT must be a port number between 1 and 65535, "
                                          f"got '{port}'$"):
        serve(app.settings, prevent_thread_lock=True)


def test_a_busy_port_is_refused_not_moved_from(app, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("GRADIO_SERVER_PORT", str(port))
        with pytest.raises(ConfigError, match=f"port {port} is already in use on 127.0.0.1; set "
                                              "GRADIO_SERVER_PORT to a free port"):
            serve(app.settings, prevent_thread_lock=True)


def test_serving_loads_no_language_model_for_fast_answers(app, serve_here):
    from gradio_client import Client

    # A model behind an address nothing answers: cheap to create, should it be created, and never asked.
    url, pipeline = serve_here(app.settings.with_(llm_url="http://127.0.0.1:9/v1", llm_model="unused"))
    _, chat, _ = Client(url, verbose=False).predict(SOLDIERS, [], FAST, api_name="/chat")
    assert "70.000" in _text(chat[-1])
    _join_warm_up()
    assert "llm" not in pipeline.__dict__


def _login(url: str, password: str) -> int:
    body = urllib.parse.urlencode({"username": "anna", "password": password}).encode()
    try:
        with urllib.request.urlopen(f"{url}login", data=body, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


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


# --- issue 38: uploads beside answers, cleaned questions, the login throttle ---------------------------

def test_the_chat_api_answers_the_question_alone(server):
    from gradio_client import Client

    box, chat, _ = Client(server, verbose=False).predict(SOLDIERS, api_name="/chat")  # a new talk, default mode
    assert box == "" and "70.000" in _text(chat[-1])


def _queue(server: str, api_name: str, data: list) -> list[dict]:
    """Call an endpoint as a browser does (join the queue, read its event stream), with ``data`` sent as
    JSON whose strings may hold lone surrogates (written as escapes, as JavaScript's JSON.stringify does)."""
    import json
    import uuid

    config = json.loads(urllib.request.urlopen(f"{server}config", timeout=30).read())
    fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)
    session = uuid.uuid4().hex
    body = json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()  # ensure_ascii: "\ud800" goes as an escape
    request = urllib.request.Request(f"{server}gradio_api/queue/join", data=body,
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    events = []
    with urllib.request.urlopen(f"{server}gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                events.append(json.loads(line[5:]))
                if events[-1].get("msg") == "process_completed":
                    break
    return events


def test_a_question_with_lone_surrogates_is_answered_not_dropped(server, server_log):
    logged = server_log.stat().st_size
    events = _queue(server, "chat", ["Wie viele Soldaten hat \ud800 Russland an der Grenze\udfff zusammengezogen?",
                                     [], FAST])
    done = events[-1]
    assert done["msg"] == "process_completed" and done["success"], done
    chat = done["output"]["data"][1]
    assert "70.000" in _text(chat[-1])
    assert "\ufffd" in _text(chat[0]) or "Russland" in _text(chat[0])
    with server_log.open("rb") as log:
        log.seek(logged)
        assert b"surrogates not allowed" not in log.read()


def test_a_question_is_answered_while_an_upload_waits_for_another_ingest(page, served_index, tmp_path):
    """A CLI ingest (here: its writer lock, held by this test) makes a page upload wait; the chat answers
    meanwhile at its own pace instead of queueing behind the upload."""
    from qa.locking import FolderLocks

    release = threading.Event()
    held = threading.Event()

    def cli_ingest() -> None:
        with FolderLocks(served_index).writer():
            held.set()
            release.wait(120)

    note = tmp_path / "stadtfest.md"
    note.write_text("---\ntitle: Stadtfest in Lübeck\ndate: 2024-06-01\n---\n\nDas **Stadtfest** beginnt um 21:30 Uhr "
                    "auf dem Markt; erwartet werden 120.000 Gäste.\n", encoding="utf-8")
    writer = threading.Thread(target=cli_ingest, daemon=True)
    writer.start()
    try:
        assert held.wait(30)
        page.get_by_role("tab", name="Artikel").click()
        page.locator("#qa-upload input[type=file]").set_input_files([str(note)])
        page.locator("#qa-upload").get_by_text("stadtfest.md").first.wait_for(timeout=30_000)
        page.locator("#qa-add").click()
        time.sleep(2)  # the upload has reached the writer lock and waits there
        page.get_by_role("tab", name="Chat").click()
        started = time.monotonic()
        _ask(page, SOLDIERS)
        page.locator("#qa-chat .qa-source").first.wait_for(timeout=60_000)
        took = time.monotonic() - started
        assert "70.000" in page.locator("#qa-chat .qa-answer").last.inner_text()
        assert writer.is_alive()  # answered while the ingest still held the index
        assert took < 15, took     # idle: 1–3 s in the browser; before: as long as the other ingest ran
    finally:
        release.set()
        writer.join(30)
    page.get_by_role("tab", name="Artikel").click()
    page.locator("#qa-report .qa-report").get_by_text("1 hinzugefügt").wait_for(timeout=120_000)


def _logins(url: str, password: str, n: int) -> list[int]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: _login(url, password), range(n)))


@pytest.mark.slow
def test_wrong_logins_sent_at_once_are_checked_one_a_second_then_locked_out(app, serve_here):
    url, _ = serve_here(app.settings.with_(app_auth="anna:geheim"))  # the defaults: locked out after 10
    started = time.monotonic()
    statuses = _logins(url, "falsch", 12)
    took = time.monotonic() - started
    assert took >= 11.5, took  # one at a time, a second each; before: all 12 in about 4 s
    assert sorted(statuses) == [400] * 10 + [429] * 2  # the 11th and 12th: locked out
    assert _login(url, "geheim") == 429  # the lockout holds for the owner's address too, for a while


@pytest.mark.slow
def test_the_right_login_works_again_when_the_lockout_ends(app, serve_here):
    url, _ = serve_here(app.settings.with_(app_auth="anna:geheim", login_lockout_after=3, login_lockout_s=5))
    assert _logins(url, "falsch", 3) == [400] * 3
    assert _login(url, "geheim") == 429
    time.sleep(5)
    assert _login(url, "geheim") == 200
    assert _login(url, "falsch") == 400  # a right login starts the count afresh


def test_the_upload_api_asks_for_an_explicit_flag_before_replacing_and_refuses_server_paths(server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    first, second = tmp_path / "a" / "faehre.txt", tmp_path / "b" / "faehre.txt"
    for path, text in ((first, "Die Fähre über die Elbe fährt ab 21:30 Uhr nicht mehr."),
                       (second, "Die Fähre über die Elbe fährt wieder, sagte die Reederei „Elbe-Link“.")):
        path.parent.mkdir()
        path.write_text(f" date 2024-05-02\n\n{text}\n", encoding="utf-8")
    assert "1 hinzugefügt" in client.predict([handle_file(str(first))], api_name="/upload")[0]
    held = client.predict([handle_file(str(second))], api_name="/upload")[0]
    assert "Nicht ersetzt" in held and "faehre.txt" in held
    assert "1 aktualisiert" in client.predict([handle_file(str(second))], "", True, api_name="/upload")[0]
    # A path on the server, sent as a browser would send an uploaded file's: refused, saying which and why.
    done = _queue(server, "upload", [[{"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}], "", False])
    assert not done[-1]["success"] and "/etc/hostname" in (done[-1]["output"]["error"] or ""), done[-1]
    fresh = Client(server, verbose=False)  # a session that was never offered the id
    assert "upload/faehre.txt" in fresh.predict(["upload/faehre.txt"], api_name="/remove")[0]
