"""Splitting a question that asks two things into its parts (``qa.questions.split_question``)."""

import pytest

from qa.questions import split_question


@pytest.mark.parametrize("question, parts", [
    ("Wann begann die Videokonferenz am Dienstag, und über welche Art von Leitung lief sie nach Kremlangaben?",
     ["Wann begann die Videokonferenz am Dienstag?", "Über welche Art von Leitung lief sie nach Kremlangaben?"]),
    ("Wie viele Soldaten hat Russland zusammengezogen und wie viele soll die Ukraine verlegt haben?",
     ["Wie viele Soldaten hat Russland zusammengezogen?", "Wie viele soll die Ukraine verlegt haben?"]),
    ("Wer teilte das Ergebnis mit, und in welchem Format sollte Putin verhandeln?",
     ["Wer teilte das Ergebnis mit?", "In welchem Format sollte Putin verhandeln?"]),
    ("Um wie viel Uhr beginnt das Telefonat, wer hat es angeregt und was will Putin erreichen?",
     ["Um wie viel Uhr beginnt das Telefonat, wer hat es angeregt?", "Was will Putin erreichen?"]),
    ("How many soldiers did Russia mass, and when could an invasion begin?",
     ["How many soldiers did Russia mass?", "When could an invasion begin?"]),
    ("Wann findet der Gipfel statt und wo?", ["Wann findet der Gipfel statt?", "Wo?"]),  # the pipeline rejoins it
])
def test_a_question_joined_by_und_and_a_question_word_is_split(question, parts):
    assert split_question(question) == parts


@pytest.mark.parametrize("question", [
    "Was sagten Putin und Biden am Dienstag?",
    "Welche Themen neben dem Ukraine-Konflikt und der NATO sollten besprochen werden?",
    "Wie hoch sind Zölle und Steuern?",
    "Warum ist die späte Stunde für Putin und Biden kein Problem?",
    "Who spoke with Putin and Biden?",
    "und wann?",
])
def test_a_question_that_asks_one_thing_is_left_whole(question):
    assert split_question(question) == [question]
