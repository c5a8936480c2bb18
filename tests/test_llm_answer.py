"""LLM mode with a scripted model: prompts, streaming, verification, fallback, abstention and follow-ups.

Retrieval, the index and the e5 model are real; only the language model is scripted, so each test knows
exactly what the "model" wrote. The real model runs in tests/test_llm.py (marked ``llm``).
"""

import re

import pytest

from eval.checks import answer_language

from qa.chat import Exchange, check_history, clean_rewrite, condense
from qa.config import Settings
from qa.errors import QuestionError
from dataclasses import replace

from qa.calibration import Calibration
from qa.decision import Decision
from qa.llm_answer import Pick, fixed_prefix, parse_pick
from qa.pipeline import Pipeline
from qa.prompts import PROMPTS_DIR, load_prompt, render
from tests.conftest import SEEDS
from tests.fakes import ScriptedLLM, events_of

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


def _sentences(messages) -> dict[int, str]:
    user = messages[-1].content
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] (.+)$", user, re.M)}


def pick(fragment: str, span: str, english: str = ""):
    """The model's reply copying ``span`` (which a shown sentence holding ``fragment`` must hold)."""
    def reply(messages):
        assert any(fragment in text for text in _sentences(messages).values()), "no sentence shown holds it"
        return span + (f" | {english}" if english else "")
    return reply


def test_the_model_picks_the_sentence_and_the_code_quotes_it(pipeline, llm):
    llm.say(pick("21:30", "um 21:30 Uhr MEZ"))
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "llm" and not answer.abstained and not answer.fallback_reason
    assert answer.short == "um 21:30 Uhr MEZ"
    quote = answer.citations[0].quote
    assert "21:30" in quote and quote in answer.citations[0].text
    assert answer.text == f"um 21:30 Uhr MEZ – „{quote}“ [1]"


def test_the_prompt_holds_the_rules_the_examples_and_numbered_sentences(pipeline, llm):
    llm.say(pick("21:30", "21:30 Uhr"))
    pipeline.ask(CALL, mode="llm")
    messages = llm.calls[0]
    assert messages[:5] == fixed_prefix()  # the same prefix every time: llama.cpp keeps it evaluated
    sentences = _sentences(messages)
    assert 1 <= len(sentences) <= pipeline.calibration.llm_candidates and any("21:30" in s for s in sentences.values())
    assert CALL in messages[-1].content


def _shown(pipeline, llm, question: str = CALL) -> dict[int, str]:
    """The sentences the model is shown first (a „0“ the evidence overrules asks again with one sentence)."""
    before = len(llm.calls)
    llm.say("0", "0")
    pipeline.ask(question, mode="llm")
    llm.replies.clear()
    return _sentences(llm.calls[before])


def test_the_model_reads_only_the_sentences_that_score_near_the_best(indexed, embedder, llm):
    def with_margin(margin: float) -> Pipeline:
        calibration = replace(Calibration.load(), llm_candidates=6, llm_margin=margin)
        return Pipeline(indexed, embedder, llm, calibration=calibration)

    assert len(_shown(with_margin(1.0), llm)) == 6
    assert len(_shown(with_margin(0.0), llm)) == 1
    ranked = with_margin(1.0)
    part = ranked.retrieve(CALL)
    scores = [c.score for c in ranked.ranker.rank(CALL, part.vector, part.passages)[:6]]
    near = sum(score >= scores[0] - 0.05 for score in scores)
    assert len(_shown(with_margin(0.05), llm)) == near < 6, scores


def test_a_set_number_of_sentences_is_shown_whatever_their_scores(indexed, embedder, llm):
    calibration = replace(Calibration.load(), llm_candidates=6, llm_margin=0.0)
    pipeline = Pipeline(indexed.with_(llm_sentences=3), embedder, llm, calibration=calibration)
    assert len(_shown(pipeline, llm)) == 3


def test_the_sentences_shown_are_the_best_within_the_margin():
    from qa.llm_answer import shown_to_model
    from qa.relevance import Candidate

    ranked = [Candidate(str(score), None, 0, score=score) for score in (0.90, 0.88, 0.85, 0.80, 0.79)]
    assert [c.score for c in shown_to_model(ranked, 4, 0.06)] == [0.90, 0.88, 0.85]
    assert [c.score for c in shown_to_model(ranked, 2, 1.0)] == [0.90, 0.88]
    assert shown_to_model([], 5, 0.1) == []
    from qa.llm_answer import per_part

    assert [per_part(6, asked) for asked in (0, 1, 2, 3, 4)] == [6, 6, 3, 2, 2]
    assert per_part(1, 2) == 1  # QA_LLM_SENTENCES=1 stays one
    with pytest.raises(ValueError, match="margin"):
        from qa.llm_answer import LLMAnswerer

        LLMAnswerer(None, None, None, None, Decision(Calibration()), margin=-0.1)


def test_the_models_line_is_parsed_into_the_copied_answer_or_none():
    assert parse_pick("rund 4,5 Millionen Euro") == Pick("rund 4,5 Millionen Euro")
    assert parse_pick("rund 4,5 Millionen Euro | about 4.5 million euros") == \
        Pick("rund 4,5 Millionen Euro", "about 4.5 million euros")
    assert parse_pick("„Claudia Kalisch“") == Pick("Claudia Kalisch")
    assert parse_pick("2: 120.000 Soldaten") == Pick("120.000 Soldaten")   # an earlier prompt's form
    assert parse_pick("0").none and parse_pick("0,5 Prozent") == Pick("0,5 Prozent")
    assert parse_pick("") is None and parse_pick("  \n") is None


def test_a_span_no_sentence_shown_holds_is_never_shown(pipeline, llm):
    llm.say(pick("21:30", "um 22:45 Uhr MEZ"), "0")  # an invented time; asked again, none
    answer = pipeline.ask(CALL, mode="llm")
    assert "22:45" not in answer.text + answer.short and "22:45" in answer.generated
    assert "in none of the sentences" in answer.fallback_reason and answer.answerer == "extractive"
    assert answer.text == pipeline.ask(CALL, mode="extractive").text


def test_a_span_is_quoted_from_the_best_scored_sentence_that_holds_it(pipeline, llm):
    # "Russland" stands in several of the sentences shown: the best-scored of them is quoted.
    llm.say(pick("Russland", "Russland"))
    question = "Wie viele Soldaten wurden an der Grenze zur Ukraine zusammengezogen?"
    answer = pipeline.ask(question, mode="llm")
    shown = _sentences(llm.calls[0])
    holding = [text for n, text in sorted(shown.items()) if "Russland" in text]
    assert len(holding) >= 2 and answer.answerer == "llm"
    assert answer.citations[0].quote == holding[0]


def test_a_pick_that_cannot_be_used_is_asked_again_with_the_fast_answer_s_sentence_alone(pipeline, llm):
    fast = pipeline.ask(CALL, mode="extractive")
    llm.say(pick("21:30", "um 22:45 Uhr MEZ"), pick("21:30", "um 21:30 Uhr MEZ"))
    answer = pipeline.ask(CALL, mode="llm")
    assert list(_sentences(llm.calls[1]).values()) == [fast.citations[0].quote]
    assert answer.answerer == "llm" and answer.short == "um 21:30 Uhr MEZ" and "22:45" not in answer.text
    assert "in none of the sentences" in answer.fallback_reason and "asked again" in answer.fallback_reason
    assert answer.text == f"um 21:30 Uhr MEZ – „{fast.citations[0].quote}“ [1]"
    assert [c.text for c in answer.citations] == [c.text for c in fast.citations]
    assert answer.generated.splitlines() == ["um 22:45 Uhr MEZ", "um 21:30 Uhr MEZ"]


def test_a_second_copy_the_sentence_does_not_hold_leaves_the_fast_answer(pipeline, llm):
    llm.say(pick("21:30", "um 22:45 Uhr MEZ"), "um 23:15 Uhr")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "extractive" and "23:15" not in answer.text + answer.short
    assert answer.text == pipeline.ask(CALL, mode="extractive").text
    assert answer.generated.splitlines() == ["um 22:45 Uhr MEZ", "um 23:15 Uhr"]
    assert "asked again" in answer.fallback_reason and "no usable copy" in answer.fallback_reason


def test_while_the_model_is_asked_again_the_fast_answer_replaces_the_streamed_copy(pipeline, llm):
    llm.say(pick("21:30", "um 22:45 Uhr MEZ"), pick("21:30", "um 21:30 Uhr MEZ"))
    steps = events_of(pipeline.ask_stream(CALL, mode="llm"))
    drafts = [i for i, (kind, _) in enumerate(steps) if kind == "draft"]
    streamed = "".join(value for kind, value in steps[drafts[0]:drafts[-1]] if kind == "text")
    assert len(drafts) == 2 and "22:45" in streamed  # the unusable copy was streamed, then the fast answer again
    assert all(kind != "text" for kind, _ in steps[drafts[-1]:])  # the second copy is not streamed
    assert steps[-1][0] == "answer" and steps[-1][1].short == "um 21:30 Uhr MEZ"


def test_an_english_question_asked_again_gets_its_checked_english_answer(pipeline, llm):
    question = "At what time is the phone call between Putin and Biden on December 30?"
    llm.say(pick("21:30", "um 22:45 Uhr", "at 22:45"), pick("21:30", "um 21:30 Uhr MEZ", "at 21:30 CET"))
    answer = pipeline.ask(question, mode="llm")
    assert answer.answerer == "llm" and "asked again" in answer.fallback_reason
    assert answer.text.startswith("at 21:30 CET (the articles, in German: „") and "22:45" not in answer.text


def test_a_span_that_only_repeats_the_question_falls_back_to_the_extractive_answer(pipeline, llm):
    question = "Wie viele Soldaten hat Russland an der Grenze zusammengezogen?"
    llm.say(pick("Russland", "Russland"), "Russland")  # asked again with the fast answer's sentence: the same
    answer = pipeline.ask(question, mode="llm")
    assert answer.answerer == "extractive" and "repeats the question" in answer.fallback_reason
    assert answer.text == pipeline.ask(question, mode="extractive").text


def test_a_line_that_is_not_a_pick_falls_back_to_the_extractive_answer(pipeline, llm):
    llm.say("", "")
    answer = pipeline.ask(CALL, mode="llm")
    assert answer.answerer == "extractive" and "no answer" in answer.fallback_reason
    assert answer.text == pipeline.ask(CALL, mode="extractive").text


@pytest.fixture
def strict(indexed, embedder, llm):
    """A pipeline in which the model's „0“ always declines (``llm_trust_at`` above 1)."""
    return Pipeline(indexed, embedder, llm, calibration=replace(Calibration.load(), llm_trust_at=1.01))


def test_the_models_none_declines_under_the_calibrated_point(strict, llm):
    llm.say("0")
    answer = strict.ask(CALL, mode="llm")
    assert answer.abstained and answer.answerer == "llm" and answer.citations == []
    assert answer.text == load_prompt("abstain_de")


def test_the_models_none_is_overruled_by_evidence_from_the_calibrated_point_on(indexed, embedder, llm):
    trusting = Pipeline(indexed, embedder, llm, calibration=replace(Calibration.load(), llm_trust_at=0.9))
    llm.say("0", "0")
    answer = trusting.ask(CALL, mode="llm")
    assert answer.confidence >= 0.9
    assert not answer.abstained and answer.answerer == "extractive" and "21:30" in answer.text
    assert "scores too high to decline" in answer.fallback_reason


def test_an_english_question_gets_the_english_answer_when_its_facts_hold(pipeline, llm):
    question = "At what time is the phone call between Putin and Biden on December 30?"
    llm.say(pick("21:30", "um 21:30 Uhr MEZ", "at 21:30 CET"))
    answer = pipeline.ask(question, mode="llm")
    assert answer.text.startswith("at 21:30 CET (the articles, in German: „") and answer.short == "um 21:30 Uhr MEZ"
    llm.say(pick("21:30", "um 21:30 Uhr MEZ", "at 22:30 CET"))  # the English rendering changed the time
    answer = pipeline.ask(question, mode="llm")
    # No checked English form, and the German span is German words: the sentence is quoted under the English
    # lead, never "um 21:30 Uhr MEZ" as the English answer.
    assert answer.text.startswith("According to the articles (quoted in German): „") and "22:30" not in answer.text
    assert answer.short == "um 21:30 Uhr MEZ" and answer.answerer == "llm" and "21:30" in answer.text
    assert answer_language(answer.text) == "en"
    strict = Pipeline(pipeline.settings, pipeline.embedder, llm,
                      calibration=replace(Calibration.load(), llm_trust_at=1.01))
    llm.say("0")
    assert strict.ask(question, mode="llm").text == "The articles do not say."


def test_an_english_question_shows_a_german_span_only_when_it_is_a_name_or_number(pipeline, llm):
    question = "At what time is the phone call between Putin and Biden on December 30?"
    llm.say(pick("21:30", "21:30"))  # no English form: a time reads the same in English
    answer = pipeline.ask(question, mode="llm")
    assert answer.text.startswith("21:30 (the articles, in German: „") and answer_language(answer.text) == "en"
    llm.say(pick("21:30", "auf Putins Initiative"))  # German words: quoted under the English lead instead
    answer = pipeline.ask(question, mode="llm")
    assert answer.text.startswith("According to the articles (quoted in German): „")
    assert answer.short == "auf Putins Initiative"


def test_a_question_nothing_in_the_articles_answers_does_not_wait_for_the_model(pipeline, llm):
    answer = pipeline.ask("Wie hoch ist die Inflationsrate in Deutschland?", mode="llm")
    assert answer.abstained and llm.calls == []


def test_streaming_shows_the_answer_as_written_never_a_lone_none(pipeline, llm):
    llm.say(pick("21:30", "um 21:30 Uhr MEZ"))
    steps = events_of(pipeline.ask_stream(CALL, mode="llm"))
    assert steps[0] == ("draft", pipeline.ask(CALL, mode="extractive"))
    assert all(kind == "text" for kind, _ in steps[1:-1]) and len(steps) > 3
    assert steps[-1][0] == "answer" and "".join(text for _, text in steps[1:-1]) == "um 21:30 Uhr MEZ"


def test_no_draft_comes_before_an_answer_declined_without_the_model(pipeline, llm):
    steps = events_of(pipeline.ask_stream("Wie hoch ist die Inflationsrate in Deutschland?", mode="llm"))
    assert len(steps) == 1 and steps[0][1].abstained and llm.calls == []


def test_extractive_mode_streams_its_answer_once(pipeline, llm):
    steps = events_of(pipeline.ask_stream(CALL, mode="extractive"))
    assert [kind for kind, _ in steps] == ["text", "answer"] and steps[0][1] == steps[1][1].text and llm.calls == []


def test_a_follow_up_takes_the_earlier_topic_without_asking_the_model(pipeline, llm):
    llm.say(pick("Initiative", "auf Putins Initiative"))
    history = [(CALL, "Das Telefonat soll um 21:30 Uhr MEZ stattfinden [1].")]
    answer = pipeline.ask("Und wer hatte die Initiative dafür?", mode="llm", history=history)
    assert answer.question == "Und wer hatte die Initiative dafür? (Telefonat 30. Dezember stattfinden)"
    assert len(llm.calls) == 1 and answer.question in llm.calls[0][-1].content  # no rewrite: only the answer
    assert answer.answerer == "llm" and answer.short == "auf Putins Initiative"
    assert "Initiative" in answer.citations[0].text


def test_a_follow_up_that_points_back_at_nothing_is_answered_without_the_model(pipeline, llm):
    answer = pipeline.ask("Und wo haben die Separatisten Volksrepubliken ausgerufen?", mode="extractive",
                          history=[("In welchem Jahr hat Russland die Krim annektiert?", "2014 [1].")])
    # As asked, or with the earlier topic attached: either finds the sentence, and the model is not asked.
    assert answer.question.startswith("Und wo haben die Separatisten Volksrepubliken ausgerufen?")
    assert llm.calls == [] and "Luhansk" in answer.text and "Donezk" in answer.text


def test_a_follow_up_the_rules_cannot_resolve_is_rewritten_by_the_model(pipeline, llm):
    standalone = "Was sagte Juri Uschakow über das Telefonat?"
    llm.say(standalone, "0", "0")
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
    variables = {"pick_user": {"sentences": "[1] S", "question": "F?"},
                 "answer_en": {"short": "at 21:30", "quote": "um 21:30 Uhr"},
                 "condense_user": {"history": "Frage: F\nAntwort: A", "question": "Und?"},
                 "abstain_part_de": {"question": "Wo?"}, "abstain_part_en": {"question": "Where?"},
                 "abstain_name_de": {"thing": "Xi Jinping"}, "abstain_name_en": {"thing": "Xi Jinping"}}
    for name in names:
        text = render(name, **variables.get(name, {}))
        assert "$" not in text and text.strip(), name


def test_a_rewrite_that_takes_nothing_from_the_conversation_gets_the_earlier_question_attached():
    llm = ScriptedLLM("Was hat er über das Telefonat gesagt?")
    history = [Exchange("Wer ist Putins außenpolitischer Berater?", "Juri Uschakow [1].")]
    assert condense(llm, "Was hat er über das Telefonat gesagt?", history) == \
        "Was hat er über das Telefonat gesagt? (Putins außenpolitischer Berater)"


TWO_THINGS = ("Wie viele Soldaten hat Russland laut US-Geheimdiensten an der Grenze zusammengezogen, und wie viele "
              "soll umgekehrt die Ukraine laut Moskau an die Linie zu den Separatistengebieten verlegt haben?")


def test_a_question_that_asks_two_things_is_answered_part_by_part(pipeline, llm):
    llm.say(pick("70.000", "70.000 Soldaten"), pick("120.000", "mehr als 120.000 Soldaten"))
    answer = pipeline.ask(TWO_THINGS, mode="llm")
    assert len(llm.calls) == 2 and answer.answerer == "llm", answer.fallback_reason
    assert "70.000" in answer.text and "120.000" in answer.text
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert re.findall(r"\[(\d+)\]", answer.text) and not answer.abstained


def test_the_parts_of_a_question_share_its_sentences(indexed, embedder, llm):
    """Two parts, six sentences for the question: each call shows three (a second call would otherwise
    double the prompt the model reads, 3–4 s on 2 cores)."""
    calibration = replace(Calibration.load(), llm_candidates=6, llm_margin=1.0)
    pipeline = Pipeline(indexed, embedder, llm, calibration=calibration)
    llm.say(pick("70.000", "70.000 Soldaten"), pick("120.000", "mehr als 120.000 Soldaten"))
    pipeline.ask(TWO_THINGS, mode="llm")
    assert [len(_sentences(call)) for call in llm.calls] == [3, 3]
    assert len(_shown(pipeline, llm)) == 6  # a question that asks one thing still reads all six


def test_a_part_the_model_finds_no_answer_to_is_named(strict, llm):
    llm.say(pick("70.000", "70.000 Soldaten"), "0")
    answer = strict.ask(TWO_THINGS, mode="llm")
    assert "70.000" in answer.text and "120.000" not in answer.text
    assert "steht nichts in den Artikeln" in answer.text



TREATY = """date 2023-05
Der Friede von Paris

Der Siebenjährige Krieg endete mit dem Friedensvertrag von Paris, der am 10. Februar 1763 unterzeichnet wurde. \
Frankreich trat damit große Gebiete in Nordamerika an Großbritannien ab. Der Vertrag wurde in Versailles gefeiert.
"""
MINSK_YEAR = "In welchem Jahr wurde der Friedensplan von Minsk vereinbart?"


@pytest.fixture(scope="module")
def with_treaty(tmp_path_factory, embedder):
    import shutil

    folder = tmp_path_factory.mktemp("seeds-and-a-treaty")
    shutil.copytree(SEEDS, folder, dirs_exist_ok=True)
    (folder / "friede_von_paris.txt").write_text(TREATY, encoding="utf-8")
    settings = Settings.from_env({}).with_(index_dir=tmp_path_factory.mktemp("treaty-index"), seeds_dir=folder,
                                           llm_sentences=9)
    Pipeline(settings, embedder).ingest(progress=False)
    return settings


def test_a_pick_from_a_passage_that_names_nothing_the_question_names_falls_back(with_treaty, embedder, llm):
    # The year of another peace treaty, in an article that never says Minsk or Friedensplan: the model's pick
    # is not used while the best sentence's passage names what the question names.
    llm.say(pick("1763", "1763"), "0")
    answer = Pipeline(with_treaty, embedder, llm).ask(MINSK_YEAR, mode="llm")
    assert answer.answerer == "extractive" and "name nothing" in answer.fallback_reason, answer
    assert "1763" not in answer.text and "2015" in answer.text
    assert {c.article for c in answer.citations} != {"friede_von_paris.txt"}


def test_a_pick_from_a_passage_that_names_the_question_s_names_is_used(with_treaty, embedder, llm):
    llm.say(pick("2015", "2015"))
    answer = Pipeline(with_treaty, embedder, llm).ask(MINSK_YEAR, mode="llm")
    assert answer.answerer == "llm" and answer.short == "2015" and not answer.fallback_reason, answer
