"""Checking a generated answer against the passages it cites, before anyone sees it.

A small model misnumbers passages, cites nothing, or writes a number the passage does not hold. Here the
answer is split into statements; each ``[n]`` must name a passage that was given (markers that name none
are dropped, a statement left without one is given the passage that supports it best, if any does); every
number, date and name in a statement must stand in the text it cites; and the statement as a whole must
be close to one of the cited sentences (shared words, or e5 similarity when the answer is in English).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from qa.chunking import sentence_spans
from qa.retrieval import TOKEN_PATTERN

# Calibrated on the first 33 pairs of eval/questions.jsonl; `qa eval` shows what a change does to them.
MIN_SIMILARITY = 0.82   # e5 cosine of a statement ("query: ") to its closest cited sentence ("passage: ")
MIN_OVERLAP = 0.6       # share of a statement's content words (stemmed) found in the cited text

_MARKER = re.compile(r"\[\s*(?:Passage|Quelle|Source)?\s*(\d+(?:\s*(?:[,;]|und|and|-|–)\s*\d+)*)\s*\]", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\s?\d{3}(?!\d)|[.,:]\d+)*")  # "120.000", "21:30", and "120, 000" as one
_MONTHS_DE = ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
              "november", "dezember"]
_MONTHS_EN = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december"]
# English names of things the German articles name in German: a check of "Moscow" looks for "Moskau".
_EXONYMS = {
    "germany": "deutsch", "german": "deutsch", "greece": "griech", "greek": "griech", "turkey": "türk",
    "turkish": "türk", "moscow": "moskau", "kyiv": "kiew", "kiev": "kiew", "brussels": "brüssel",
    "geneva": "genf", "vienna": "wien", "munich": "münchen", "cologne": "köln", "austria": "österreich",
    "switzerland": "schweiz", "swiss": "schweiz", "france": "frankreich", "french": "franz",
    "britain": "brit", "british": "brit", "england": "england", "uk": "großbritannien", "spain": "spanien",
    "crimea": "krim", "kremlin": "kreml", "white": "weiß", "house": "haus", "cet": "mez", "us": "us",
    "usa": "usa", "america": "amerika", "american": "amerika", "united": "vereinigt", "states": "staat",
    "europe": "europ", "european": "europ", "eu": "eu", "nato": "nato", "russia": "russ", "russian": "russ",
    "ukraine": "ukrain", "ukrainian": "ukrain", "peskov": "peskow", "ushakov": "uschakow",
    "monday": "montag", "tuesday": "dienstag", "wednesday": "mittwoch", "thursday": "donnerstag",
    "friday": "freitag", "saturday": "samstag", "sunday": "sonntag", **dict(zip(_MONTHS_EN, _MONTHS_DE)),
}
# Capitalised words that are not names: sentence starts, pronouns, English function words.
_NOT_NAMES = set("""
    der die das den dem des ein eine einen einem einer laut am im in an auf bei nach vor mit von zu zum zur
    er sie es wir ihr ich und oder aber dazu dort damit dafür daher demnach zudem außerdem so nein ja
    the a an and or but in on at by to of for from with according he she it they we i this that these those
    there yes no mr mrs
    um mehr als rund etwa knapp über seit bis ab kurz binnen innerhalb für insgesamt wie was wer wann wo nur
    noch bereits zunächst dann jedoch allerdings dies diese dieser ihm ihn sein seine ihre schon beide
    more about around nearly almost over since until within only also both its his her their on
""".split())
_ABSTAIN_PHRASES = ("dazu steht nichts in den artikeln", "the articles do not say", "steht nichts in den",
                    "enthalten keine information", "keine angaben", "nicht erwähnt", "do not mention",
                    "does not mention", "no information", "not mentioned", "do not contain")


@dataclass(frozen=True)
class Source:
    """A passage the model was given, as the verifier sees it."""

    number: int
    text: str
    sentences: tuple[tuple[str, np.ndarray], ...]   # each sentence of ``text`` with its e5 passage vector


@dataclass(frozen=True)
class Statement:
    text: str                 # without its markers
    cited: tuple[int, ...]    # valid passage numbers, after repair
    problems: tuple[str, ...] = ()
    similarity: float = 0.0   # closest cited sentence
    abstains: bool = False
    quotes: tuple[tuple[int, str], ...] = ()   # each cited passage's sentence closest to the statement

    @property
    def supported(self) -> bool:
        return self.abstains or (bool(self.cited) and not self.problems)


@dataclass(frozen=True)
class Verdict:
    text: str                        # the answer with markers rewritten as [1][2] in one place
    statements: tuple[Statement, ...]
    dropped_markers: tuple[int, ...]  # numbers the model cited that name no passage
    abstained: bool

    @property
    def ok(self) -> bool:
        return self.abstained or (bool(self.statements) and all(s.supported for s in self.statements))

    @property
    def cited(self) -> list[int]:
        """Passage numbers in order of first citation."""
        seen: list[int] = []
        for s in self.statements:
            seen += [n for n in s.cited if n not in seen]
        return seen

    def problems(self) -> list[str]:
        out = [f"[{n}] names no passage" for n in self.dropped_markers]
        for s in self.statements:
            if not s.cited and not s.abstains:
                out.append(f"„{s.text}“ cites no passage that supports it")
            out += [f"„{s.text}“: {p}" for p in s.problems]
        return out


def parse_markers(text: str) -> list[tuple[str, list[int]]]:
    """The statements of ``text`` with the passage numbers each cites: ``[1, 2]``, ``[1][2]``, ``[Quelle 3]``.

    >>> parse_markers("Um 21:30 Uhr [1]. Am 30. Dezember [2][3].")
    [('Um 21:30 Uhr.', [1]), ('Am 30. Dezember.', [2, 3])]
    """
    text = " ".join(text.split())
    # Markers after the full stop belong to the sentence before it: "… Uhr. [1] Am …"
    text = re.sub(r"([.!?])((?:\s*" + _MARKER.pattern + r")+)", r"\2\1", text)
    out = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        numbers: list[int] = []
        for match in _MARKER.finditer(sentence):
            numbers += [n for n in _expand(match.group(1)) if n not in numbers]
        bare = " ".join(_MARKER.sub(" ", sentence).split())
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if re.search(r"\w", bare):
            out.append((bare, numbers))
        elif out:  # a sentence that is only markers: they belong to the one before it
            out[-1][1].extend(n for n in numbers if n not in out[-1][1])
    return out


def _expand(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:[,;]|und|and)\s*", group):
        if m := re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part):
            low, high = int(m.group(1)), int(m.group(2))
            numbers += list(range(low, high + 1)) if 0 < high - low < 10 else [low, high]
        elif part.strip().isdigit():
            numbers.append(int(part))
    return numbers


def is_abstention(text: str) -> bool:
    flat = " ".join(re.findall(r"\w+", text.lower()))
    return any(phrase in flat for phrase in _ABSTAIN_PHRASES)


class Verifier:
    """``verify(answer, sources, question)`` -> a ``Verdict``; ``embed`` gives a statement's e5 query vector."""

    def __init__(self, embed: Callable[[str], np.ndarray], stem: Callable[[list[str]], list[str]], *,
                 min_similarity: float = MIN_SIMILARITY, min_overlap: float = MIN_OVERLAP) -> None:
        self.embed, self.stem = embed, stem
        self.min_similarity, self.min_overlap = min_similarity, min_overlap

    def verify(self, answer: str, sources: Sequence[Source], question: str = "") -> Verdict:
        by_number = {s.number: s for s in sources}
        statements, dropped = [], []
        for text, numbers in parse_markers(answer):
            dropped += [n for n in numbers if n not in by_number and n not in dropped]
            cited = tuple(n for n in numbers if n in by_number)
            statements.append(self._check(text, cited, by_number, question))
        abstained = bool(statements) and all(s.abstains for s in statements)
        return Verdict(_render(statements), tuple(statements), tuple(dropped), abstained)

    def _check(self, text: str, cited: tuple[int, ...], sources: dict[int, Source], question: str) -> Statement:
        if is_abstention(text):
            return Statement(text, (), abstains=True)
        vector = self.embed(text)
        if not cited:
            # Repair: the passage that supports this statement best, if one supports it at all.
            trials = [self._judge(text, vector, (n,), sources, question) for n in sources]
            passing = [t for t in trials if not t.problems]
            return max(passing, key=lambda t: t.similarity) if passing else Statement(text, ())
        judged = self._judge(text, vector, cited, sources, question)
        if judged.problems:
            # "[2]" where the fact stands in [1]: keep the statement, cite what supports it.
            for n in sources:
                if n not in cited and not (alt := self._judge(text, vector, (n,), sources, question)).problems:
                    return alt
        return judged

    def _judge(self, text: str, vector: np.ndarray, cited: tuple[int, ...], sources: dict[int, Source],
               question: str) -> Statement:
        cited_text = " ".join(sources[n].text for n in cited)
        problems = self.missing_facts(text, cited_text, question)
        closest = {n: max(sources[n].sentences, key=lambda s: float(vector @ s[1])) for n in cited
                   if sources[n].sentences}
        similarity = max((float(vector @ v) for _, v in closest.values()), default=0.0)
        overlap = self.overlap(text, cited_text, question)
        if similarity < self.min_similarity and overlap < self.min_overlap:
            problems.append(f"too far from the cited text (similarity {similarity:.2f}, shared words "
                            f"{overlap:.0%})")
        return Statement(text, cited, tuple(problems), round(similarity, 4),
                         quotes=tuple((n, sentence) for n, (sentence, _) in closest.items()))

    def missing_facts(self, statement: str, cited_text: str, question: str = "") -> list[str]:
        """The numbers, dates and names of ``statement`` that ``cited_text`` does not hold."""
        problems = []
        have_numbers = {_digits(n) for n in _NUMBER.findall(cited_text)}
        for number in _NUMBER.findall(statement):
            if _digits(number) not in have_numbers:
                problems.append(f"the number {number} is not in the cited text")
        lowered = cited_text.lower()
        have_stems = set(self.stem(re.findall(r"\w+", lowered)))
        asked = {w.lower() for w in re.findall(r"\w+", question)}
        for word in _names(statement):
            low = word.lower()
            if low in asked or low in _NOT_NAMES:
                continue
            root = _EXONYMS.get(low, low)
            if root in lowered or self.stem([low])[0] in have_stems or _inflected(low, lowered):
                continue
            problems.append(f"„{word}“ is not in the cited text")
        return problems

    def overlap(self, statement: str, cited_text: str, question: str = "") -> float:
        """Share of the statement's content words (stemmed; question words left out) in ``cited_text``."""
        asked = set(self.stem(re.findall(TOKEN_PATTERN, question.lower())))
        words = set(self.stem([w for w in re.findall(TOKEN_PATTERN, statement.lower()) if len(w) > 3])) - asked
        if not words:
            return 1.0
        have = set(self.stem(re.findall(TOKEN_PATTERN, cited_text.lower())))
        return len(words & have) / len(words)


def _digits(number: str) -> str:
    """``120.000``, ``120,000`` and ``120000`` alike; ``21:30`` and ``21.30`` alike."""
    return re.sub(r"\D", "", number).lstrip("0") or "0"


def _inflected(word: str, text: str) -> bool:
    """``word`` in ``text`` with another ending: "Geheimdiensten" for "Geheimdienstlern", not "Staatschefsinitiative"
    for "Staatschefs"."""
    stem = word[:max(5, len(word) - 3)]
    return len(word) >= 5 and re.search(r"\b" + re.escape(stem), text) is not None


def _names(statement: str) -> list[str]:
    """Capitalised words: names, places and (German) nouns; sentence starters are left to ``_NOT_NAMES``."""
    return [w for w in (w.strip("-") for w in re.findall(r"[\w-]+", statement)) if w[:1].isupper()]


def _render(statements: Sequence[Statement]) -> str:
    parts = []
    for s in statements:
        markers = "".join(f"[{n}]" for n in s.cited)
        if markers and s.text[-1:] in ".!?":
            parts.append(f"{s.text[:-1]} {markers}{s.text[-1]}")
        else:
            parts.append(f"{s.text} {markers}".rstrip())
    return " ".join(parts)
