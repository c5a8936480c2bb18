"""LLM mode with a scripted model: prompts, streaming, verification, fallback, abstention and follow-ups.

Retrieval, the index and the e5 model are real; only the language model is scripted, so each test knows
exactly what the "model" wrote. The real model runs in tests/test_llm.py (marked ``llm``).
"""

import re

import pytest

from qa.answer import Answer
from qa.chat import check_history, clean_rewrite, condense
from qa.config import Settings
from qa.errors import QuestionError
from qa.llm_answer import fixed_prefix
from qa.pipeline import Pipeline
from qa.prompts import PROMPTS_DIR, load_prompt, render
from tests.conftest import SEEDS
from tests.fakes import ScriptedLLM

CALL = "Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, embedder):
    settings = Settings.from_env({}).with_(index_dir=tmp_path_factory.mktemp("llm-index"), seeds_dir=SEEDS)
    Pipeline(settings, embedder).ingest(progress=False)
    return settings


@pytest.fixture
def llm():
    return ScriptedLLM()


@pytest.fixture
def pipeline(indexed, embedder, llm):
    return Pipeline(indexed, embedder, llm)


def _passages(messages) -> dict[int, str]:
    user = messages[-1].content
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] (.+)$", user, re.M)}


def test_a_faithful_answer_is_returned_with_its_citations_renumbered(pipeline, llm):
    llm.say("Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1].")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "llm" and not answer.abstained and not answer.fallback_reason
    assert answer.text == "Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1]."
    assert [c.number for c in answer.citations] == [1]
    assert "21:30" in answer.citations[0].text and answer.citations[0].article
    assert answer.citations[0].quote in answer.citations[0].text


def test_the_prompt_holds_the_rules_the_example_and_trimmed_numbered_passages(pipeline, llm):
    llm.say("Um 21:30 Uhr MEZ [1].")
    pipeline.ask(CALL, mode="llm")
    messages = llm.calls[0]
    assert messages[:3] == fixed_prefix()  # the same prefix every time: llama.cpp keeps it evaluated
    assert "[1]" in messages[0].content and load_prompt("abstain_de") in messages[0].content
    passages = _passages(messages)
    assert 1 <= len(passages) <= 3 and "21:30" in passages[1]
    assert sum(len(t) for t in passages.values()) <= 700  # trimmed, not whole chunks
    assert CALL in messages[-1].content and "Antworte auf Deutsch." in messages[-1].content


def test_markers_are_renumbered_in_order_of_first_citation(pipeline, llm, monkeypatch):
    monkeypatch.setattr("qa.llm_answer.PASSAGE_MARGIN", 1.0)  # send three passages, whatever their scores
    llm.say("Um 21:30 Uhr MEZ [1].")
    pipeline.ask(CALL, mode="llm")
    passages = _passages(llm.calls[0])
    assert len(passages) == 3
    second, first = passages[3].split(" … ")[0], passages[1].split(" … ")[0]
    llm.say(f"{second} [3] {first} [1]")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "llm", answer.fallback_reason
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1", "2"]
    assert [c.text for c in answer.citations] == [passages[3], passages[1]]


def test_a_marker_naming_no_passage_is_repaired(pipeline, llm):
    llm.say("Das Telefonat soll um 21:30 Uhr MEZ stattfinden [9].")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "llm"
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1"] and "21:30" in answer.citations[0].text


def test_an_answer_with_an_invented_number_falls_back_to_the_extractive_answer(pipeline, llm):
    llm.say("Das Telefonat soll um 22:45 Uhr MEZ stattfinden [1].")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "extractive"
    assert "22:45" in answer.fallback_reason and "22:45" in answer.generated
    assert "21:30" in answer.text and answer.citations
    assert answer.text == pipeline.ask(CALL, mode="extractive").text


def test_an_answer_without_any_citation_that_nothing_supports_falls_back(pipeline, llm):
    llm.say("Ich denke, es war abends.")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "extractive" and "cites no passage" in answer.fallback_reason


def test_the_models_abstention_is_reported_as_abstained(pipeline, llm):
    llm.say("Dazu steht nichts in den Artikeln.")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.abstained and answer.answerer == "llm" and answer.citations == []
    assert answer.text == load_prompt("abstain_de")


def test_an_english_question_is_answered_and_abstains_in_english(pipeline, llm):
    llm.say("The articles do not say.")
    answer = pipeline.ask("At what time is the phone call between Putin and Biden on December 30?", mode="llm")
    assert "Antworte auf Englisch" in llm.calls[0][-1].content
    assert answer.abstained and answer.text == "The articles do not say."


def test_a_question_nothing_in_the_articles_answers_does_not_wait_for_the_model(pipeline, llm):
    answer = pipeline.ask("Wie hoch ist die Inflationsrate in Deutschland?", mode="llm")
    assert answer.abstained and llm.calls == []


def test_streaming_yields_the_text_as_generated_then_the_answer(pipeline, llm):
    llm.say("Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1].")
    items = list(pipeline.ask_stream(CALL, mode="llm"))
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 3
    assert isinstance(items[-1], Answer)
    assert "".join(items[:-1]) == "Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1]."


def test_extractive_mode_streams_its_answer_once(pipeline, llm):
    items = list(pipeline.ask_stream(CALL, mode="extractive"))
    assert len(items) == 2 and items[0] == items[1].text and llm.calls == []


def test_a_follow_up_takes_the_earlier_topic_without_asking_the_model(pipeline, llm):
    llm.say("Die Initiative ging von Putin aus [1].")
    history = [(CALL, "Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1].")]
    answer = pipeline.ask("Und wer hatte die Initiative dafür?", mode="llm", history=history)
    assert answer.question == "Und wer hatte die Initiative dafür? (Telefonat 30. Dezember stattfinden)"
    assert len(llm.calls) == 1 and answer.question in llm.calls[0][-1].content  # no rewrite: only the answer
    assert answer.answerer == "llm" and "Putin" in answer.text and "Initiative" in answer.citations[0].text


def test_a_follow_up_that_points_back_at_nothing_is_asked_as_it_is(pipeline, llm):
    answer = pipeline.ask("Und wer unterstützt die Separatisten?", mode="extractive",
                          history=[("In welchem Jahr hat Russland die Krim annektiert?", "2014 [1].")])
    assert answer.question == "Und wer unterstützt die Separatisten?" and llm.calls == []
    assert "unterstützt" in answer.text and "Separatisten" in answer.text


def test_a_follow_up_the_rules_cannot_resolve_is_rewritten_by_the_model(pipeline, llm):
    standalone = "Was sagte Juri Uschakow über das Telefonat?"
    llm.say(standalone, "Uschakow sagte, Putin habe Biden gewarnt [1].")
    history = [("Wer ist Putins außenpolitischer Berater?", "Putins Berater ist Juri Uschakow [1].")]
    answer = pipeline.ask("Was hat er über das Telefonat gesagt?", mode="llm", history=history)
    condense_prompt = llm.calls[0][-1].content
    assert history[0][0] in condense_prompt and "Was hat er über das Telefonat gesagt?" in condense_prompt
    assert "[1]" not in condense_prompt  # markers mean nothing to the rewrite
    assert answer.question == standalone and standalone in llm.calls[1][-1].content


def test_a_follow_up_neither_the_rules_nor_the_model_resolve_is_declined_without_generating(pipeline, llm):
    llm.say("Sein Amt ist seit dem 15. Dezember 2019.")  # an invented answer, not a rewrite
    answer = pipeline.ask("Und seit wann hat er dieses Amt inne?", mode="llm",
                          history=[("Wer ist der Sprecher des Kremls?", "Dmitri Peskow [1].")])
    assert answer.abstained and answer.text == "Dazu steht nichts in den Artikeln."
    assert len(llm.calls) == 1  # the rewrite only; no answer was generated


@pytest.mark.parametrize("question", ["Und wie hoch ist dort die Inflation?", "Wie alt ist er?"])
def test_the_earlier_topic_alone_does_not_count_as_resolving_a_follow_up(pipeline, llm, question):
    # The soldiers sentence matches the attached topic, not what is asked: the model must rewrite it.
    llm.say("Wie hoch ist die Inflation in Russland?")
    pipeline.ask(question, mode="extractive",
                 history=[("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?", "70.000 [1].")])
    assert len(llm.calls) == 1 and llm.calls[0][0].content == load_prompt("condense_system")


def test_a_rewrite_may_not_grow_a_question_past_the_limit(indexed, embedder, llm):
    settings = indexed.with_(max_question_chars=40)
    pipeline = Pipeline(settings, embedder, llm.say("x" * 30 + " Was sagte Juri Uschakow über das Telefonat?"))
    answer = pipeline.ask("Was hat er über das Telefonat gesagt?", mode="extractive",
                          history=[("Wer ist Putins außenpolitischer Berater?", "Juri Uschakow [1].")])
    assert len(llm.calls) == 1  # the rules found nothing, so the model was asked
    assert answer.question == "Was hat er über das Telefonat gesagt?" and answer.abstained  # left unresolved


def test_only_a_question_counts_as_a_rewrite():
    assert clean_rewrite("", "Und dafür?") is None
    assert clean_rewrite("Eigenständige Frage: „Wer hatte die Initiative?“\nAntwort: Putin", "x") == \
        "Wer hatte die Initiative?"
    assert clean_rewrite("x" * 500, "Und dafür?") is None
    assert clean_rewrite("Sein Amt ist seit dem 15. Dezember 2019.", "Seit wann?") is None  # answered


@pytest.mark.parametrize("history, message", [
    ("Frage", r"list of \(question, answer\) pairs, got str"),
    ([("nur die Frage",)], r"history\[0\] must be a \(question, answer\) pair"),
    ([("Frage", 42)], r"history\[0\]"),
])
def test_bad_history_is_refused_with_a_clear_error(history, message):
    with pytest.raises(QuestionError, match=message):
        check_history(history)


def test_every_prompt_renders_with_its_variables():
    names = sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))
    variables = {"answer_system": {"abstain_de": "A", "abstain_en": "B"},
                 "answer_user": {"passages": "[1] P", "question": "F?", "language_rule": "R"},
                 "condense_user": {"history": "Frage: F\nAntwort: A", "question": "Und?"},
                 "abstain_part_de": {"question": "Wo?"}, "abstain_part_en": {"question": "Where?"}}
    for name in names:
        text = render(name, **variables.get(name, {}))
        assert "$" not in text and text.strip(), name


def test_a_true_answer_that_leaves_out_what_was_asked_falls_back(pipeline, llm):
    llm.say("Die Ukraine soll Soldaten an die Linie zu den Separatistengebieten verlegt haben [1].")
    answer = pipeline.ask("Wie viele Soldaten soll die Ukraine nach Moskauer Darstellung an die Linie zu den "
                          "Separatistengebieten verlegt haben?", mode="llm")
    assert answer.answerer == "extractive" and "no number" in answer.fallback_reason
    assert "120.000" in answer.text


def test_an_answer_that_only_repeats_the_question_falls_back(pipeline, llm):
    llm.say("Mit dem Regierungschef Putin hatte sich Putin getroffen, bevor er sich zum Dialog äußerte [1].")
    answer = pipeline.ask("Mit welchem Regierungschef hatte sich Putin getroffen, bevor er sich zum Dialog "
                          "äußerte?", mode="llm")
    assert answer.answerer == "extractive" and answer.fallback_reason == "it only repeats the question"


def test_a_rewrite_that_takes_nothing_from_the_conversation_gets_the_earlier_question_attached():
    llm = ScriptedLLM("Was hat er über das Telefonat gesagt?")
    history = [("Wer ist Putins außenpolitischer Berater?", "Juri Uschakow [1].")]
    assert condense(llm, "Was hat er über das Telefonat gesagt?", history) == \
        "Was hat er über das Telefonat gesagt? (Putins außenpolitischer Berater)"


TWO_THINGS = ("Wie viele Soldaten hat Russland laut US-Geheimdiensten an der Grenze zusammengezogen, und wie viele "
              "soll umgekehrt die Ukraine laut Moskau an die Linie zu den Separatistengebieten verlegt haben?")


def test_a_question_that_asks_two_things_gets_the_passages_of_both(pipeline, llm):
    llm.say("Russland soll 70.000 Soldaten zusammengezogen haben [1], die Ukraine laut Moskau mehr als "
            "120.000 Soldaten verlegt haben [2].")
    answer = pipeline.ask(TWO_THINGS, mode="llm")
    passages = _passages(llm.calls[0])
    assert "70.000" in passages[1] and "120.000" in passages[2]
    assert sum(len(t) for t in passages.values()) <= 700 and TWO_THINGS in llm.calls[0][-1].content
    assert answer.answerer == "llm", answer.fallback_reason
    assert [c.number for c in answer.citations] == [1, 2]


def test_an_answer_to_one_of_two_things_falls_back_to_the_quotes_of_both(pipeline, llm):
    llm.say("Russland soll 70.000 Soldaten zusammengezogen haben [1].")
    answer = pipeline.ask(TWO_THINGS, mode="llm")
    # True and cited, but the second number is missing: the extractive answer has both.
    assert answer.answerer == "extractive" and answer.fallback_reason == "it answers only part of the question"
    assert "70.000" in answer.text and "120.000" in answer.text


def test_the_marked_sentence_is_the_one_the_statement_rests_on(pipeline, llm):
    question = ("Wann begann die Videokonferenz am Dienstag, und über welche Art von Leitung lief sie nach "
                "Kremlangaben?")
    llm.say("x [1].")
    pipeline.ask(question, mode="llm")
    passages = _passages(llm.calls[0])
    start = next(n for n, t in passages.items() if "kurz nach 16.00 Uhr MEZ begann" in t)
    line = next(n for n, t in passages.items() if "abhörsichere Leitung" in t)
    llm.say(f"Die Videokonferenz begann kurz nach 16.00 Uhr MEZ [{start}]. Nach Kremlangaben lief sie über eine "
            f"besonders geschützte und abhörsichere Leitung [{line}].")
    answer = pipeline.ask(question, mode="llm")
    assert answer.answerer == "llm", answer.fallback_reason
    # The passage sent for the second part also holds the best sentence for the first; the mark follows
    # what the answer says, not which sentence scored best for the question.
    assert [("16.00" in c.quote, "abhörsichere" in c.quote) for c in answer.citations] == [(True, False),
                                                                                          (False, True)]
