"""The verifier on real German passages and the real e5 model: markers, facts, support, abstention."""

import numpy as np
import pytest

from qa.retrieval import german_stemmer
from qa.verify import Source, Verifier, is_abstention, parse_markers

TELEFONAT = ("Am 30. Dezember spätabends, um 21:30 Uhr MEZ, soll das Videotelefonat zwischen den Staatschefs "
             "auf Putins Initiative und ohne Pressevertreter stattfinden.")
SOLDATEN = ("Moskau weist das zurück und wirft der Ukraine vor, mehr als 120.000 Soldaten an die Linie zu den "
            "pro-russischen Separatistenregionen Donezk und Luhansk verlegt zu haben.")
PESKOW = "Der Sprecher des PRäsidenten teilte mit, es sei für Putin kein Problem, dass das Gespräch erst um " \
         "23:30 Uhr Moskauer Zeit beginne."


@pytest.fixture(scope="module")
def verifier(embedder):
    stemmer = german_stemmer()
    return Verifier(embedder.embed_query, stemmer.stemWords)


@pytest.fixture(scope="module")
def sources(embedder):
    texts = [TELEFONAT, SOLDATEN, PESKOW]
    vectors = embedder.embed_passages(texts)
    return [Source(i, t, ((t, v),)) for i, (t, v) in enumerate(zip(texts, vectors), 1)]


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


def test_a_faithful_german_answer_passes(verifier, sources):
    verdict = verifier.verify("Das Telefonat soll am 30. Dezember um 21:30 Uhr MEZ stattfinden [1].", sources,
                              "Wann soll das Telefonat stattfinden?")
    assert verdict.ok, verdict.problems()
    assert verdict.cited == [1] and verdict.text.endswith("stattfinden [1].")


def test_an_english_answer_with_english_number_format_passes(verifier, sources):
    verdict = verifier.verify("Moscow accuses Ukraine of moving more than 120,000 soldiers to the line [2].",
                              sources, "How many soldiers did Ukraine move?")
    assert verdict.ok, verdict.problems()


def test_a_number_the_cited_passage_does_not_hold_fails(verifier, sources):
    verdict = verifier.verify("Die Ukraine hat mehr als 130.000 Soldaten verlegt [2].", sources)
    assert not verdict.ok
    assert any("130.000" in p for p in verdict.problems())


def test_a_name_the_cited_passage_does_not_hold_fails(verifier, sources):
    verdict = verifier.verify("Das Videotelefonat findet auf Initiative von Scholz statt [1].", sources)
    assert not verdict.ok
    assert any("Scholz" in p for p in verdict.problems())


def test_a_marker_that_names_no_passage_is_dropped_and_the_statement_repaired(verifier, sources):
    verdict = verifier.verify("Das Gespräch beginnt um 23:30 Uhr Moskauer Zeit [7].", sources)
    assert verdict.dropped_markers == (7,)
    assert verdict.ok and verdict.cited == [3], verdict.problems()


def test_a_statement_citing_the_wrong_passage_is_moved_to_the_right_one(verifier, sources):
    verdict = verifier.verify("Das Gespräch beginnt um 23:30 Uhr Moskauer Zeit [1].", sources)
    assert verdict.ok and verdict.cited == [3]


def test_a_statement_no_passage_supports_fails(verifier, sources):
    verdict = verifier.verify("Die Inflationsrate in Deutschland liegt bei 7,9 Prozent.", sources)
    assert not verdict.ok
    assert "cites no passage" in verdict.problems()[0]


def test_an_empty_answer_fails(verifier, sources):
    assert not verifier.verify("", sources).ok


@pytest.mark.parametrize("text", ["Dazu steht nichts in den Artikeln.", "The articles do not say.",
                                  "Die Passagen enthalten keine Informationen dazu."])
def test_abstention_is_recognised(verifier, sources, text):
    assert is_abstention(text)
    verdict = verifier.verify(text, sources)
    assert verdict.abstained and verdict.ok


def test_numbers_match_across_german_and_english_formats(verifier):
    assert verifier.missing_facts("um 21.30 Uhr, 120,000 Soldaten", "um 21:30 Uhr … 120.000 Soldaten") == []
    assert verifier.missing_facts("mehr als 13.000", "Mehr als 12.000 Menschen") == [
        "the number 13.000 is not in the cited text"]


def test_english_names_are_found_under_their_german_spelling(verifier):
    assert verifier.missing_facts("The Kremlin spokesman Peskov spoke in Moscow on December 30.",
                                  "Kremlsprecher Dmitri Peskow sagte am 30. Dezember in Moskau") == []
    assert verifier.missing_facts("It happened in March.", "Am 30. Dezember") == ["„March“ is not in the cited text"]


def test_similarity_is_computed_against_the_cited_sentences(verifier, sources, embedder):
    vector = embedder.embed_query("Wann beginnt das Gespräch in Moskauer Zeit?")
    assert isinstance(vector, np.ndarray)
    verdict = verifier.verify("Es beginnt um 23:30 Uhr Moskauer Zeit [3].", sources)
    assert verdict.statements[0].similarity > 0.8


def test_inflected_names_pass_and_invented_compounds_do_not(verifier):
    assert verifier.missing_facts("Laut den Geheimdiensten", "US-Geheimdienstlern zufolge") == []
    assert verifier.missing_facts("Sie ging von der Staatschefsinitiative aus.",
                                  "zwischen den Staatschefs auf Putins Initiative") == [
        "„Staatschefsinitiative“ is not in the cited text"]
