"""One conversation in the core (``qa.Conversation``): the chat page and ``qa chat`` keep the same turns, so the
same conversation gives the same standalone questions in both."""

from __future__ import annotations

import io
import re

import pytest

from qa.answer import Answer
from qa.cli import main
from qa.config import Settings
from qa.conversation import Conversation
from qa.web import ChatApp
from tests.conftest import CACHE, SEEDS
from tests.fakes import ScriptedLLM

FAST = "Schnell (zitierte Sätze)"
# A follow-up, a new topic, then two follow-ups in a row. Each is resolved against the turn before it as
# understood (the topic attached, or the model's rewrite): a history of the questions as typed, as `qa chat`
# kept before, resolves the fourth and fifth differently.
TURNS = [
    "Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?",
    "Und wer hatte die Initiative dafür?",
    "Wann soll in Genf das Treffen auf Diplomatenebene zwischen Russland und den USA stattfinden?",
    "Und was ist zwei Tage später geplant?",
    "Und wo soll diese Sitzung stattfinden?",
]
REWRITE = "Was sagte Kremlsprecher Dmitri Peskow über das Telefonat?"


@pytest.fixture
def shared(monkeypatch, tmp_path, embedder):
    """Settings from the environment (as ``qa chat`` reads them) over a seeded index, whose pipeline has a
    scripted model: a follow-up the cheap forms cannot resolve is rewritten the same way each time."""
    from qa.pipeline import Pipeline, _pipelines

    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("QA_CACHE_DIR", str(CACHE))
    settings = Settings.from_env()
    llm = ScriptedLLM(*[REWRITE] * 20)
    _pipelines[settings] = pipeline = Pipeline(settings, embedder, llm=llm)
    pipeline.ingest(progress=False)
    yield settings
    _pipelines.pop(settings, None)


def test_the_page_and_qa_chat_understand_a_conversation_alike(shared, capsys, monkeypatch):
    app = ChatApp(shared)
    chat, session = [], None
    for question in TURNS:
        *_, (_, chat, session) = app.respond(question, chat, session, FAST)
    page = [turn.understood for turn in session.talk.turns]
    assert len(page) == len(TURNS)
    assert page[1] == "Und wer hatte die Initiative dafür? (Telefonat 30. Dezember stattfinden)"
    assert page[3] != TURNS[3] and page[4] != TURNS[4]  # made standalone, not asked as typed

    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(TURNS) + "\n"))
    assert main(["chat", "--mode", "extractive"]) == 0
    err = capsys.readouterr().err
    cli = re.findall(r"^\(understood as: (.*)\)$", err, re.M)
    assert cli == [form for asked, form in zip(TURNS, page) if form != asked]


def test_the_history_pairs_understood_questions_with_their_answers():
    talk = Conversation()
    talk.record("Wann soll das Telefonat stattfinden?", Answer("Am 30. Dezember [1].",
                                                                question="Wann soll das Telefonat stattfinden?"))
    talk.record("  Und wer hatte   die Initiative? ", Answer("Putin [1].", question="Und wer hatte die Initiative? "
                                                                                      "(Telefonat stattfinden)"))
    assert talk.history() == [("Wann soll das Telefonat stattfinden?", "Am 30. Dezember [1]."),
                              ("Und wer hatte die Initiative? (Telefonat stattfinden)", "Putin [1].")]
    assert talk.turns[1].asked == "Und wer hatte die Initiative?"
    talk.clear()
    assert talk.history() == [] and len(talk) == 0


def test_a_failed_question_records_no_turn(shared):
    talk = Conversation(settings=shared)
    with pytest.raises(Exception, match="QA_MAX_QUESTION_CHARS"):
        talk.ask("Warum? " * 400)
    assert len(talk) == 0
    assert talk.ask("Wer ist der Sprecher des Kremls?").citations
    assert len(talk) == 1


def test_a_question_that_stands_on_its_own_is_asked_as_it_is_after_another_topic(shared):
    from qa.api import ask

    peskow = "Was hat Peskow über die Beziehungen der beiden Länder gesagt?"
    world_cup = "Wer hat die Fußball-Weltmeisterschaft 2022 gewonnen?"
    talk = Conversation(settings=shared)
    talk.ask(TURNS[2])  # Geneva
    after = talk.ask(peskow)
    assert after.question == peskow and "beklagenswert" in after.text
    assert after.text == ask(peskow, settings=shared).text  # as if asked first
    talk.ask("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?")
    assert talk.ask(world_cup).abstained  # not the soldiers' "Anfang 2022"
    assert talk.history()[-1][0] == world_cup  # and nothing piles up for the next question


def test_a_follow_up_that_points_back_is_still_made_standalone(shared):
    talk = Conversation(settings=shared)
    talk.ask(TURNS[0])
    assert talk.ask("Und wer hatte die Initiative dafür?").question != "Und wer hatte die Initiative dafür?"
