from pathlib import Path

import pytest

from qa.article_text import Article
from qa.articles import parse_article, read_articles
from qa.chunking import HARD_MAX_CHARS, chunk_article, sentence_spans

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARTICLES, _ = read_articles([SEEDS])


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def _article(text: str) -> Article:
    return parse_article(Path("t.txt"), f" date 2021-12 Titel\n\n{text}".encode())


def test_german_numbers_times_ordinals_and_abbreviations_do_not_end_sentences():
    text = ("Russland wirft der Ukraine vor, mehr als 120.000 Soldaten verlegt zu haben. Das Treffen beginnt "
            "gegen 16.00 Uhr MEZ. Am 30. Dezember, um 21:30 Uhr, telefonieren sie. Die Staats- bzw. "
            "Regierungschefs sprachen am 7. Dezember u.a. über Sanktionen. Dr. Peskow sagte: „Das Ziel ist "
            "klar.“ Danach folgte nichts.")
    assert _sentences(text) == [
        "Russland wirft der Ukraine vor, mehr als 120.000 Soldaten verlegt zu haben.",
        "Das Treffen beginnt gegen 16.00 Uhr MEZ.",
        "Am 30. Dezember, um 21:30 Uhr, telefonieren sie.",
        "Die Staats- bzw. Regierungschefs sprachen am 7. Dezember u.a. über Sanktionen.",
        "Dr. Peskow sagte: „Das Ziel ist klar.“",
        "Danach folgte nichts.",
    ]


def test_a_sentence_may_end_with_a_number_but_not_with_an_ordinal():
    assert _sentences("Die Zahl stieg auf 120.000. Moskau bestreitet das. Am 7. Dezember sprachen sie.") == [
        "Die Zahl stieg auf 120.000.", "Moskau bestreitet das.", "Am 7. Dezember sprachen sie."]


def test_a_blank_line_always_ends_a_sentence():
    assert _sentences("Erklärte Peskow:\n\n„Es gibt viele Themen.“") == ["Erklärte Peskow:", "„Es gibt viele Themen.“"]


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_chunks_are_whole_sentences_that_point_into_the_article(article):
    chunks = chunk_article(article)
    spans = sentence_spans(article.text)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    for n, chunk in enumerate(chunks):
        assert chunk.id == f"{article.id}#{n}" and chunk.n == n
        assert chunk.text == article.text[chunk.start:chunk.end]
        assert chunk.start in starts and chunk.end in ends, "a chunk starts or ends inside a sentence"
        assert len(chunk.text) <= 700 or len(_sentences(chunk.text)) == 1
    covered = [any(c.start <= s and e <= c.end for c in chunks) for s, e in spans]
    assert all(covered), "every sentence is in some chunk"
    for before, after in zip(chunks, chunks[1:]):
        assert after.start >= before.start and after.end > before.end
        overlap = article.text[after.start:before.end] if after.start < before.end else ""
        assert len(_sentences(overlap)) <= 1, "at most one sentence of overlap"


def test_the_seeds_make_the_expected_chunks():
    assert [len(chunk_article(a)) for a in ARTICLES] == [6, 10, 5, 8, 6]
    numbers = [c for a in ARTICLES for c in chunk_article(a) if "120.000" in c.text]
    assert numbers and all("120.000 Soldaten" in c.text for c in numbers)


def test_chunking_is_deterministic():
    assert chunk_article(ARTICLES[1]) == chunk_article(ARTICLES[1])


def test_a_one_sentence_article_is_one_chunk():
    chunks = chunk_article(_article("Nur ein Satz mit Straße und ß."))
    assert [c.text for c in chunks] == ["Nur ein Satz mit Straße und ß."]


def test_an_endless_sentence_is_split_at_spaces_within_the_model_limit():
    words = " ".join(f"Wort{i}" for i in range(1000)) + "."
    chunks = chunk_article(_article(words))
    assert all(len(c.text) <= HARD_MAX_CHARS for c in chunks)
    assert " ".join(c.text for c in chunks) == words


def test_short_paragraphs_are_joined_until_the_chunk_has_substance():
    text = "Kritik an Truppenbewegungen\n\nAuf Bidens Einwände entgegnete Putin etwas. " * 1
    chunks = chunk_article(_article(text.strip()))
    assert len(chunks) == 1 and chunks[0].text.startswith("Kritik an Truppenbewegungen\n\nAuf Bidens")


@pytest.mark.parametrize("text, sentences", [
    ("Regensburg. Der Stadtrat hat die Stadtbahn beschlossen. Sie kostet 586 Millionen Euro.",
     ["Regensburg. Der Stadtrat hat die Stadtbahn beschlossen.", "Sie kostet 586 Millionen Euro."]),
    ("Frankfurt am Main. Die Börse schloss um 17:30 Uhr.", ["Frankfurt am Main. Die Börse schloss um 17:30 Uhr."]),
    ("Berlin/Moskau. „Wir verhandeln“, sagte er.", ["Berlin/Moskau. „Wir verhandeln“, sagte er."]),
    ("Der Präsident sprach. Danach ging er.", ["Der Präsident sprach.", "Danach ging er."]),
    ("Gestern kam er. Heute ging er.", ["Gestern kam er.", "Heute ging er."]),
], ids=["dateline", "three-words", "two-places", "a-short-sentence", "two-words-and-a-verb"])
def test_a_paragraphs_opening_place_name_is_no_sentence_of_its_own(text, sentences):
    # Quoted alone, „Regensburg.“ was a whole answer.
    assert [text[s:e] for s, e in sentence_spans(text)] == sentences
