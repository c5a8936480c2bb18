"""The LLM answerer: the model copies, the code finds and quotes.

The model is shown the best few sentences of the retrieved passages, numbered, and writes one line: the
shortest stretch of a sentence that answers the question, copied word for word ("rund 4,5 Millionen
Euro"), or "0" when none does. The code then finds the copied words in the sentences shown, best-scored
first (``FactChecker.span_in``: German inflection and number formats allowed), shows that sentence's own
words, and marks the sentence in its cited passage: no name, number or date can reach the user that the
passage does not hold. A 1.5B model on 2 cores cannot be trusted to write prose that stays true to a
German passage; it can copy an answer, and a copy can be checked exactly. A copy that cannot be used
(in no sentence shown, only the question's words) or a „0“ the evidence overrules leads to one more
question: the model is shown the fast answer's sentence alone and copies again.

Why copy, not name the sentence's number first: asked for "2: rund 4,5 Millionen Euro", the model
commits to a number before it has read for the answer, and its number was right less often than the
best-scored sentence (held-out XQuAD 0.58 against 0.70, ``eval/pick_study.py`` at a38d2dc); copying the
answer first, then letting the code find it, was right more often than either on the calibration part.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from qa.answer import ASKED_AGAIN, Answer
from qa.decision import Decision
from qa.extractive import ExtractiveAnswerer, citations_of, combine, declined
from qa.llm import LLM, Message
from qa.prompts import load_prompt, render
from qa.relevance import Candidate, QuestionPart, SentenceRanker
from qa.stream import Draft, Steps
from qa.verify import FactChecker
from qa.wordlists import GERMAN_WORDS

MAX_CANDIDATES = 5      # sentences shown to the model: about 150 tokens, 1.5 s of prompt on 2 cores
_NUMBERED = re.compile(r"^\s*\[?\d+\]?\s*:\s+(?=\S)")   # "2: …", the form of an earlier prompt
_QUOTES = "„“\"'»«"


@dataclass(frozen=True)
class Pick:
    """What the model wrote, parsed: the copied answer (empty: no sentence answers) and its English form."""

    span: str = ""
    english: str = ""

    @property
    def none(self) -> bool:
        return not self.span


def parse_pick(text: str) -> Pick | None:
    """``"rund 4,5 Millionen Euro | about 4.5 million euros"`` -> ``Pick(…, …)``; ``"0"`` -> ``Pick()``;
    None when nothing was written.

    >>> parse_pick("Bürgermeisterin Claudia Kalisch")
    Pick(span='Bürgermeisterin Claudia Kalisch', english='')
    >>> parse_pick("0").none
    True
    """
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    if line == "0":
        return Pick()
    span, _, english = _NUMBERED.sub("", line).partition(" | ")
    span = span.strip().strip(_QUOTES).strip()
    return Pick(span, english.strip().strip(_QUOTES).strip()) if span else None


def pick_messages(question: str, sentences: list[str]) -> list[Message]:
    numbered = "\n".join(f"[{i}] {' '.join(s.split())}" for i, s in enumerate(sentences, 1))
    return [*fixed_prefix(), Message("user", render("pick_user", sentences=numbered, question=question))]


def fixed_prefix() -> list[Message]:
    """The rules and the worked examples: the same for every question, so llama.cpp keeps them evaluated."""
    return [Message("system", load_prompt("pick_system")),
            Message("user", load_prompt("pick_example_user")),
            Message("assistant", load_prompt("pick_example_assistant")),
            Message("user", load_prompt("pick_example2_user")),
            Message("assistant", load_prompt("pick_example2_assistant"))]


class Verified(NamedTuple):
    """The answer resting on the model's copy, or why there is none."""

    answer: Answer | None = None
    why_not: str = ""


class LLMAnswerer:
    """``stream_parts(question, parts, language)``: steps that write the short answer as the model writes it,
    and return the ``Answer``."""

    def __init__(self, llm: LLM, ranker: SentenceRanker, extractive: ExtractiveAnswerer, checker: FactChecker,
                 decision: Decision, *, candidates: int = MAX_CANDIDATES, margin: float = math.inf,
                 max_tokens: int = 80) -> None:
        if margin < 0:
            raise ValueError(f"margin must be 0 or more, got {margin}")
        self.llm, self.ranker, self.extractive, self.checker = llm, ranker, extractive, checker
        self.decision, self.candidates, self.max_tokens = decision, candidates, max_tokens
        self.margin = margin

    def stream_parts(self, question: str, parts: list[QuestionPart], language: str) -> Steps:
        """Each part of the question (``Pipeline.parts``) answered in turn; returns one ``Answer`` for all.

        First comes a ``Draft``, the fast answer, unless every part is declined before the model runs.
        """
        sentences = self.ranker.store.chunk_sentences(c for part in parts for p in part.passages for c in p.chunks)
        ranked = [self.ranker.rank(part.question, part.vector, part.passages, sentences) for part in parts]
        fast = [self.extractive.answer(part, language, r) for part, r in zip(parts, ranked)]
        draft = combine(question, fast, language)
        if not draft.abstained:
            yield Draft(draft)
        # The parts that reach the model share one question's sentences: a question that asks two things
        # reads about as many prompt tokens as one that asks one (each call 3–4 s on 2 cores otherwise).
        share = per_part(self.candidates, sum(not f.abstained for f in fast))
        answers = []
        for i, (part, ranking, quick) in enumerate(zip(parts, ranked, fast)):
            if i:
                yield " "
            answers.append((yield from self._answer_part(part.question, ranking, language, quick, share)))
        return combine(question, answers, language)

    def _answer_part(self, question: str, ranked: list[Candidate], language: str, fast: Answer,
                     candidates: int) -> Steps:
        """The model's pick for one question from its best ``candidates`` sentences; ``fast`` is the extractive
        answer, the fallback."""
        confidence = fast.confidence
        if fast.abstained:
            # The retrieved text is far from the question: the model would only be asked to say so, slowly.
            return declined(question, language, "llm", confidence=confidence)
        shown = shown_to_model(ranked, candidates, self.margin)
        english = language == "en"
        pieces: list[str] = []
        streamed = 0
        messages = pick_messages(question, [c.text for c in shown])
        for delta in self.llm.stream(messages, max_tokens=self.max_tokens, stop=["\n"]):
            pieces.append(delta)
            # Stream only the answer: never a lone "0" (none answers), in English only the English form.
            text = "".join(pieces)
            visible = _visible(text, english)
            if len(visible) > streamed:
                yield visible[streamed:]
                streamed = len(visible)
        generated = "".join(pieces).strip()
        pick = parse_pick(generated)
        if pick is None:
            reason = "the model wrote no answer"
        elif pick.none:
            if not self.decision.model_found_none(confidence).answer:
                return declined(question, language, "llm", confidence=confidence, generated=generated)
            reason = "the model found no answer, but the retrieved sentence scores too high to decline"
        else:
            verified = self._verified(question, pick, shown, ranked, language, generated, confidence)
            if verified.answer is not None:
                return verified.answer
            reason = verified.why_not
        # Asked again with the fast answer's sentence alone; meanwhile the fast answer replaces the copy that
        # could not be used, which a reader may have seen streamed.
        yield Draft(fast)
        again = "".join(self.llm.stream(pick_messages(question, [ranked[0].text]), max_tokens=self.max_tokens,
                                        stop=["\n"])).strip()
        generated = f"{generated}\n{again}"
        answer = self._asked_again(question, ranked[0], language, again, generated, confidence)
        if answer is not None:
            return replace(answer, fallback_reason=f"{reason}; {ASKED_AGAIN}")
        return replace(fast, fallback_reason=f"{reason}; {ASKED_AGAIN}, no usable copy either", generated=generated,
                       confidence=confidence)

    def _verified(self, question: str, pick: Pick, shown: list[Candidate], ranked: list[Candidate], language: str,
                  generated: str, confidence: float) -> Verified:
        """The answer resting on the model's ``pick`` among the sentences ``shown``, or why it cannot be given."""
        # The copied words must stand in a sentence the model was shown; where several hold them, the
        # best-scored one is quoted.
        found = next(((c, span) for c in shown if (span := self.checker.span_in(pick.span, c.text))), None)
        if found is None:
            return Verified(why_not=f"the short answer „{pick.span}“ is in none of the sentences shown")
        chosen, span = found
        if self.checker.restates(question, span):
            # „Broncos“ to „Wen besiegten die Broncos im AFC-Championship-Spiel?“: the model copied the question.
            return Verified(why_not=f"the short answer „{span}“ repeats the question")
        if (chosen is not ranked[0] and self.checker.names_none_of(question, chosen.context)
                and not self.checker.names_none_of(question, ranked[0].context)):
            # „In welchem Jahr wurde der Minsker Friedensplan geschlossen?“ is not answered by a peace treaty
            # of 1763 in a passage that names nothing the question names, while the best sentence's does.
            return Verified(why_not="the sentence picked stands in passages that name nothing the question names")
        shown_short = span
        if language == "en":
            if pick.english and not self.checker.missing_facts(pick.english, chosen.text, question):
                shown_short = pick.english
            elif not language_neutral(span):
                # No checked English form: „Mehr als 13.000 Menschen“ would answer an English question in
                # German. The sentence is quoted under the English lead instead; ``short`` keeps the span.
                shown_short = ""
        return Verified(quote(question, chosen, language, shown_short, short=span, generated=generated,
                              confidence=confidence))

    def _asked_again(self, question: str, best: Candidate, language: str, again: str, generated: str,
                     confidence: float) -> Answer | None:
        """The answer resting on ``again``, what the model wrote when shown only ``best``, the sentence the fast
        answer quotes (checked as any other), or None.

        Among several sentences a 1.5B model loses its way: it copies the question („Kladen“ to „Was sind
        Kladen?“) or joins words of two sentences. One sentence leaves it one place to copy from, and little
        to read (about 60 prompt tokens; the rules are kept evaluated).
        """
        pick = parse_pick(again)
        if pick is None or pick.none:
            return None
        return self._verified(question, pick, [best], [best], language, generated, confidence).answer


def per_part(candidates: int, asked: int) -> int:
    """How many sentences each of ``asked`` parts of a question may show the model: ``candidates`` shared
    among them, at least two each (a part of a question is still a question) unless fewer are allowed."""
    return min(candidates, max(2, candidates // asked)) if asked > 1 else candidates


def shown_to_model(ranked: list[Candidate], candidates: int, margin: float) -> list[Candidate]:
    """The sentences the model picks from: the best ``candidates``, less those scoring more than ``margin``
    below the best one (each sentence is ~60 prompt tokens, close to a second on 2 cores)."""
    if not ranked:
        return []
    return [c for c in ranked[:candidates] if c.score >= ranked[0].score - margin]


def quote(question: str, chosen: Candidate, language: str, shown: str, *, short: str | None = None,
          generated: str = "", confidence: float = 0.0) -> Answer:
    """The answer resting on ``chosen``: ``shown`` (the short answer), then the sentence quoted, its passages
    cited. ``short`` defaults to ``shown``."""
    citations = citations_of(chosen)
    markers = "".join(f"[{c.number}]" for c in citations)
    sentence = " ".join(chosen.shown.split())
    if language == "en":
        body = render("answer_en", short=shown, quote=sentence) if shown else \
            f"{load_prompt('extractive_lead_en')} „{sentence}“"
    else:
        body = f"{shown} – „{sentence}“" if shown else sentence
    return Answer(f"{body} {markers}", citations, abstained=False, answerer="llm", question=question,
                  generated=generated, short=shown if short is None else short, confidence=confidence)


def language_neutral(span: str) -> bool:
    """A German span that reads the same in an English answer: names and numbers („Antony Blinken“,
    „2014“, „21:30“), not German words („am Dienstag“, „beklagenswert“). German nouns are capitalised too, so
    „Putins Initiative“ passes for a name: a known gap.

    >>> language_neutral("Antony Blinken"), language_neutral("mehr als 13.000 Menschen")
    (True, False)
    """
    words = re.findall(r"[^\W\d_][\w-]*", span)
    return all(w[0].isupper() and w.lower() not in GERMAN_WORDS for w in words) and not re.search(r"[äöüß]", span)


def _visible(text: str, english: bool) -> str:
    """The part of the model's line a reader may see while it is written: the answer, not a lone "0"
    (none answers) nor an earlier prompt's "2: "; for an English question only what follows " | "."""
    line = _NUMBERED.sub("", text.lstrip())
    if line.strip() in ("", "0"):
        return ""
    span, sep, rest = line.partition(" | ")
    if english:
        return rest if sep else ""
    return span.rstrip("|").rstrip()
