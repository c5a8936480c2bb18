"""Sentence relevance: every sentence of the retrieved passages scored for the question (``qa.decision``
judges from the best one whether the articles answer it at all).

A candidate sentence is scored by its own e5 vector (stored at ingest) against the question, plus the
share of the question's content words it holds (rare words weigh more) and whether it holds the kind of
fact asked for (a number, a time, a date, a name). The weights come from ``Calibration``.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from qa.calibration import Calibration
from qa.chunking import Chunk
from qa.lexical import HEAD_CHARS, MODIFIER_CHARS, noun_stems
from qa.retrieval import Passage
from qa.store import ChunkStore
from qa.tokens import TOKEN_PATTERN, german_stemmer
from qa.verify import FactChecker
from qa.wordlists import ANSWER_KINDS, HINT_KINDS, STOPWORDS

# Present-tense endings the Snowball German stemmer keeps („kostet“, „sagst“) while it strips the infinitive's
# („kosten“ → „kost“): a stem and the same stem with one of them count as one word, when the shorter has at
# least INFLECTED_CHARS letters („rat“/„ratet“ are not matched; „kost“/„kostet“ are). A rule, not fitted.
VERB_ENDINGS = {"t", "et", "st", "est"}
INFLECTED_CHARS = 4


class QuestionPart(NamedTuple):
    """One question as the ranker gets it: its words, its query vector and its retrieved passages."""

    question: str
    vector: np.ndarray
    passages: list[Passage]


class Place(NamedTuple):
    """Where a sentence stands: a chunk of a retrieved passage, and that passage's rank."""

    rank: int
    chunk: Chunk


@dataclass
class Candidate:
    """A sentence of the retrieved passages, with what its score is made of."""

    text: str
    vector: np.ndarray
    rank: int                    # of the best passage it stands in
    places: list[Place] = field(default_factory=list)  # every chunk that holds it
    previous: np.ndarray | None = None  # the sentence before it: "dort", "er", "das" point back to it
    previous_text: str | None = None
    similarity: float = 0.0      # e5 cosine, borrowing from the sentence before when that is higher
    lexical: float = 0.0         # weighted share of the question's words it holds
    typed: bool = False          # holds the kind of fact asked for
    borrowed: bool = False       # its similarity is the sentence before's and its own, together
    score: float = 0.0

    @property
    def context(self) -> str:
        """The text of the passages it stands in."""
        return " ".join(place.chunk.text for place in self.places)

    @property
    def shown(self) -> str:
        """The sentence as an answer shows it: with the sentence before when its relevance came from the two
        together („Mit 39 Jahren ist er …“ says who only with the sentence before it)."""
        return f"{self.previous_text} {self.text}" if self.borrowed and self.previous_text else self.text


def asked_kinds(question: str) -> list[str]:
    """Patterns of what an answer to ``question`` must hold: a number for "wie viele", a time for "um wie viel Uhr"."""
    return [answer for asked, answer in ANSWER_KINDS if re.search(asked, question.lower())]


def holds(text: str, kinds: list[str]) -> bool:
    """Whether ``text`` holds every kind of fact in ``kinds`` (``asked_kinds``)."""
    return all(re.search(k, text) for k in kinds)


def sentence_key(text: str) -> str:
    """The same sentence in two articles (agency copy) gets the same key, whatever its spacing."""
    return " ".join(re.findall(r"\w+", text.lower()))


class SentenceRanker:
    """``rank(question, query_vector, passages)`` -> the passages' sentences, best first.

    The stored sentence vectors are pooled from their chunk's token states (``qa.embedding``): in context,
    so sentences of one chunk resemble each other more than sentences embedded alone do. With ``embed``
    (texts -> vectors, each sentence alone), the best ``refine`` candidates and the sentences before them
    are embedded alone at question time and scored again, so the sentence the answer rests on and the
    decision to answer are judged as the calibration was fitted (about 10 ms a sentence on 2 cores;
    sentences already seen are kept).
    """

    def __init__(self, store: ChunkStore, calibration: Calibration, embed=None, refine: int = 4) -> None:
        self.store, self.calibration = store, calibration
        self.embed, self.refine = embed, refine
        self._alone: dict[str, np.ndarray] = {}
        self._alone_lock = threading.Lock()
        self._stemmer = german_stemmer()
        self._stem_lock = threading.Lock()  # a PyStemmer object is not safe to share between threads
        self.checker = FactChecker(self.stem)

    def stem(self, words: list[str]) -> list[str]:
        with self._stem_lock:
            return self._stemmer.stemWords(words)

    def terms(self, text: str) -> set[str]:
        """The stemmed content words of ``text``."""
        return set(self.stem([w for w in re.findall(TOKEN_PATTERN, text.lower()) if w not in STOPWORDS]))

    def nouns(self, question: str) -> set[str]:
        """The stems of the question's nouns, the words that may end a compound of the text."""
        with self._stem_lock:
            return noun_stems(question, self._stemmer)

    @staticmethod
    def with_compounds(terms: set[str], nouns: set[str]) -> set[str]:
        """``terms``, holding each of the question's ``nouns`` that ends one of them as a compound (the
        question's „Berater“ in „Außenberater“), by BM25's rule (``qa.lexical``)."""
        found = {noun for noun in nouns - terms if len(noun) >= HEAD_CHARS and noun.isalpha()
                 and any(len(t) - len(noun) >= MODIFIER_CHARS and t.endswith(noun) for t in terms)}
        return terms | found

    @staticmethod
    def with_inflections(terms: set[str], wanted: set[str]) -> set[str]:
        """``terms``, holding each ``wanted`` stem that one of them differs from by a verb ending the Snowball
        stemmer leaves on („kostet“ and „kosten“ → „kostet“, „kost“; „erklärt“ and „erklären“ → „erklart“,
        „erklar“)."""
        found = {w for w in wanted - terms if len(w) >= INFLECTED_CHARS and any(
            (t.startswith(w) and t[len(w):] in VERB_ENDINGS) or (w.startswith(t) and len(t) >= INFLECTED_CHARS
                                                                  and w[len(t):] in VERB_ENDINGS) for t in terms)}
        return terms | found

    def rank(self, question: str, query_vector: np.ndarray, passages: list[Passage],
             sentences: dict | None = None) -> list[Candidate]:
        """Every sentence of the passages, scored for ``question``, best first.

        ``sentences``: the passages' chunks' stored sentences (``ChunkStore.chunk_sentences``), when the
        caller has fetched them already.
        """
        if sentences is None:
            sentences = self.store.chunk_sentences(c for p in passages for c in p.chunks)
        groups: dict[str, Candidate] = {}
        for rank, passage in enumerate(passages):
            for chunk in passage.chunks:
                previous = previous_text = None
                for sentence in sentences.get(chunk.article_id, []):
                    if not (chunk.start <= sentence.start and sentence.end <= chunk.end):
                        continue
                    cand = groups.setdefault(sentence_key(sentence.text), Candidate(
                        sentence.text, sentence.vector, rank, [], previous, previous_text))
                    cand.places.append(Place(rank, chunk))
                    previous, previous_text = sentence.vector, sentence.text
        wanted = self.terms(question)
        kinds = asked_kinds(question)
        nouns = self.nouns(question) & wanted
        terms = {key: self.with_inflections(self.with_compounds(self.terms(cand.text), nouns), wanted)
                 for key, cand in groups.items()}
        # Weigh the question's words by how rare they are among the candidates: "zusammengezogen" tells
        # more than "Russland", which every candidate mentions.
        weight = {t: math.log(1 + len(groups) / (1 + sum(t in ts for ts in terms.values()))) for t in wanted}
        total = sum(weight.values())
        for key, cand in groups.items():
            cand.lexical = sum(weight[t] for t in wanted & terms[key]) / total if total else 0.0
            cand.typed = holds(cand.text, kinds) if kinds else False
            self._score(cand, query_vector)
        ranked = sorted(groups.values(), key=lambda c: -c.score)
        if self.embed is None or not ranked:
            return self.kind_first(ranked, kinds)
        best = ranked[:self.refine]
        alone = self._embedded_alone([c.text for c in best] + [c.previous_text for c in best if c.previous_text])
        for cand in best:
            cand.vector = alone[cand.text]
            cand.previous = alone[cand.previous_text] if cand.previous_text else None
            self._score(cand, query_vector)
        return self.kind_first(sorted(best, key=lambda c: -c.score) + ranked[self.refine:], kinds)

    def kind_first(self, ranked: list[Candidate], kinds: list[str]) -> list[Candidate]:
        """``ranked``, with the best sentence that holds what the question asks for (a reason for „warum“,
        money for „was kostet“, an age for „wie alt“; not a name or a place, ``HINT_KINDS``) first, when the
        best one does not and it scores within ``Calibration.llm_margin`` of it: the margin within which
        sentences are plausible answers (the ones the model is shown). „Die Bäckerei schließt zum Jahresende“
        shares more of „Warum schließt die Bäckerei Süß?“ than „Die Bäckerei schließt, weil sich kein
        Nachfolger gefunden hat“, and cannot answer it."""
        precise = [k for k in kinds if k not in HINT_KINDS]
        if not precise or not ranked or holds(ranked[0].text, precise):
            return ranked
        near = ranked[0].score - self.calibration.llm_margin
        typed = next((c for c in ranked if c.score >= near and holds(c.text, precise)), None)
        return ranked if typed is None else [typed, *(c for c in ranked if c is not typed)]

    def _score(self, cand: Candidate, query_vector: np.ndarray) -> None:
        cal = self.calibration
        own = float(query_vector @ cand.vector)
        # A sentence may borrow relevance from the one before it ("Moskau hat dort 70.000 Soldaten
        # zusammengezogen" after a sentence about the border), never lose its own.
        context = own if cand.previous is None else (own + float(query_vector @ cand.previous)) / 2
        cand.similarity = max(own, context)
        cand.borrowed = context > own
        cand.score = (cand.similarity + cal.w_lexical * cand.lexical + cal.w_type * cand.typed
                      + cal.w_rank / (cand.rank + 1))

    def _embedded_alone(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Each text's own vector; computed once per text (the last 20,000 are kept)."""
        with self._alone_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._alone))
        if missing:
            vectors = self.embed(missing)
            with self._alone_lock:
                self._alone.update(zip(missing, vectors))
                while len(self._alone) > 20_000:
                    self._alone.pop(next(iter(self._alone)))
        with self._alone_lock:
            return {t: self._alone[t] for t in texts}
