"""The fusion of the rankings, without an index (the real retrieval is tested in tests/test_ask.py)."""

import re

import pytest

from qa.chunking import Chunk
from qa.retrieval import Retriever, fuse_scores


def _chunk(name: str) -> Chunk:
    return Chunk(id=f"{name}.txt#0", article_id=f"{name}.txt", n=0, text=name, start=0, end=len(name),
                 title=name, date="2021-12-07")


A, B, C = _chunk("a"), _chunk("b"), _chunk("c")


def _ids(fused):
    return [c.id for c, _ in fused]


def test_a_near_tie_in_one_search_gives_way_to_a_clear_lead_in_the_other():
    """Chunks of one story lie within a thousandth of cosine; ranks would make that a whole step."""
    dense = [(A, .8500), (B, .8492), (C, .7000)]
    bm25 = [(B, 9.0), (A, 2.0), (C, 1.0)]
    assert _ids(fuse_scores([dense, bm25], [0.5, 0.5])) == [B.id, A.id, C.id]
    # A clear lead in the dense search is kept against a close second in BM25.
    assert _ids(fuse_scores([[(A, .90), (B, .70)], [(B, 5.0), (A, 4.9)]], [0.5, 0.5]))[0] == A.id


def test_each_ranking_counts_by_its_weight():
    dense, bm25, sentences = [(A, .9), (B, .8), (C, .7)], [(A, 3.0), (B, 2.0)], [(B, .9), (C, .8), (A, .7)]
    assert _ids(fuse_scores([dense, bm25, sentences], [0.5, 0.5, 0.5]))[0] == A.id
    assert _ids(fuse_scores([dense, bm25, sentences], [0.5, 0.5, 2.0]))[0] == B.id
    # Weight 0: as if the ranking were not there.
    assert fuse_scores([dense, bm25, sentences], [0.5, 0.5, 0.0]) == fuse_scores([dense, bm25], [0.5, 0.5])
    # Dense weight 1: BM25 orders nothing, but its candidates stay candidates.
    assert _ids(fuse_scores([[(A, .9), (B, .8)], [(C, 7.0)]], [1.0, 0.0])) == [A.id, B.id, C.id]


def test_a_chunk_a_search_missed_counts_as_its_worst_and_scores_are_scaled():
    fused = dict((c.id, s) for c, s in fuse_scores([[(A, .9), (B, .7)], [(C, 4.0), (A, 2.0)]], [0.5, 0.5]))
    assert fused == pytest.approx({A.id: 0.5, B.id: 0.0, C.id: 0.5})
    # One candidate, or all equal: scaled to 1. A sentence score of -1 (no sentence vectors) is no score.
    assert fuse_scores([[(A, .8)], [(A, .3), (B, -1.0)]], [0.5, 0.5])[0] == (A, 1.0)


def test_a_weight_for_each_ranking():
    with pytest.raises(ValueError):
        fuse_scores([[(A, 1.0)], [(B, 1.0)]], [1.0])


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_a_dense_weight_outside_0_to_1_is_refused(weight):
    with pytest.raises(ValueError, match="dense_weight must be between 0 and 1"):
        Retriever(store=None, embedder=None, dense_weight=weight)


def test_a_negative_sentence_weight_is_refused():
    with pytest.raises(ValueError, match="sentence_weight"):
        Retriever(store=None, embedder=None, sentence_weight=-0.5)


def test_the_single_method_baselines_have_no_sentence_ranking():
    assert Retriever(store=None, embedder=None, method="dense", sentence_weight=2.0).sentence_weight == 0.0


def test_the_sentence_ranker_finds_a_question_noun_at_the_end_of_a_compound():
    """„Wer ist Putins Berater?“ must count „Außenberater“ as holding „Berater“, by BM25's rule."""
    from qa.relevance import SentenceRanker

    ranker = SentenceRanker(store=None, calibration=None)
    nouns = ranker.nouns("Wer ist Putins außenpolitischer Berater?")
    assert "berat" in nouns and "aussenpolit" not in nouns          # only capitalised words are nouns
    sentence = ranker.terms("Putin laut seinem außenpolitischen Außenberater Juri Uschakow")
    assert "berat" not in sentence and "berat" in ranker.with_compounds(sentence, nouns)
    # A modifier of fewer than four letters or a head of fewer than five is no compound („Umberat“, „Amt“).
    assert ranker.with_compounds({"umberat"}, {"berat"}) == {"umberat"}
    assert ranker.with_compounds({"auswartigamt"}, {"amt"}) == {"auswartigamt"}
    assert ranker.with_compounds({"hauptstadt"}, {"stadt"}) == {"hauptstadt", "stadt"}


def test_the_sentence_ranker_counts_a_verb_in_its_present_tense_forms():
    """„Wie viel kostet die Sanierung?“ is answered by „Die Arbeiten kosten 4,2 Millionen Euro“: Snowball
    stems „kostet“ to „kostet“ and „kosten“ to „kost“."""
    from qa.relevance import SentenceRanker

    ranker = SentenceRanker(store=None, calibration=None)
    wanted = ranker.terms("Wie viel kostet die Sanierung der Löwenbrücke?")
    sentence = ranker.terms("Die Arbeiten kosten nach Angaben der Stadt rund 4,2 Millionen Euro.")
    assert "kostet" in wanted and "kostet" not in sentence
    assert "kostet" in ranker.with_inflections(sentence, wanted)
    assert ranker.with_inflections({"erklart"}, {"erklar"}) == {"erklart", "erklar"}  # either side longer
    assert ranker.with_inflections({"erklar"}, {"erklart"}) == {"erklar", "erklart"}
    assert ranker.with_inflections({"sagt"}, {"sag"}) == {"sagt"}             # too short to tell a verb
    assert ranker.with_inflections({"kostum"}, {"kost"}) == {"kostum"}        # not a verb ending
    assert ranker.with_inflections({"saniert"}, {"sanier"}) == {"saniert", "sanier"}


@pytest.mark.parametrize("question, holds, lacks", [
    ("Warum schließt die Bäckerei Süß?", "Die Bäckerei schließt, weil sich kein Nachfolger gefunden hat.",
     "Die Bäckerei Süß schließt zum Jahresende."),
    ("Weshalb sagte Peskow das Treffen ab?", "Wegen der Lage in Kiew sagte Peskow das Treffen ab.",
     "Peskow sagte das Treffen am Montag ab."),
    ("Wie alt ist Hans Süß?", "Der Bäckermeister ist inzwischen 74 Jahre alt.", "Hans Süß ist Bäckermeister."),
    ("Was kostet die Sanierung der Löwenbrücke?", "Die Arbeiten kosten rund 4,2 Millionen Euro.",
     "Die Sanierung der Löwenbrücke ist teuer."),
    ("Wie hoch war der Schaden?", "Der Schaden beträgt 120.000 Euro.", "Der Schaden war hoch."),
])
def test_a_question_asking_a_reason_an_age_or_an_amount_asks_for_its_kind(question, holds, lacks):
    from qa.relevance import asked_kinds

    kinds = asked_kinds(question)
    assert kinds, question
    assert all(re.search(k, holds) for k in kinds)
    assert not all(re.search(k, lacks) for k in kinds)


def test_how_long_asks_for_a_duration_not_for_any_number():
    from qa.relevance import asked_kinds

    kinds = asked_kinds("Wie lange dauert die Sanierung?")
    assert len(kinds) == 1 and re.search(kinds[0], "Sie dauert drei Monate.")
    assert not re.search(kinds[0], "Sie kostet 4,2 Millionen Euro.")


def test_a_sentence_scored_with_the_one_before_is_shown_with_it():
    """„Mit 39 Jahren ist er der älteste Quarterback“ answers „Wer …?“ only with the sentence that names him."""
    import numpy as np

    from qa.calibration import Calibration
    from qa.relevance import Candidate, SentenceRanker

    ranker = SentenceRanker(store=None, calibration=Calibration())
    question = np.array([1.0, 0.0])
    before = "Peyton Manning führte zwei Teams in den Super Bowl."
    sentence = "Mit 39 Jahren ist er zudem der älteste Quarterback."
    pointing_back = Candidate(sentence, np.array([0.6, 0.8]), 0, previous=np.array([1.0, 0.0]),
                              previous_text=before)
    ranker._score(pointing_back, question)
    assert pointing_back.borrowed and pointing_back.shown == f"{before} {sentence}"
    on_its_own = Candidate(sentence, np.array([1.0, 0.0]), 0, previous=np.array([0.6, 0.8]), previous_text=before)
    ranker._score(on_its_own, question)
    assert not on_its_own.borrowed and on_its_own.shown == sentence
    first = Candidate(sentence, np.array([1.0, 0.0]), 0)
    ranker._score(first, question)
    assert first.shown == sentence


def test_a_sentence_holding_what_is_asked_goes_first_when_it_scores_near_the_best():
    import numpy as np

    from qa.calibration import Calibration
    from qa.relevance import Candidate, SentenceRanker, asked_kinds

    ranker = SentenceRanker(store=None, calibration=Calibration(llm_margin=0.08))
    kinds = asked_kinds("Warum schließt die Bäckerei Süß?")

    def candidate(text: str, score: float) -> Candidate:
        cand = Candidate(text, np.zeros(2), 0, score=score)
        cand.typed = all(re.search(k, text) for k in kinds)
        return cand

    best = candidate("Die Bäckerei Süß schließt zum Jahresende.", 1.08)
    why = candidate("Die Bäckerei schließt, weil sich kein Nachfolger gefunden hat.", 1.02)
    other = candidate("Mehr als 120.000 Brötchen verkauft die Bäckerei Süß im Jahr.", 0.98)
    assert [c.text for c in ranker.kind_first([best, why, other], kinds)] == [why.text, best.text, other.text]
    far = candidate(why.text, 0.99)                                  # more than the margin below: not moved
    assert ranker.kind_first([best, far, other], kinds)[0] is best
    assert ranker.kind_first([best, why, other], [])[0] is best      # nothing particular asked
    assert ranker.kind_first([why, best], kinds)[0] is why
    # A name is only hinted at by capitals (German capitalises nouns): it moves nothing.
    assert ranker.kind_first([best, why], asked_kinds("Wer führt die Bäckerei Süß?"))[0] is best


@pytest.mark.parametrize("question, sentence, lacks", [
    ("Wie viele Drohnen hat Russland an der Grenze stationiert?",
     "Russland hat nach Erkenntnissen der NATO Drohnen an der Grenze stationiert.", True),
    ("Wie viele Drohnen hat Russland an der Grenze stationiert?", "Russland hat 120.000 Soldaten stationiert.", False),
    ("Wie viele Grammys hat sie gewonnen?", "Die sechsmalige Grammy-Gewinnerin sang.", False),   # a number word
    ("Wie viele Menschen liefen mit?", "Beim 25. Herbstlauf liefen so viele mit wie nie.", True),  # an ordinal
    ("Wie viele Hackerangriffe gab es?", "Das Gespräch begann kurz nach 16.00 Uhr.", True),        # a time
    ("Wie viele Menschen liefen mit?", "Insgesamt 3.150 Teilnehmende liefen am 5. Oktober.", False),
    ("Wie alt ist die Bürgermeisterin?", "Bürgermeisterin Sabine Krüger (52, parteilos) sagte:", False),
    ("Um wie viel Uhr wollte Selenskyj telefonieren?", "Selenskyj will am Donnerstag telefonieren.", True),
    ("Um wie viel Uhr wollte Selenskyj telefonieren?", "Das Gespräch beginnt um 21:30 Uhr.", False),
    ("Was kostet die Sanierung?", "Die Sanierung wurde 2019 beschlossen.", True),     # a year is no price
    ("Wie alt ist Hans Süß?", "Der Bäckermeister ist 74 Jahre alt.", False),
    ("Warum schließt die Bäckerei?", "Die Bäckerei schließt zum Jahresende.", False),  # a reason is not a number
    ("Wer führt die Bäckerei?", "Sie schließt zum Jahresende.", False),
    # The number or date must be one the question does not state already.
    ("Wie viele Seiten umfassen die zwei Entwürfe?", "Russland legte zwei Entwürfe vor.", True),
    ("Wie viele Seiten umfassen die zwei Entwürfe?", "Die zwei Entwürfe umfassen 14 Seiten.", False),
    ("Wie viele Tore fielen beim 24-10?", "Beim 24-10 fielen drei Tore.", False),
    ("Wie viele Tore fielen beim 24-10?", "Es stand 24-10.", True),                 # only the question's own
    ("Wann tagte der Rat?", "Der Rat tagte in Mainz.", True),                   # „Mainz“ is no month
    ("Wann tagte der Rat?", "Der Rat tagte vor zwei Wochen.", False),
    ("An welchem Tag trafen sie sich im juni?", "Sie trafen sich im Juni.", True),  # stated, whatever the case
    ("What did Biden say when he called Putin?", "Biden warnte Putin vor Sanktionen.", False),  # "when" asks no date
    ("According to the US, when could Russia invade?", "Russland könnte einmarschieren.", True),  # "when could"
    ("Wann äußerte sich Peskow?", "Am Donnerstagmorgen äußerte sich Peskow.", False),  # a day in a compound
    ("An welchem Tag im Juni trafen sich Putin und Biden?", "Putin und Biden trafen sich im Juni in Genf.", True),
    ("An welchem Tag im Juni trafen sich Putin und Biden?", "Sie trafen sich am 16. Juni in Genf.", False),
    ("Wann begann die Videokonferenz am Dienstag?", "Die Konferenz am Dienstag begann um 16.07 Uhr.", False),
    ("Wann begann die Videokonferenz am Dienstag?", "Die Konferenz am Dienstag dauerte zwei Stunden.", True),
    ("In which year did Georgia apply to join NATO?", "Georgien will der Nato beitreten.", True),
    ("In which year did Georgia apply to join NATO?", "Georgien beantragte 2008 die Aufnahme.", False),
    # „wie viel Zeit“ asks a span of time, not a count; „eine unendliche Anzahl“ asks no number.
    ("Wie viel Zeit verblieb beim 24-10?", "Denver führte 24-10 mit 3:08 verbleibenden Minuten.", False),
    ("Welche Vermutung besagt, dass es eine unendliche Anzahl von Primzahlen gibt?",
     "Die Vermutung von Polignac besagt es.", False),
])
def test_a_question_asking_a_number_or_date_is_not_answered_by_a_sentence_without_a_new_one(question, sentence,
                                                                                           lacks):
    import numpy as np

    from qa.decision import Evidence, lacks_asked_fact, new_facts
    from qa.relevance import Candidate

    assert lacks_asked_fact(question, Candidate(sentence, np.zeros(2), 0), Evidence.none(False),
                            new_facts(question, sentence)) is lacks


@pytest.mark.parametrize("question, sentence, lacks", [
    ("In welcher Stadt traf sich Putin mit Mitsotakis?", "Nach einem Treffen mit Mitsotakis sprach Putin.", True),
    ("In welcher Stadt traf sich Putin mit Mitsotakis?", "Putin traf Mitsotakis in Sotschi.", False),
    ("In which town did Zelensky visit the soldiers?", "Selenskyj besuchte die Soldaten im Osten seines Landes.", True),
    ("Aus welchem Land kommen die Touristen?", "Die meisten Touristen kommen aus Österreich.", False),
    ("In welchem Ort soll das Treffen stattfinden?", "Das Treffen soll nach Angaben Moskaus in Genf stattfinden.", False),
    ("Wo liegt die Brücke?", "Die Brücke liegt am Rhein.", False),               # „wo“ alone is answered otherwise too
    ("Welche Stadt ist die größte?", "Die größte ist Hamburg.", False),          # not the kind of place asked „in“
])
def test_a_question_naming_the_kind_of_place_it_asks_is_not_answered_by_a_sentence_without_one(question, sentence,
                                                                                                  lacks):
    import numpy as np

    from qa.decision import Evidence, lacks_asked_place
    from qa.relevance import Candidate

    assert lacks_asked_place(question, Candidate(sentence, np.zeros(2), 0), Evidence.none(False), {}) is lacks


@pytest.mark.parametrize("question, sentence, other_day", [
    ("Um wie viel Uhr endete die Videokonferenz am 7. Dezember?",
     "Am 30. Dezember, um 21:30 Uhr MEZ, soll das Videotelefonat stattfinden.", True),
    ("Um wie viel Uhr begann die Videokonferenz am 7. Dezember?",
     "Die Videokonferenz am 7. Dezember begann um 16.00 Uhr MEZ.", False),
    ("Was geschah am 7. dezember?", "Am 7.Dezember trafen sie sich, am 30. Dezember telefonierten sie.", False),
    ("Wann fand die Videokonferenz statt?", "Am 30. Dezember telefonierten sie.", False),   # no day stated
    ("Was sagte Peskow am 30. Dezember?", "Peskow sprach von einem „offenen Gespräch“.", False),  # names none
])
def test_a_sentence_about_another_day_of_the_month_does_not_answer(question, sentence, other_day):
    import numpy as np

    from qa.decision import Evidence, about_another_day
    from qa.relevance import Candidate

    assert about_another_day(question, Candidate(sentence, np.zeros(2), 0), Evidence.none(False), {}) is other_day


@pytest.mark.parametrize("question, sentence, language, short", [
    ("Wie viele Soldaten hat Russland zusammengezogen?", "Moskau hat 70.000 Soldaten zusammengezogen.", "de", "70.000"),
    ("Wie viele Soldaten stehen an der Grenze?", "Moskau hat 70.000, Kiew 120.000 Soldaten.", "de", ""),  # two
    ("Wie viele Soldaten hat Moskau zusammengezogen?", "Moskau hat 70.000 Soldaten für Anfang 2022 zusammengezogen.",
     "de", "70.000"),                                                                     # a year is no count
    ("In welchem Jahr war die Invasion?", "Die Invasion begann 2022 mit 70.000 Soldaten.", "de", "2022"),
    ("Wie alt ist Hans Süß?", "Der Bäckermeister ist 74 Jahre alt.", "de", "74 Jahre"),
    ("Wann trafen sich Putin und Biden?", "Sie trafen sich am 16. Juni in Genf.", "de", "16. Juni"),
    ("Um wie viel Uhr beginnt das Gespräch?", "Das Gespräch beginnt um 21:30 Uhr.", "de", "21:30"),
    ("Wie viele Nationen teilen sich die Region?", "Sie gehört zu neun Nationen.", "de", "neun"),
    ("Wie alt ist die Bürgermeisterin?", "Sie ist im besten Alter.", "de", ""),          # „Alter“ is no answer
    ("How many soldiers has Russia massed?", "Moskau hat 70.000 Soldaten zusammengezogen.", "en", "70.000"),
    ("When did they meet?", "Sie trafen sich am 16. Juni in Genf.", "en", ""),           # German words
    ("Wer führt die Bäckerei?", "Hans Süß führt sie seit 1982.", "de", ""),              # no number asked
    ("Wann trafen sie sich?", "Sie trafen sich am 16.07.2021 in Genf.", "de", "16.07.2021"),
    ("Wann tagte der Rat?", "Der Rat tagte in Mainz mit 15000 Gästen.", "de", ""),     # no date at all
])
def test_the_fast_answer_gives_a_short_answer_where_the_sentence_leaves_no_doubt(question, sentence, language, short):
    from qa.decision import new_facts
    from qa.extractive import clear_short

    assert clear_short(new_facts(question, sentence), language) == short
