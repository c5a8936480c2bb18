"""The checks that hold what reaches the user to the German passages it cites.

The model copies the short answer from one of the sentences shown; ``span_in`` finds that answer in a
sentence (case, German inflection and number formats aside) and returns the sentence's own words, so what
is shown is a quote. ``missing_facts`` lists the numbers, dates and names of a text that its cited text
does not hold: it checks an English rendering of an answer here, and every answer in the eval.
"""

from __future__ import annotations

import re
from typing import Callable

from qa.chunking import sentence_spans
from qa.wordlists import ABSTAIN_PHRASES, DIGIT_WORDS, EXONYMS, NOT_NAMES, QUESTION_WORDS, SPAN_JOINERS

_MARKER = re.compile(r"\[\s*(?:Passage|Quelle|Source)?\s*(\d+(?:\s*(?:[,;]|und|and|-|–)\s*\d+)*)\s*\]", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\s?\d{3}(?!\d)|[.,:]\d+)*")  # "120.000", "21:30", and "120, 000" as one
_WORD = re.compile(r"\d+(?:[.,:]\d+)*|\w+")


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
    return any(phrase in flat for phrase in ABSTAIN_PHRASES)


class FactChecker:
    """``span_in(span, sentence)`` and ``missing_facts(text, cited_text)``; ``stem`` is a German stemmer."""

    def __init__(self, stem: Callable[[list[str]], list[str]]) -> None:
        self.stem = stem

    def span_in(self, span: str, sentence: str) -> str | None:
        """``span`` as it stands in ``sentence`` (the sentence's own words), or None when it does not.

        Words match by their German stem ("Soldaten" for "Soldat"), numbers by their digits ("120.000" for
        "120000", "5" for "fünf"), whatever the case and punctuation. A copied list or range may leave out
        or change the words that join it ("Tang, Song, Jurchen Jin" finds „Tang, Song sowie Jurchen Jin“,
        "30.000-50.000" finds „30.000 bis 50.000“): every other word must stand in the sentence in the
        span's order, with nothing but such joining words (at most two) between them. What is returned
        runs from the first matched word to the last: only the sentence's own words.
        """
        words = [m.group() for m in _WORD.finditer(span)]
        want = [self._key(w) for w in words]
        if not want:
            return None
        found = list(_WORD.finditer(sentence))
        have = [self._key(m.group()) for m in found]
        for i in range(len(have) - len(want) + 1):
            if have[i:i + len(want)] == want:
                return sentence[found[i].start():found[i + len(want) - 1].end()]
        core = [k for k, w in zip(want, words) if w.casefold() not in SPAN_JOINERS]
        if len(core) < 2:
            return None  # one word and joiners: the exact match above decides
        joiner = [m.group().casefold() in SPAN_JOINERS for m in found]
        for i, key in enumerate(have):
            if key != core[0]:
                continue
            at, ok = [i], True
            for k in core[1:]:
                j = at[-1] + 1
                while j < len(have) and have[j] != k and joiner[j] and j - at[-1] <= 2:
                    j += 1
                if j >= len(have) or have[j] != k:
                    ok = False
                    break
                at.append(j)
            if ok:
                return sentence[found[at[0]].start():found[at[-1]].end()]
        return None

    def restates(self, question: str, span: str) -> bool:
        """Whether ``span`` says nothing ``question`` does not: every word of it, but the joining words, stands
        in the question („Broncos“ for „Wen besiegten die Broncos?“). A question offering a choice („Putin
        oder Biden?“) is answered by one of its own words, so it never restates one.

        >>> FactChecker(lambda words: words).restates("Wen besiegten die Broncos?", "die Broncos")
        True
        """
        asked = [m.group() for m in _WORD.finditer(question)]
        if any(w.casefold() in ("oder", "or") for w in asked):
            return False
        keys = {self._key(w) for w in asked}
        words = [m.group() for m in _WORD.finditer(span) if m.group().casefold() not in SPAN_JOINERS]
        return bool(words) and all(self._key(w) in keys for w in words)

    def _key(self, word: str) -> str:
        if word[0].isdigit():
            return _digits(word)
        if word.casefold() in DIGIT_WORDS:
            return DIGIT_WORDS[word.casefold()]
        return self.stem([word.casefold()])[0]

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
            if low in asked or low in NOT_NAMES or self._holds(low, lowered, have_stems):
                continue
            problems.append(f"„{word}“ is not in the cited text")
        return problems

    def names_none_of(self, question: str, text: str) -> bool:
        """Whether ``question`` names something (its capitalised words after the first) and ``text`` holds
        none of it, in any spelling: "What is the population of Canada?" over a passage that never says
        „Kanada“ asks about something the passage is not about. Spellings across languages count („Kanada“
        for "Canada", „Selenskyj“ for "Zelensky", „Moskau“ for "Moscow"); one word found is enough, so "US
        Secretary of State Blinken" is about a passage that names Blinken though it says „Außenminister“."""
        return self.names_found(question, text) == 0.0

    def names_found(self, question: str, text: str) -> float:
        """The share of what ``question`` names (``asked_names``) that ``text`` holds, in any spelling as in
        ``names_none_of``; 1.0 when the question names nothing."""
        names = asked_names(question)
        if not names:
            return 1.0
        lowered = text.lower()
        have_stems = set(self.stem(re.findall(r"\w+", lowered)))
        sounds = {_sound(w) for w in re.findall(r"\w+", lowered)}
        return sum(self._holds(n.lower(), lowered, have_stems) or _sounds_in(n.lower(), sounds)
                   for n in names) / len(names)

    def _holds(self, low: str, lowered: str, have_stems: set[str]) -> bool:
        root = EXONYMS.get(low, low)
        return root in lowered or self.stem([low])[0] in have_stems or _inflected(low, lowered)


def asked_names(question: str) -> list[str]:
    """The capitalised words of ``question`` after its first, less function and question words: the names
    of an English question („Canada“, „Blinken“), every noun of a German one („Einwohner“, „Kanada“)."""
    after_first = " ".join(question.split()[1:])
    return [w for w in _names(after_first) if len(w) > 1 and w.lower() not in NOT_NAMES | QUESTION_WORDS]


# English and German spell one name with other letters: Canada/Kanada, Zelensky/Selenskyj, Soviet/sowjetisch.
_SOUNDS = str.maketrans({"c": "k", "z": "s", "y": "i", "j": "i", "w": "v"})


def _sound(word: str) -> str:
    return word.replace("ph", "f").translate(_SOUNDS)


def _sounds_in(word: str, sounds: set[str]) -> bool:
    """``word`` spelt another way in a text whose words, spelt so, are ``sounds``: the first
    max(5, length − 3) letters alike, as ``_inflected`` compares („normandi“ for „Normandie“)."""
    if len(word) < 5:
        return False
    head = _sound(word)[:max(5, len(word) - 3)]
    return any(s.startswith(head) for s in sounds)


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
