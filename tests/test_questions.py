"""Cleaning a question (``qa.questions.clean_question``) and splitting one that asks two things into its parts
(``split_question``)."""

import pytest

from qa.errors import QuestionError
from qa.questions import MAX_PARTS, clean_question, language_of, split_question


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


def test_a_question_of_more_than_max_parts_parts_is_answered_as_one():
    asks = ["Wann begann die Videokonferenz", "wer nahm daran teil", "was sagte Putin über die 120.000 Soldaten",
            "wie lange dauerte sie", "wo saß Biden um 21:30 Uhr"]
    assert MAX_PARTS == 4
    four = ", und ".join(asks[:MAX_PARTS]) + "?"
    assert split_question(four) == ["Wann begann die Videokonferenz?", "Wer nahm daran teil?",
                                    "Was sagte Putin über die 120.000 Soldaten?", "Wie lange dauerte sie?"]
    five = ", und ".join(asks) + "?"
    assert split_question(five) == [five]
    fifty_one = "Wer sprach mit Scholz" + ", und wer sprach mit Scholz" * 50 + "?"  # each part costs a retrieval
    assert split_question(fifty_one) == [fifty_one]


@pytest.mark.parametrize("question, cleaned", [
    # Python keeps bytes that are not UTF-8 (argv, stdin) as lone surrogates; the tokenizer refuses them.
    ("Wie hei\udcdft der Sprecher des Kremls?", "Wie hei\ufffdt der Sprecher des Kremls?"),
    ("\udcff\udcfe Wer ist Scholz?", "\ufffd\ufffd Wer ist Scholz?"),
    ("Was sagte \udc80\udcbf „Scholz“?", "Was sagte \ufffd\ufffd „Scholz“?"),
    # Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are format characters: removed.
    ("Wer sagte „\u202eNein\u202c“ um 21:30 Uhr?", "Wer sagte „Nein“ um 21:30 Uhr?"),
    ("Wie \u202a\u202b\u202c\u202d\u202egroß\u2066\u2067\u2068\u2069 ist die Straße?", "Wie groß ist die Straße?"),
    ("Wer\u00a0ist\tScholz?\u200f\n", "Wer ist Scholz?"),
])
def test_bad_bytes_and_bidi_controls_are_cleaned_out_of_the_question(question, cleaned):
    assert clean_question(question, 2000) == cleaned
    cleaned.encode("utf-8")  # what the tokenizer needs


@pytest.mark.parametrize("question", [
    "<<<>>>", "***", "!!!", "120.000", "21:30", "2022?", "„120.000“?", "1.000.000 € ?", "12. 01. 2022",
    "\udcff\udcfe", "\u202e42\u202c",
])
def test_a_question_without_a_letter_is_declined_at_once(question):
    with pytest.raises(QuestionError, match="no words in it.*ask a question in words"):
        clean_question(question, 2000)


@pytest.mark.parametrize("question", [
    "Wer ist Scholz?", "Who?", "G7?", "Was geschah um 21:30 Uhr?", "Wo stehen 120.000 Soldaten?", "Straße?",
    "Кто такой Песков?", "ü",
])
def test_a_question_with_a_letter_of_any_script_passes(question):
    assert clean_question(question, 2000) == question


def test_a_history_with_bytes_that_were_not_utf8_is_cleaned_before_the_model_reads_it():
    from qa.chat import check_history

    turns = check_history([("Wie hei\udcdft der Sprecher?", "Dmitri Pesk\udcf6w [1]")])
    assert turns == [("Wie hei\ufffdt der Sprecher?", "Dmitri Pesk?w [1]")]
    assert all(part.encode("utf-8") for turn in turns for part in turn)


@pytest.mark.parametrize("question, language", [
    ("How old is Hans Süß?", "en"),                  # a German name does not make the question German
    ("Who is Süß?", "en"),
    ("Why is the Süß bakery closing?", "en"),
    ("Wie alt ist Hans Süß?", "de"),
    ("Wer ist Süß?", "de"),
    ("Größe der Armee?", "de"),                       # the first word's umlaut counts
    ("Wann schließt die Bäckerei Süß?", "de"),
    ("Schließt die Bäckerei um 21:30 Uhr?", "de"),
])
def test_the_question_s_language_is_told_by_its_words_not_by_the_umlauts_of_its_names(question, language):
    assert language_of(question) == language
