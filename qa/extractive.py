"""The extractive answerer: the sentence of the retrieved passages that answers the question, cited.

Instant and faithful by construction: the answer is a sentence of an article, and the citation is the
passage it stands in. Each candidate sentence is scored by its own e5 vector (stored at ingest) against
the question, plus the share of the question's content words it contains and whether it holds the kind
of fact asked for (a number, a time, a date, a name). When no sentence scores high enough, it abstains.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, replace

import numpy as np

from qa.answer import Answer, Citation
from qa.prompts import load_prompt, render
from qa.retrieval import TOKEN_PATTERN, Passage, german_stemmer
from qa.store import ChunkStore

# Weights and threshold calibrated on the first 33 pairs of eval/questions.jsonl; `qa eval` measures a change.
W_LEXICAL, W_TYPE, W_RANK = 0.15, 0.03, 0.02
# English questions share no words with German text, so their best scores run lower.
ABSTAIN_BELOW = {"de": 0.88, "en": 0.85}

STOPWORDS = set("""
    a about according am an and are as at be between by did do does for from has have how in is it many much
    of on or the to was were what when where which who whom why with year time
    aber als am an auch auf aus bei bis da das dass dem den der des die dies diese dieser doch ein eine einem
    einen einer eines er es für gegen hat hatte haben im in ins ist kann laut mit nach nicht noch nur ob oder
    sein seine sich sie sind so soll um und uns von vor war waren was welche welcher welches welchem welchen
    wem wen wer wie viel viele wird wo zu zum zur wann warum heißt uhr gibt
""".split())
_MONTHS = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_DAYS = "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"
# (question pattern, what the answering sentence must contain)
_ANSWER_TYPES = [
    (r"\b(wie ?viele?|anzahl|how (many|much))\b", r"\d"),
    (r"\b(uhrzeit|wie spät|what time|um wie ?viel uhr)\b", r"\b\d{1,2}[:.]\d{2}\b"),
    (r"\b(wann|an welchem tag|in welchem jahr|seit wann|bis wann|when|which year|what year|what date)\b",
     rf"\b(\d{{1,2}}[:.]\d{{2}}|\d{{1,2}}\. ?({_MONTHS})|(19|20)\d\d|{_MONTHS}|{_DAYS}|heute|morgen|gestern)"),
    (r"\b(wer|wie heißt|mit wem|von wem|who|whom)\b", r"\b[A-ZÄÖÜ][a-zäöüß]+ [A-ZÄÖÜ][a-zäöüß]+\b"),
    (r"\b(wo|wohin|woher|where)\b", r"\b(in|nach|aus) [A-ZÄÖÜ]"),
    (r"\b(wie lange|welche[rmn]? frist|innerhalb welche[rmn]?|binnen welche[rmn]?|how long|within)\b",
     r"\b(Minuten?|Stunden?|Tagen?|Tage|Wochen?|Monat(e|en)?|Jahr(e|en)?)\b"),
]


@dataclass
class _Candidate:
    text: str
    vector: np.ndarray
    rank: int                    # of the best passage it stands in
    places: list                 # (passage rank, chunk) for every passage chunk that holds this sentence
    previous: np.ndarray | None  # the sentence before it: "dort", "er", "das" point back to it
    score: float = 0.0


def asked_kinds(question: str) -> list[str]:
    """Patterns of what an answer to ``question`` must hold: a number for "wie viele", a time for "um wie viel Uhr"."""
    return [answer for asked, answer in _ANSWER_TYPES if re.search(asked, question.lower())]


def sentence_key(text: str) -> str:
    """The same sentence in two articles (agency copy) gets the same key, whatever its spacing."""
    return " ".join(re.findall(r"\w+", text.lower()))


class ExtractiveAnswerer:
    """``answer(question, query_vector, passages, language)`` -> an ``Answer`` citing one sentence's passages."""

    def __init__(self, store: ChunkStore, *, abstain_below: dict[str, float] | None = None) -> None:
        self.store = store
        self.abstain_below = abstain_below or ABSTAIN_BELOW
        self._stemmer = german_stemmer()
        self._stem_lock = threading.Lock()  # a PyStemmer object is not safe to share between threads

    def stem(self, words: list[str]) -> list[str]:
        with self._stem_lock:
            return self._stemmer.stemWords(words)

    def terms(self, text: str) -> set[str]:
        return set(self.stem([w for w in re.findall(TOKEN_PATTERN, text.lower()) if w not in STOPWORDS]))

    def rank_sentences(self, question: str, query_vector: np.ndarray, passages: list[Passage],
                       sentences: dict | None = None) -> list[_Candidate]:
        """Every sentence of the passages, scored for ``question``, best first.

        ``sentences``: the passages' articles' stored sentences, when the caller has fetched them already.
        """
        if sentences is None:
            sentences = self.store.sentence_vectors(c.article_id for p in passages for c in p.chunks)
        groups: dict[str, _Candidate] = {}
        for rank, passage in enumerate(passages):
            for chunk in passage.chunks:
                previous = None
                for start, end, text, vector in sentences.get(chunk.article_id, []):
                    if not (chunk.start <= start and end <= chunk.end):
                        continue
                    key = sentence_key(text)
                    cand = groups.setdefault(key, _Candidate(text, vector, rank, [], previous))
                    cand.places.append((rank, chunk))
                    previous = vector
        wanted = self.terms(question)
        types = asked_kinds(question)
        terms = {key: self.terms(cand.text) for key, cand in groups.items()}
        # Weigh the question's words by how rare they are among the candidates: "zusammengezogen" tells
        # more than "Russland", which every candidate mentions.
        weight = {t: math.log(1 + len(groups) / (1 + sum(t in ts for ts in terms.values()))) for t in wanted}
        total = sum(weight.values())
        for key, cand in groups.items():
            lexical = sum(weight[t] for t in wanted & terms[key]) / total if total else 0.0
            typed = all(re.search(t, cand.text) for t in types) if types else False
            own = float(query_vector @ cand.vector)
            # A sentence may borrow relevance from the one before it ("Moskau hat dort 70.000 Soldaten
            # zusammengezogen" after a sentence about the border), never lose its own.
            context = own if cand.previous is None else (own + float(query_vector @ cand.previous)) / 2
            cand.score = (max(own, context) + W_LEXICAL * lexical + W_TYPE * typed + W_RANK / (cand.rank + 1))
        return sorted(groups.values(), key=lambda c: -c.score)

    def confident(self, ranked: list[_Candidate], language: str) -> bool:
        """Whether the best sentence scores high enough to answer rather than abstain."""
        return bool(ranked) and ranked[0].score >= self.abstain_below.get(language, self.abstain_below["de"])

    def answer(self, question: str, query_vector: np.ndarray, passages: list[Passage], language: str,
               ranked: list[_Candidate] | None = None) -> Answer:
        if ranked is None:
            ranked = self.rank_sentences(question, query_vector, passages)
        if not self.confident(ranked, language):
            return Answer(load_prompt(f"abstain_{language}"), [], abstained=True, answerer="extractive",
                          question=question)
        best = ranked[0]
        citations = []
        seen_articles = set()
        for rank, chunk in sorted(best.places, key=lambda place: place[0]):
            if chunk.article_id in seen_articles:
                continue  # one citation per article: overlapping chunks of one article say the same
            seen_articles.add(chunk.article_id)
            citations.append(Citation(number=len(citations) + 1, text=chunk.text, article=chunk.article_id,
                                      title=chunk.title, date=chunk.date, score=round(best.score, 4),
                                      quote=best.text, start=chunk.start, end=chunk.end))
        markers = "".join(f"[{c.number}]" for c in citations)
        lead = load_prompt(f"extractive_lead_{language}") + " " if language != "de" else ""
        text = f"{lead}„{best.text}“ {markers}" if lead else f"{best.text} {markers}"
        return Answer(text, citations, abstained=False, answerer="extractive", question=question)

    def combine(self, question: str, answers: list[Answer], language: str) -> Answer:
        """One answer to a question that asks several things, from the answers to its parts, in order.

        A passage cited by two parts keeps one number; a part the articles do not answer says so, and
        when none is answered the whole answer abstains.
        """
        if len(answers) == 1:
            return answers[0]
        if all(a.abstained for a in answers):
            return Answer(load_prompt(f"abstain_{language}"), [], abstained=True, answerer="extractive",
                          question=question)
        pieces: list[str] = []
        citations: list[Citation] = []
        quotes: set[str] = set()
        for part in answers:
            if part.abstained:
                pieces.append(render(f"abstain_part_{language}", question=part.question))
                continue
            quote = part.citations[0].quote
            if sentence_key(quote) in quotes:
                continue  # both parts are answered by one sentence
            quotes.add(sentence_key(quote))
            numbers = []
            for c in part.citations:
                same = next((d for d in citations if (d.article, d.start) == (c.article, c.start)), None)
                if same is None:
                    same = replace(c, number=len(citations) + 1)
                    citations.append(same)
                numbers.append(same.number)
            markers = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
            pieces.append(f"„{quote}“ {markers}" if language != "de" else f"{quote} {markers}")
        lead = load_prompt(f"extractive_lead_{language}") + " " if language != "de" else ""
        return Answer(lead + " ".join(pieces), citations, abstained=False, answerer="extractive",
                      question=question)
