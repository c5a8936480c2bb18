"""The decision to answer or decline (``qa.decision``): each rule fires where it should, and nowhere the
others do; the rule list in docs/design.md names exactly the rules of the code."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.calibration import FEATURES, Calibration
from qa.decision import RULES, Decision, Evidence, Verdict
from qa.relevance import Candidate

DESIGN = Path(__file__).resolve().parent.parent / "docs" / "design.md"
# Evidence that any calibration answers: every feature at 1, and a bias that puts the probability near 1.
STRONG = Evidence(1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0)
SURE = replace(Calibration(), decision_weights=(1.0,) * len(FEATURES), decision_bias=0.0, answer_at=0.9)


def sentence(text: str) -> list[Candidate]:
    return [Candidate(text, np.zeros(2), 0)]


def verdict(question: str, text: str, evidence: Evidence = STRONG) -> Verdict:
    return Decision(SURE).verdict(question, sentence(text), evidence)


def test_a_sentence_that_fits_and_holds_what_is_asked_is_answered():
    answered = verdict("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?",
                       "Russland hat 120.000 Soldaten an der Grenze zusammengezogen.")
    assert answered.answer and answered.reason == "" and answered.confidence > 0.99


def test_below_threshold_fires_on_weak_evidence_and_says_how_sure():
    weak = Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    declined = verdict("Wie viele Soldaten hat Russland zusammengezogen?", "Moskau hat 120.000 Soldaten …", weak)
    assert (declined.answer, declined.reason) == (False, "below_threshold")
    assert declined.confidence == pytest.approx(0.5)   # bias 0, all features 0: a coin, below answer_at 0.9


def test_lacks_asked_fact_fires_when_the_number_asked_is_not_there():
    declined = verdict("Wie viele Drohnen hat Russland stationiert?", "Russland hat Drohnen an der Grenze stationiert.")
    assert (declined.answer, declined.reason) == (False, "lacks_asked_fact")
    # a number the question itself states is no answer either
    declined = verdict("Wie viele Seiten umfassen die zwei Entwürfe?", "Russland legte zwei Entwürfe vor.")
    assert declined.reason == "lacks_asked_fact"


def test_lacks_asked_place_fires_when_the_kind_of_place_asked_is_not_given():
    declined = verdict("In welcher Stadt traf sich Putin mit Mitsotakis?",
                       "Putin äußerte sich nach einem Treffen mit Mitsotakis.")
    assert (declined.answer, declined.reason) == (False, "lacks_asked_place")
    assert verdict("In welcher Stadt traf sich Putin mit Mitsotakis?",
                   "Putin traf sich in Sotschi mit Mitsotakis.").answer


def test_about_another_day_fires_when_the_sentence_names_another_day():
    declined = verdict("Um wie viel Uhr endete die Videokonferenz am 7. Dezember?",
                       "Am 30. Dezember, um 21:30 Uhr, soll das Videotelefonat stattfinden.")
    assert (declined.answer, declined.reason) == (False, "about_another_day")
    assert verdict("Um wie viel Uhr endete die Videokonferenz am 7. Dezember?",
                   "Die Videokonferenz am 7. Dezember endete um 18:20 Uhr.").answer


def test_about_something_else_fires_on_an_english_question_whose_names_the_passages_lack():
    english = replace(STRONG, english=1.0, named=0.0)
    declined = verdict("Who is the prime minister of Canada?", "Der Sprecher des Kremls ist Dmitri Peskow.", english)
    assert (declined.answer, declined.reason) == (False, "about_something_else")
    assert verdict("Who is the prime minister of Canada?", "Kanadas Premier ist Justin Trudeau.",
                   replace(english, named=1.0)).answer
    # German questions are not judged by it: they capitalise every noun
    assert verdict("Wer ist der Sprecher des Kremls?", "Der Sprecher des Kremls ist Dmitri Peskow.",
                   replace(STRONG, named=0.0)).answer


def test_unknown_name_fires_when_two_words_of_a_name_in_a_row_are_in_no_article():
    decision = Decision(SURE)
    asked = []

    def known(words: list[str]) -> list[bool]:
        asked.append(words)
        return [word not in ("Xi", "Jinping") for word in words]

    declined = decision.unknown_name("Was sagte Staatschef Xi Jinping über Taiwan?", known)
    assert (declined.answer, declined.reason, declined.detail) == (False, "unknown_name", "Xi Jinping")
    assert asked == [["Staatschef", "Xi", "Jinping"]]   # only a run of capitalised words is looked up
    assert decision.unknown_name("Was sagte Kreml-Sprecher Dmitri Peskow?", lambda words: [True] * len(words)) is None
    # one unknown word is a spelling, not a name no article mentions
    assert decision.unknown_name("Was sagte Dmitri Peskov?", lambda words: [w != "Peskov" for w in words]) is None
    # the question's first word starts no name
    assert decision.unknown_name("Jinping Xi sagte was?", lambda words: [False] * len(words)) is None


def test_model_found_none_declines_below_the_trust_point_only():
    decision = Decision(replace(Calibration(), llm_trust_at=0.6))
    assert decision.model_found_none(0.59) == Verdict(False, 0.59, "model_found_none")
    assert decision.model_found_none(0.6).answer


def test_planning_covers_and_found_use_their_own_numbers():
    decision = Decision(replace(SURE, plan_at=0.2, answer_at=0.9, found_share=0.5))
    middling = Evidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5)        # probability about 0.62
    assert decision.covers(middling) and not decision.verdict("Wer?", sentence("Er."), middling).answer
    assert not Decision(replace(SURE, plan_at=None, answer_at=0.9)).covers(middling)   # a file without plan_at
    own = {"telefonat", "initiativ"}
    assert decision.found(lambda: STRONG, own, lambda: {"initiativ", "putin"})    # half of the own words
    assert not decision.found(lambda: STRONG, own, lambda: {"putin"})
    assert not decision.found(lambda: STRONG, set(), lambda: {"putin"})            # nothing asked of its own
    assert not decision.found(lambda: middling, own, lambda: own)                  # would not be answered


def test_every_rule_of_the_code_is_in_the_design_doc_and_no_other():
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("### Answer or decline", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\d+\. `(\w+)`", section, re.M)
    assert documented == list(RULES), "docs/design.md lists the rules in the order qa/decision.py asks them"
