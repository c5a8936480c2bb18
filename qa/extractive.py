"""The extractive answerer: the sentence of the retrieved passages that answers the question, cited.

Instant and faithful by construction: the answer is a sentence of an article, and the citation is the
passage it stands in. ``SentenceRanker`` scores the sentences; ``Decision`` judges whether the best one
answers at all, or the answerer declines.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qa.answer import Answer, Citation, cite
from qa.decision import Decision, gather
from qa.prompts import load_prompt, render
from qa.relevance import Candidate, QuestionPart, SentenceRanker, sentence_key
from qa.wordlists import DATE, DATE_WORDS, NUMBER_WORDS, YEAR


def clear_short(facts: dict[str, list[str]], language: str) -> str:
    """The short answer where a sentence leaves no doubt: the one number or date of the kind asked that it holds
    beyond the question's own (``facts``, as ``new_facts`` gives them: „70.000“ for „Wie viele Soldaten …?“ over
    „Moskau hat 70.000 Soldaten zusammengezogen“, the year beside it aside where a count is asked); empty
    where it holds several, or the match is a word such as „Alter“ or „Euro“. For an English question only
    digits, which read the same in English."""
    found = set()
    for kind, held in facts.items():
        counts = [f for f in held if kind == DATE or not re.fullmatch(YEAR, f)]
        found.update(counts or held)
    if len(found) != 1:
        return ""
    (short,) = found
    if language == "en":
        return short if re.fullmatch(r"[\d.,:]+", short) else ""
    return short if re.search(rf"\d|^{NUMBER_WORDS}|^{DATE_WORDS}", short, re.I) else ""


def declined(question: str, language: str, answerer: str = "extractive", *, confidence: float = 0.0,
             generated: str = "", name: str = "") -> Answer:
    """The answer that says the articles do not answer ``question`` (``name``: the one thing it asks about
    that no article mentions, which the answer names)."""
    text = render(f"abstain_name_{language}", thing=name) if name else load_prompt(f"abstain_{language}")
    return Answer(text, [], abstained=True, answerer=answerer, question=question, generated=generated,
                  confidence=confidence)


def citations_of(sentence: Candidate) -> list[Citation]:
    """The citations of the passages ``sentence`` stands in, best-ranked first, one per article (overlapping
    chunks of one article say the same)."""
    citations: list[Citation] = []
    seen = set()
    for place in sorted(sentence.places, key=lambda place: place.rank):
        if place.chunk.article_id in seen:
            continue
        seen.add(place.chunk.article_id)
        citations.append(cite(place.chunk, len(citations) + 1, sentence.score, sentence.text))
    return citations


class ExtractiveAnswerer:
    """``answer(part, language)`` -> an ``Answer`` citing the passages of the one sentence that answers it."""

    def __init__(self, ranker: SentenceRanker, decision: Decision) -> None:
        self.ranker, self.decision = ranker, decision

    def answer(self, part: QuestionPart, language: str, ranked: list[Candidate] | None = None) -> Answer:
        question = part.question
        if ranked is None:
            ranked = self.ranker.rank(question, part.vector, part.passages)
        verdict = self.decision.verdict(question, ranked, gather(question, ranked, language, self.ranker))
        if not verdict.answer:
            return declined(question, language, confidence=verdict.confidence)
        best = ranked[0]
        citations = citations_of(best)
        markers = "".join(f"[{c.number}]" for c in citations)
        lead = load_prompt(f"extractive_lead_{language}") + " " if language != "de" else ""
        shown = " ".join(best.shown.split())
        text = f"{lead}„{shown}“ {markers}" if lead else f"{shown} {markers}"
        return Answer(text, citations, abstained=False, answerer="extractive", question=question,
                      confidence=verdict.confidence, short=clear_short(verdict.facts, language))


def combine(question: str, answers: list[Answer], language: str) -> Answer:
    """One answer to a question that asks several things, from the answers to its parts, in order.

    A passage cited by two parts keeps one number; a part the articles do not answer says so, and when
    none is answered the whole answer abstains. Works for the answers of both answerers.
    """
    if len(answers) == 1:
        return answers[0]
    answerer = "llm" if any(a.answerer == "llm" for a in answers) else "extractive"
    if all(a.abstained for a in answers):
        return declined(question, language, answerer, confidence=min(a.confidence for a in answers))
    lead = load_prompt(f"extractive_lead_{language}") if language != "de" else ""
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
        renumber = {}
        for c in part.citations:
            same = next((d for d in citations if (d.article, d.start) == (c.article, c.start)), None)
            if same is None:
                same = replace(c, number=len(citations) + 1)
                citations.append(same)
            renumber[c.number] = same.number
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{renumber[int(m.group(1))]}]", part.text)
        text = re.sub(r"(\[\d+\])(?:\1)+", r"\1", text)  # two chunks of one passage: one marker
        pieces.append(text.removeprefix(lead).strip() if lead else text)
    return Answer((lead + " " if lead and answerer == "extractive" else "") + " ".join(pieces), citations,
                  abstained=False, answerer=answerer, question=question,
                  generated=" / ".join(a.generated for a in answers if a.generated),
                  fallback_reason="; ".join(a.fallback_reason for a in answers if a.fallback_reason),
                  short="; ".join(a.short for a in answers if a.short),
                  confidence=min(a.confidence for a in answers if not a.abstained))
