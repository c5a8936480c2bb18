"""German words as every search reads them: the token pattern, the Snowball stemmer and BM25's tokenizer.

BM25 (``qa.lexical``), the words a question shares with a sentence (``qa.relevance``) and the names it asks
about (``qa.decision``, looked up by ``Retriever.known``) all cut text into words by ``TOKEN_PATTERN`` and stem them with ``german_stemmer``,
so a word found by one is the same word for the others.
"""

from __future__ import annotations

# Keeps "120.000", "16.00" and "21:30" whole instead of splitting them into "120" and "000".
TOKEN_PATTERN = r"(?u)\d+(?:[.:,]\d+)+|\b\w\w+\b"


def german_stemmer():
    """A Snowball German stemmer (PyStemmer); not thread-safe, so each user holds its own and a lock."""
    import Stemmer

    return Stemmer.Stemmer("german")


def tokenize(texts: list[str], stemmer, *, query: bool = False) -> list[list[str]]:
    """Stemmed tokens of each text: German stop words dropped from chunks; a question keeps them (only
    English ones are dropped), as llama-index's ``BM25Retriever`` tokenised both before the index moved
    into Chroma. A kept „der“ or „den“ still matches chunks, where the stems of „deren“ and „denen“ are
    the same, and the eval ranks better with it (hit@1 0.69 against 0.64 without, docs/measurements.md)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="english" if query else "de", stemmer=stemmer,
                          token_pattern=TOKEN_PATTERN, return_ids=False, show_progress=False)
