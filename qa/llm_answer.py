"""The LLM answerer: the model writes the answer in its own words, then the verifier checks it.

The model sees only what matters, to keep a 2-core CPU fast: the few best passages, each trimmed to its
sentences that score close to the best one (the extractive answerer's scores). The rules and the worked
example come first and never change, so llama.cpp keeps them evaluated between questions. Text streams
as it is generated; the last item is the verified ``Answer``, or the extractive answer when the
generated one does not hold up against its citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from qa.answer import Answer, Citation
from qa.extractive import ExtractiveAnswerer, asked_kinds, sentence_key
from qa.llm import LLM, Message
from qa.prompts import load_prompt, render
from qa.retrieval import Passage
from qa.verify import Source, Verdict, Verifier

# A passage, and a sentence within it, is sent when it scores within these margins of the best sentence.
PASSAGE_MARGIN, SENTENCE_MARGIN = 0.06, 0.04
MAX_SENTENCES = 3       # per passage
MAX_CHARS = 700         # all passages together: about 200 tokens, 2 s of prompt on 2 cores


@dataclass(frozen=True)
class Excerpt:
    """A passage as the model sees it: its relevant sentences, in article order."""

    passage: Passage
    text: str
    sentences: tuple[tuple[str, np.ndarray], ...]
    quote: str    # its best sentence
    parts: tuple[int, ...] = (0,)   # the parts of the question it was chosen for (``Pipeline.parts``)


def fixed_prefix() -> list[Message]:
    """The rules and the worked example: the same for every question."""
    system = render("answer_system", abstain_de=load_prompt("abstain_de"), abstain_en=load_prompt("abstain_en"))
    return [Message("system", system), Message("user", load_prompt("answer_example_user")),
            Message("assistant", load_prompt("answer_example_assistant"))]


def answer_messages(question: str, excerpts: list[Excerpt], language: str) -> list[Message]:
    passages = "\n".join(f"[{i}] {e.text}" for i, e in enumerate(excerpts, 1))
    user = render("answer_user", passages=passages, question=question,
                  language_rule=load_prompt(f"language_rule_{language}"))
    return [*fixed_prefix(), Message("user", user)]


class LLMAnswerer:
    """``stream(question, query_vector, passages, language)`` yields text, then the final ``Answer``."""

    def __init__(self, llm: LLM, extractive: ExtractiveAnswerer, verifier: Verifier, *, max_passages: int = 3,
                 max_tokens: int = 160) -> None:
        self.llm, self.extractive, self.verifier = llm, extractive, verifier
        self.max_passages, self.max_tokens = max_passages, max_tokens

    def stream(self, question: str, query_vector: np.ndarray, passages: list[Passage],
               language: str) -> Iterator[str | Answer]:
        yield from self.stream_parts(question, [(question, query_vector, passages)], language)

    def stream_parts(self, question: str, parts: list[tuple[str, np.ndarray, list[Passage]]],
                     language: str) -> Iterator[str | Answer]:
        """Like ``stream``, for a question that asks several things (``Pipeline.parts``): the model is
        given the passages of each part and writes one answer to the whole question."""
        store = self.extractive.store
        sentences = store.sentence_vectors(c.article_id for _, _, ps in parts for p in ps for c in p.chunks)
        ranked = [self.extractive.rank_sentences(q, v, ps, sentences) for q, v, ps in parts]
        answers = [self.extractive.answer(q, v, ps, language, r) for (q, v, ps), r in zip(parts, ranked)]
        fallback = self.extractive.combine(question, answers, language)
        if fallback.abstained:
            # Nothing scores close to the question: the model would only be asked to say so, slowly.
            yield fallback
            return
        answered = [(ps, r) for (_, _, ps), r, a in zip(parts, ranked, answers) if not a.abstained]
        excerpts = self.excerpts(answered, sentences)
        pieces = []
        for delta in self.llm.stream(answer_messages(question, excerpts, language), max_tokens=self.max_tokens):
            pieces.append(delta)
            yield delta
        generated = "".join(pieces).strip()
        sources = [Source(i, e.text, e.sentences) for i, e in enumerate(excerpts, 1)]
        verdict = self.verifier.verify(generated, sources, question)
        yield self.final(question, language, generated, verdict, excerpts, fallback)

    def excerpts(self, retrieved: list[tuple[list[Passage], list]], sentences: dict) -> list[Excerpt]:
        """The best passages of each part, each cut down to the sentences that score near the part's best.

        ``retrieved``: each part's passages and its ranked sentences. The parts share the passage and
        character budget; a passage two parts need is sent once, with the sentences of both.
        """
        share = len(retrieved)
        limit, budget = -(-self.max_passages // share), MAX_CHARS // share
        chosen: dict[tuple[str, int], tuple[Passage, dict, set]] = {}  # passage -> sentences by start, parts
        for part, (passages, ranked) in enumerate(retrieved):
            scores = {sentence_key(c.text): c.score for c in ranked}
            best = ranked[0].score
            left, taken = budget, 0
            for passage in passages:
                chunk = passage.chunk
                inside = [(start, end, text, vector, scores.get(sentence_key(text), 0.0))
                          for start, end, text, vector in sentences.get(chunk.article_id, [])
                          if chunk.start <= start and end <= chunk.end]
                if not inside:
                    continue
                top = max(inside, key=lambda row: row[4])
                if top[4] < best - PASSAGE_MARGIN:
                    continue
                kept = sorted(inside, key=lambda row: -row[4])[:MAX_SENTENCES]
                kept = [row for row in kept if row[4] >= best - SENTENCE_MARGIN or row is top]
                size = len(_join(sorted(kept, key=lambda row: row[0])))
                if size > left and taken:
                    break
                left -= size
                taken += 1
                key = (chunk.article_id, chunk.start)
                _, rows, for_parts = chosen.setdefault(key, (passage, {}, set()))
                for_parts.add(part)
                for row in kept:
                    rows.setdefault(row[0], (*row[:4], top[2] if row is top else None))
                if taken == limit:
                    break
        out = []
        for passage, rows, for_parts in chosen.values():
            ordered = [rows[start] for start in sorted(rows)]
            quote = next(row[4] for row in rows.values() if row[4] is not None)
            out.append(Excerpt(passage, _join(ordered), tuple((row[2], row[3]) for row in ordered), quote,
                               tuple(sorted(for_parts))))
        return out

    def final(self, question: str, language: str, generated: str, verdict: Verdict, excerpts: list[Excerpt],
              fallback: Answer) -> Answer:
        """The answer to show: the generated one if it holds up, else the extractive ``fallback``."""
        if verdict.abstained:
            return Answer(load_prompt(f"abstain_{language}"), [], abstained=True, answerer="llm", question=question,
                          generated=generated)
        problems = verdict.problems() if not verdict.ok else []
        if not problems and (missing := _missing_kinds(question, verdict.text, fallback.text, language)):
            problems = [f"it does not say what was asked (no {', '.join(missing)})"]
        if not problems and not self.extractive.terms(verdict.text) - self.extractive.terms(question):
            problems = ["it only repeats the question"]
        # Each part of a question that asks several things must be answered from its own passages:
        # "70.000 [1]" alone is true, cited and half an answer.
        asked = {part for e in excerpts for part in e.parts}
        if not problems and asked - {part for n in verdict.cited for part in excerpts[n - 1].parts}:
            problems = ["it answers only part of the question"]
        if problems or not verdict.ok:
            reason = "; ".join(problems) or "the model wrote nothing"
            return Answer(fallback.text, fallback.citations, abstained=fallback.abstained, answerer="extractive",
                          question=question, generated=generated, fallback_reason=reason)
        order = {old: new for new, old in enumerate(verdict.cited, 1)}
        # The sentence to mark in each passage: the one the answer rests on, not the passage's best for the
        # question (a passage sent for two parts of a question holds the best sentence of each).
        quotes: dict[int, str] = {}
        for statement in verdict.statements:
            for number, sentence in statement.quotes:
                quotes.setdefault(number, sentence)
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{order[int(m.group(1))]}]", verdict.text)
        citations = []
        for old, new in order.items():
            e = excerpts[old - 1]
            chunk = e.passage.chunk
            citations.append(Citation(number=new, text=e.text, article=chunk.article_id, title=chunk.title,
                                      date=chunk.date, score=round(e.passage.score, 4),
                                      quote=quotes.get(old, e.quote),
                                      start=chunk.start, end=chunk.end))
        return Answer(text, citations, abstained=False, answerer="llm", question=question, generated=generated)


_KIND_NAMES = {r"\d": "number"}


def _missing_kinds(question: str, generated: str, extractive: str, language: str) -> list[str]:
    """Kinds of fact the question asks for that the extractive answer holds and the generated one lacks.

    "Wie viele Soldaten …?" answered with "Die Ukraine soll Soldaten verlegt haben [1]." is true and cited,
    but no answer. An English answer is held only to numbers and times: its dates and places are English.
    """
    generated = re.sub(r"\[\d+\]", "", generated)
    kinds = [k for k in asked_kinds(question) if language == "de" or k.removeprefix(r"\b").startswith(r"\d")]
    return [_KIND_NAMES.get(kind, "time, date, name, place or duration") for kind in kinds
            if re.search(kind, extractive) and not re.search(kind, generated)]


def _join(rows) -> str:
    """Sentences in article order; a gap between them shows as „…“."""
    parts, previous_end = [], None
    for start, end, text, *_ in rows:
        if previous_end is not None and start > previous_end + 1:
            parts.append("…")
        parts.append(text)
        previous_end = end
    return " ".join(parts)
