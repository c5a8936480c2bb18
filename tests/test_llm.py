"""The real language model, end to end (marked ``llm``: they need both cores and take about a minute).

They check facts, citations and behaviour, never the model's wording.
"""

import re

import pytest

from qa.answer import Answer
from qa.config import Settings
from qa.llm_model import SIZE, ensure_llm_model
from qa.pipeline import Pipeline
from qa.questions import language_of
from tests.conftest import CACHE, SEEDS
from tests.fakes import events_of

pytestmark = [pytest.mark.llm, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, embedder):
    settings = Settings.from_env({}).with_(index_dir=tmp_path_factory.mktemp("llm-real"), seeds_dir=SEEDS,
                                           cache_dir=CACHE)
    pipe = Pipeline(settings, embedder)
    pipe.ingest(progress=False)
    pipe.warm_up_llm()
    return pipe


def _valid(answer: Answer) -> bool:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.number for c in answer.citations}


def test_the_bundled_model_is_assembled_and_hash_checked():
    path = ensure_llm_model(CACHE)
    assert path.stat().st_size == SIZE and path.with_suffix(".sha256").read_text().startswith("cc324af0")


@pytest.mark.parametrize("question, fact", [
    ("Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?", "21:30"),
    ("Wie viele Menschen sind im Konflikt in der Ostukraine bisher gestorben?", "13.000"),
    ("Wer ist Putins außenpolitischer Berater?", "Uschakow"),
    ("Wann ist die Sitzung des NATO-Russland-Rates geplant?", "12. Januar"),
    ("Wie heißt der Sprecher des Kremls?", "Peskow"),
])
def test_the_model_itself_picks_the_sentence_and_copies_the_short_answer(pipeline, question, fact):
    answer = pipeline.ask(question, mode="llm")
    # The model's own answer, not a fallback: it chose a sentence and its short answer stands in it.
    assert answer.answerer == "llm" and not answer.fallback_reason, (answer.generated, answer.fallback_reason)
    assert fact in answer.short and answer.short in answer.citations[0].quote, answer.generated
    assert _valid(answer) and any(fact in c.text for c in answer.citations)
    assert answer.text.startswith(answer.short) and len(answer.short) < 60


def test_an_english_question_is_answered_in_english_citing_german_passages(pipeline):
    answer = pipeline.ask("In which year did Russia annex Crimea?", mode="llm")
    assert answer.answerer == "llm" and "2014" in answer.short and _valid(answer), answer.generated
    assert language_of(answer.text.split("„")[0]) == "en", answer.text
    assert language_of(answer.citations[0].text) == "de"


def test_a_question_the_articles_do_not_answer_is_declined(pipeline):
    answer = pipeline.ask("Wer hat die Fußball-Weltmeisterschaft 2022 gewonnen?", mode="llm")
    assert answer.abstained and answer.citations == []


@pytest.mark.fails_at("model")
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "measured 2026-12-03 since retrieval's best-sentence vote (db93220; with 4 or 5 sentences to pick from "
    "alike, and with the best 6 within 0.08 since feacdf3): the condensed question is right (first assertion holds), but the model copies 'Staatschef' from "
    "the sentence about the call between the heads of state instead of 'Putin' (second assertion fails)"))
def test_a_follow_up_is_condensed_and_answered(pipeline):
    history = [("Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?",
                "Das Telefonat soll am 30. Dezember um 21:30 Uhr MEZ stattfinden [1].")]
    answer = pipeline.ask("Und wer hatte die Initiative dafür?", mode="llm", history=history)
    assert re.search(r"Telefonat|Gespräch|30\. Dezember", answer.question), f"condensed: {answer.question}"
    assert answer.answerer == "llm" and "Putin" in answer.short and _valid(answer), \
        f"model: {answer.question} -> {answer.generated}"


@pytest.mark.fails_at("none")
@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "`assert written == '0'` fails: the model copies '21:30' from the 30 December call's sentence (measured "
    "2026-12-05, shown the sentences the pipeline would show) instead of writing 0 (none answers); in a probe "
    "of five near misses (2026-12-01) it said 'none' for none, and on the XQuAD calibration part its '0' declined no "
    "question the evidence had not"))
def test_the_model_says_none_answers_when_the_sentences_lack_the_asked_detail(pipeline):
    # The video summit is in the articles; when it ended is not. Retrieval finds sentences about it, which
    # name no end. The pipeline now declines this question before asking the model (its best sentence is
    # about another day, ``about_another_day``), so the model is shown the sentences here directly, as the
    # pipeline would show them: this asks what the model itself writes.
    from qa.llm_answer import pick_messages, shown_to_model

    question = "Um wie viel Uhr endete die Videokonferenz zwischen Putin und Biden am 7. Dezember?"
    part = pipeline.retrieve(question)
    ranked = pipeline.ranker.rank(question, part.vector, part.passages)
    shown = shown_to_model(ranked, pipeline.calibration.llm_candidates, pipeline.calibration.llm_margin)
    written = "".join(pipeline.llm.stream(pick_messages(question, [c.text for c in shown]), max_tokens=40,
                                          stop=["\n"])).strip()
    assert written == "0", f"none: {written} (shown: {[c.text for c in shown]})"


def test_the_answer_streams_in_pieces_before_the_verified_answer(pipeline):
    steps = events_of(pipeline.ask_stream("Wann ist die Sitzung des NATO-Russland-Rates geplant?", mode="llm"))
    assert steps[-1][0] == "answer" and "12. Januar" in steps[-1][1].text
    assert steps[0][0] == "draft" and "12. Januar" in steps[0][1].text  # the fast answer, at once
    assert len(steps) > 3 and all(kind == "text" for kind, _ in steps[1:-1])
