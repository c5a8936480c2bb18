"""The checks that hold an answer to its German passages: spans, facts, markers and abstention."""

import pytest

from qa.tokens import german_stemmer
from qa.verify import FactChecker, is_abstention, parse_markers

TELEFONAT = ("Am 30. Dezember spätabends, um 21:30 Uhr MEZ, soll das Videotelefonat zwischen den Staatschefs "
             "auf Putins Initiative und ohne Pressevertreter stattfinden.")
SOLDATEN = ("Moskau weist das zurück und wirft der Ukraine vor, mehr als 120.000 Soldaten an die Linie zu den "
            "pro-russischen Separatistenregionen Donezk und Luhansk verlegt zu haben.")
STRASSE = "Die Straße in Köln wurde für „Großveranstaltungen“ gesperrt, sagte Bürgermeisterin Henriette Reker."


@pytest.fixture(scope="module")
def checker():
    return FactChecker(german_stemmer().stemWords)


@pytest.mark.parametrize("text, expected", [
    ("Um 21:30 Uhr MEZ [1].", [("Um 21:30 Uhr MEZ.", [1])]),
    ("Um 21:30 Uhr MEZ. [1] Am 30. Dezember [2][3].", [("Um 21:30 Uhr MEZ.", [1]), ("Am 30. Dezember.", [2, 3])]),
    ("Mehr als 120.000 Soldaten [1, 2].", [("Mehr als 120.000 Soldaten.", [1, 2])]),
    ("Es waren 120.000 [Quelle 2] Soldaten.", [("Es waren 120.000 Soldaten.", [2])]),
    ("Laut [1-3] stimmt das.", [("Laut stimmt das.", [1, 2, 3])]),
    ("Ohne Quelle.", [("Ohne Quelle.", [])]),
    ("„Das Ziel des Gesprächs ist klar“ [3].", [("„Das Ziel des Gesprächs ist klar“.", [3])]),
])
def test_markers_are_parsed_in_every_form_small_models_write(text, expected):
    assert parse_markers(text) == expected


@pytest.mark.parametrize("span, sentence, shown", [
    ("21:30 Uhr MEZ", TELEFONAT, "21:30 Uhr MEZ"),
    ("21.30 uhr mez", TELEFONAT, "21:30 Uhr MEZ"),                 # another time format, lower case
    ("mehr als 120000 Soldaten", SOLDATEN, "mehr als 120.000 Soldaten"),
    ("Putin Initiative", TELEFONAT, "Putins Initiative"),            # the model dropped the genitive s
    ("Separatistenregionen Donezk und Luhansk", SOLDATEN, "Separatistenregionen Donezk und Luhansk"),
    ("„Großveranstaltungen“", STRASSE, "Großveranstaltungen"),
    ("Bürgermeisterin Henriette Reker", STRASSE, "Bürgermeisterin Henriette Reker"),
])
def test_a_span_is_found_in_its_sentence_and_shown_in_the_sentences_own_words(checker, span, sentence, shown):
    assert checker.span_in(span, sentence) == shown


LISTE = "Geladen waren die Ministerpräsidenten von Bayern, Hessen und Sachsen sowie der Bürgermeister von Köln."
RANGE = "Zwischen 30.000 bis 50.000 Menschen kamen nach Angaben der Polizei zur Kundgebung am 3. Oktober."
FUENF = "Die Stadt hat fünf neue Brücken über die Ilmenau gebaut."


@pytest.mark.parametrize("span, sentence, shown", [
    ("Bayern, Hessen, Sachsen", LISTE, "Bayern, Hessen und Sachsen"),           # the list's „und“ left out
    ("Hessen, Sachsen, Bürgermeister von Köln", LISTE, "Hessen und Sachsen sowie der Bürgermeister von Köln"),
    ("30.000-50.000", RANGE, "30.000 bis 50.000"),                              # a range written with a dash
    ("5", FUENF, "fünf"),                                                       # a small number as a digit
    ("das neue Brücken", FUENF, "neue Brücken"),                                 # a wrong article
])
def test_a_copied_list_or_range_is_found_though_its_joining_words_differ(checker, span, sentence, shown):
    assert checker.span_in(span, sentence) == shown


@pytest.mark.parametrize("span, sentence", [
    ("Sachsen, Bayern", LISTE),                   # not in the sentence's order
    ("Bayern, Thüringen, Sachsen", LISTE),        # a word the sentence does not hold
    ("30.000-60.000", RANGE),                     # a number it does not hold
    ("Bayern Köln", LISTE),                       # more than joining words between them
    ("sechs", FUENF),
])
def test_a_loose_copy_still_needs_every_word_in_order(checker, span, sentence):
    assert checker.span_in(span, sentence) is None


@pytest.mark.parametrize("span, sentence", [
    ("22:30 Uhr", TELEFONAT),                    # a time the sentence does not hold
    ("130.000 Soldaten", SOLDATEN),              # a number it does not hold
    ("Luhansk und Donezk", SOLDATEN),            # the words, but not in this order: not a span of it
    ("Bürgermeisterin Henriette Meyer", STRASSE),  # a name it does not hold
    ("", TELEFONAT),
    ("...", TELEFONAT),
])
def test_a_span_the_sentence_does_not_hold_is_not_found(checker, span, sentence):
    assert checker.span_in(span, sentence) is None


@pytest.mark.parametrize("text", ["Dazu steht nichts in den Artikeln.", "The articles do not say.",
                                  "Die Passagen enthalten keine Informationen dazu."])
def test_abstention_is_recognised(text):
    assert is_abstention(text)


def test_numbers_match_across_german_and_english_formats(checker):
    assert checker.missing_facts("um 21.30 Uhr, 120,000 Soldaten", "um 21:30 Uhr … 120.000 Soldaten") == []
    assert checker.missing_facts("mehr als 13.000", "Mehr als 12.000 Menschen") == [
        "the number 13.000 is not in the cited text"]


def test_english_names_are_found_under_their_german_spelling(checker):
    assert checker.missing_facts("The Kremlin spokesman Peskov spoke in Moscow on December 30.",
                                 "Kremlsprecher Dmitri Peskow sagte am 30. Dezember in Moskau") == []
    assert checker.missing_facts("It happened in March.", "Am 30. Dezember") == ["„March“ is not in the cited text"]


def test_inflected_names_pass_and_invented_compounds_do_not(checker):
    assert checker.missing_facts("Laut den Geheimdiensten", "US-Geheimdienstlern zufolge") == []
    assert checker.missing_facts("Sie ging von der Staatschefsinitiative aus.",
                                 "zwischen den Staatschefs auf Putins Initiative") == [
        "„Staatschefsinitiative“ is not in the cited text"]
    assert checker.missing_facts("Das sagte Olaf Scholz.", TELEFONAT) == ["„Olaf“ is not in the cited text",
                                                                        "„Scholz“ is not in the cited text"]


BEVOELKERUNG = ("Mit einer Bevölkerung von etwa 1,5 Millionen an der Ostküste des Kontinents, von Neuschottland und "
                "Neufundland im Norden bis hin zu Georgien im Süden, waren die britischen Siedler den Franzosen "
                "zahlenmäßig überlegen.")


@pytest.mark.parametrize("question, text", [
    ("What is the population of Canada?", BEVOELKERUNG),                        # never says „Kanada“
    ("How much does the renovation of the Eiffel Tower cost?",
     "Die Arbeiten an der Löwenbrücke kosten nach Angaben des Bauamts rund 4,2 Millionen Euro."),
])
def test_a_question_whose_names_the_text_never_mentions_is_about_something_else(checker, question, text):
    assert checker.names_none_of(question, text)


@pytest.mark.parametrize("question, text", [
    ("What is the population of Canada?", BEVOELKERUNG + " Kanada gehörte damals zu Frankreich."),
    ("In which town did Zelensky visit the soldiers?", "Präsident Selenskyj besuchte die Soldaten an der Front."),
    ("What did the Kremlin say about Moscow's demands?", "Der Kreml nannte die Forderungen Moskaus berechtigt."),
    ("Which US Secretary of State was concerned?", "US-Außenminister Antony Blinken zeigte sich besorgt."),
    ("When did the Soviet Union collapse?", "Die Sowjetunion zerfiel 1991."),
    ("How many soldiers are there?", BEVOELKERUNG),                              # no name asked: nothing to miss
])
def test_a_name_found_in_any_spelling_keeps_the_text_about_the_question(checker, question, text):
    assert not checker.names_none_of(question, text)


@pytest.mark.parametrize("question, text, share", [
    ("Wann traf Putin den griechischen Ministerpräsidenten Mitsotakis in Sotschi?",
     "Putin sprach nach einem Treffen mit dem griechischen Ministerpräsidenten Mitsotakis.", 3 / 4),  # not Sotschi
    ("Which Canadian city did Zelensky visit?", "Präsident Selenskyj besuchte Kanada.", 1.0),  # Canadian, Zelensky
    ("Wie heißt die Bürgermeisterin von Süßen?", "Bürgermeisterin Claudia Kalisch eröffnete die Brücke.", 0.5),
    ("How many soldiers are there?", BEVOELKERUNG, 1.0),                          # names nothing: nothing to miss
])
def test_the_decision_weighs_the_share_of_the_question_s_names_the_passages_hold(checker, question, text, share):
    assert checker.names_found(question, text) == pytest.approx(share)


@pytest.mark.parametrize("question, span, restates", [
    ("Wen besiegten die Broncos im AFC-Championship-Spiel?", "Broncos", True),
    ("Wen besiegten die Broncos im AFC-Championship-Spiel?", "die New England Patriots", False),
    ("Wie viele Soldaten hat Russland zusammengezogen?", "Russlands", True),            # inflected
    ("Wie viele Soldaten hat Russland zusammengezogen?", "70.000 Soldaten", False),
    ("Wer ist älter, Putin oder Biden?", "Putin", False),                               # a choice offered
])
def test_a_short_answer_that_only_repeats_the_question_is_recognised(checker, question, span, restates):
    assert checker.restates(question, span) is restates
