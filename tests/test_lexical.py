"""The BM25 index's log in a real (embedded) Chroma collection, read back with and without merged segments."""

import chromadb
import numpy as np
import pytest

import qa.lexical as lexical
from qa.lexical import LexicalIndex, LexicalLog, noun_stems
from qa.tokens import german_stemmer, tokenize

SENTENCES = [
    "Russland hat 120.000 Soldaten an der Grenze zur Ukraine zusammengezogen.",
    "Das Gespräch zwischen Biden und Putin begann um 16.00 Uhr MEZ und dauerte zwei Stunden.",
    "Der Kreml sprach von einem „offenen und sachlichen“ Austausch über die Lage im Donbass.",
    "In Genf trafen sich die Delegationen am Montag um 21:30 Uhr zu weiteren Gesprächen.",
    "Die NATO-Staaten zeigten im Schwarzen Meer provokative Aktivitäten, sagte der Außenminister.",
    "Juri Uschakow, Putins außenpolitischer Berater, äußerte sich nach dem Treffen.",
    "Die Inflation in der Eurozone stieg im November auf 4,9 Prozent, die höchste seit 1997.",
    "Der Bundestag wählte Olaf Scholz mit 395 Stimmen zum Kanzler.",
    "Große Straßen in München blieben wegen des Schnees gesperrt.",
    "Die Gaspreise an der Börse in Amsterdam erreichten einen neuen Höchststand.",
    "Selenskyj forderte weitere Sanktionen gegen Moskau und Waffen für die Armee.",
    "Die Grünen und die FDP einigten sich auf den Koalitionsvertrag mit der SPD.",
]
QUESTIONS = ["Wie viele Soldaten hat Russland an der Grenze?", "Wann begann das Gespräch zwischen Biden und Putin?",
             "Wer ist Putins außenpolitischer Berater?", "Wo zeigten NATO-Staaten provokative Aktivitäten?",
             "Wie hoch war die Inflation im November?", "Uhr Gespräche Genf 21:30", "Schnee München Straßen"]


def _log(tmp_path) -> tuple[object, object]:
    """A log of 12 one-article segments (each chunk twice: two chunks per article), a removal and a rewrite."""
    collection = chromadb.PersistentClient(path=str(tmp_path)).get_or_create_collection("t-lexical",
                                                                                      embedding_function=None)
    log, stemmer = LexicalLog(collection), german_stemmer()
    for n, sentence in enumerate(SENTENCES):
        article = f"a{n:02d}.txt"
        texts = [sentence, f"{sentence} {SENTENCES[(n + 1) % len(SENTENCES)]}"]
        log.add([f"{article}#0", f"{article}#1"], [article, article], tokenize(texts, stemmer))
    log.remove(["a07.txt"])                                    # Scholz is gone
    log.add(["a08.txt#0"], ["a08.txt"], tokenize(["Der Schnee in Hamburg schmolz schnell."], stemmer))
    return collection, stemmer


def _searches(index: LexicalIndex, stemmer) -> list:
    return [index.search(tokenize([q], stemmer, query=True)[0], 5) for q in QUESTIONS]


def test_merged_segments_score_as_the_separate_ones(tmp_path, monkeypatch):
    collection, stemmer = _log(tmp_path)
    monkeypatch.setattr(lexical, "MERGE_AT", 1000)
    separate = LexicalIndex()
    separate.follow(collection)
    assert len(separate.segments) == 13
    monkeypatch.setattr(lexical, "MERGE_AT", 4)
    merged = LexicalIndex()
    merged.follow(collection)
    assert len(merged.segments) == 1
    expected = _searches(separate, stemmer)
    assert [[chunk for chunk, _ in hits] for hits in _searches(merged, stemmer)] == [
        [chunk for chunk, _ in hits] for hits in expected]
    for got, want in zip(_searches(merged, stemmer), expected):
        assert [score for _, score in got] == pytest.approx([score for _, score in want], rel=1e-6)
    assert expected[0][0][0].startswith("a00.txt#")
    assert not any(chunk.startswith("a07.txt") for hits in expected for chunk, _ in hits)
    # The rewritten article: its old chunks scored nowhere, its new one found.
    assert [chunk for chunk, _ in _searches(merged, stemmer)[-1]][0] == "a08.txt#0"
    assert "a08.txt#1" not in {chunk for hits in expected for chunk, _ in hits}


def test_a_small_follow_merges_only_the_recent_segments(tmp_path, monkeypatch):
    collection, stemmer = _log(tmp_path)
    monkeypatch.setattr(lexical, "MERGE_AT", 4)
    index = LexicalIndex()
    index.follow(collection)
    first = index.segments[0]
    log = LexicalLog(collection)
    for n in range(5):   # five small writes by another process
        log.add([f"b{n}.txt#0"], [f"b{n}.txt"], tokenize([f"Meldung {n}: Die Bahn streikt am Freitag."], stemmer))
    index.follow(collection)
    assert len(index.segments) == 2 and index.segments[0] is first
    hits = index.search(tokenize(["Wann streikt die Bahn?"], stemmer, query=True)[0], 10)
    assert {chunk for chunk, _ in hits} >= {f"b{n}.txt#0" for n in range(5)}


def test_a_question_s_word_finds_the_compounds_it_ends_in_merged_and_separate_segments(tmp_path, monkeypatch):
    """„Berater“ finds „Außenberater“, „Stadt“ „Hauptstadt“, in one segment or spread over several; a short
    word („Rat“), a word the compound only begins with („Außen…“) and a number do not."""
    collection = chromadb.PersistentClient(path=str(tmp_path)).get_or_create_collection("t-lexical",
                                                                                      embedding_function=None)
    log, stemmer = LexicalLog(collection), german_stemmer()
    texts = {
        "berater.txt": "Laut seinem Außenberater Juri Uschakow sprach Putin zwei Stunden mit Biden.",
        "stadt.txt": "In der Hauptstadt Kiew demonstrierten am Samstag um 21:30 Uhr über 120.000 Menschen.",
        "rat.txt": "Der Stadtrat von Köln beschloss die Straßenbahn über die Brücke.",
        "andere.txt": "Die Außenminister trafen sich in Genf zu Gesprächen über die Ukraine.",
        "zahl.txt": "Die Firma meldete 3120.000 Euro Umsatz im Quartal.",
    }
    for article, text in texts.items():
        log.add([f"{article}#0"], [article], tokenize([text], stemmer))
    for merge_at in (1000, 2):
        monkeypatch.setattr(lexical, "MERGE_AT", merge_at)
        index = LexicalIndex()
        index.follow(collection)
        assert len(index.segments) == (5 if merge_at == 1000 else 1)

        def found(question: str) -> list[str]:
            tokens = tokenize([question], stemmer, query=True)[0]
            return [chunk for chunk, _ in index.search(tokens, 5, noun_stems(question, stemmer))]

        assert found("Wer ist der Berater?") == ["berater.txt#0"]
        assert found("In welcher Stadt demonstrierten die Menschen?")[0] == "stadt.txt#0"
        assert found("Rat") == []                  # three letters: „Stadtrat“ is not a kind of „Rat“ here
        assert found("Außen") == []                # „Außenminister“ only begins with it
        assert found("120.000") == ["stadt.txt#0"]   # numbers match whole: not „3120.000“
        assert found("Wer wurde beraten?") == []     # only nouns: a verb's stem („berat“) finds no compounds
        assert noun_stems("Wer ist Putins außenpolitischer Berater?", stemmer) == {"wer", "putin", "berat"}
    # A chunk with the word and a compound of it: one posting list, its counts added (tf 2, not two terms).
    log.add(["beide.txt#0"], ["beide.txt"], tokenize(["Der Berater und der Außenberater."], stemmer))
    index = LexicalIndex()
    index.follow(collection)
    hits = dict(index.search(tokenize(["Berater"], stemmer, query=True)[0], 5, {"berat"}))
    assert list(hits) == ["beide.txt#0", "berater.txt#0"]
    n, df, average = 6, 2, float(index.lengths.mean())
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = lexical.K1 * (1 - lexical.B + lexical.B * index.lengths[5] / average)
    assert hits["beide.txt#0"] == pytest.approx(idf * 2 / (2 + norm), rel=1e-5)
