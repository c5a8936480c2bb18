"""The hand-written question–answer pairs (JSONL, one pair per line) and their loader.

A pair, as a person writes it::

    {"id": "soldaten-70000", "kind": "number",
     "question": "Wie viele Soldaten hat Russland … zusammengezogen?",
     "answer": "Laut US-Geheimdiensten hat Moskau 70.000 Soldaten zusammengezogen.",
     "facts": ["70.000"],
     "passages": ["US-Geheimdienstlern zufolge hat Moskau dort 70.000 Soldaten zusammengezogen"],
     "history": [["earlier question", "earlier answer"]]}        (follow-ups only)

``answer`` is null for a question the articles do not answer; its ``facts`` and ``passages`` are then empty.
``facts`` are what a correct answer must contain; ``passages`` are quotes from the articles (not chunk ids,
so they survive re-chunking), each supporting at least one fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"

KINDS = {
    "number": "a single number",
    "name": "a single name",
    "date": "a single date or day",
    "time": "a single time of day",
    "multi_article": "a fact several articles report",
    "two_passages": "an answer that needs two passages",
    "paraphrase": "a question in other words than the text",
    "english": "an English question",
    "follow_up": "a follow-up in a conversation",
    "unanswerable": "a question the articles do not answer",
}
FIELDS = {"id", "question", "answer", "facts", "passages", "kind", "history"}


class DatasetError(ValueError):
    """A malformed pair; the message names the file, the line and the pair."""


@dataclass(frozen=True)
class Pair:
    id: str
    question: str
    answer: str | None          # None: the articles do not answer it
    facts: tuple[str, ...]      # what a correct answer must contain
    passages: tuple[str, ...]   # quoted text of the passages that support the answer
    kind: str
    history: tuple[tuple[str, str], ...] = ()  # earlier (question, answer) turns of a follow-up

    @property
    def answerable(self) -> bool:
        return self.answer is not None


def load_pairs(path: Path | str = QUESTIONS) -> list[Pair]:
    """Every pair of ``path``; ``DatasetError`` naming the first malformed one."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read the pairs ({error})") from None
    pairs: list[Pair] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
        pair = _pair(data, where)
        if pair.id in seen:
            raise DatasetError(f"{where} (pair {pair.id!r}): the same id as line {seen[pair.id]}")
        seen[pair.id] = number
        pairs.append(pair)
    if not pairs:
        raise DatasetError(f"{path}: no pairs in the file")
    return pairs


def _pair(data: object, where: str) -> Pair:
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: a pair must be a JSON object, got {type(data).__name__}")
    name = data.get("id")
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"{where}: the pair has no \"id\" (a non-empty text)")
    where = f"{where} (pair {name!r})"

    def fail(message: str) -> DatasetError:
        return DatasetError(f"{where}: {message}")

    unknown = set(data) - FIELDS
    if unknown:
        raise fail(f"unknown field(s) {', '.join(sorted(unknown))}; the fields are {', '.join(sorted(FIELDS))}")
    missing = {"question", "answer", "facts", "passages", "kind"} - set(data)
    if missing:
        raise fail(f"missing field(s) {', '.join(sorted(missing))}")
    question, answer, kind = data["question"], data["answer"], data["kind"]
    if not isinstance(question, str) or not question.strip():
        raise fail("\"question\" must be a non-empty text")
    if kind not in KINDS:
        raise fail(f"\"kind\" is {kind!r}; it must be one of {', '.join(KINDS)}")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise fail("\"answer\" must be a non-empty text, or null when the articles do not answer the question")
    facts, passages = _texts(data["facts"], "facts", fail), _texts(data["passages"], "passages", fail)
    if answer is None and (facts or passages):
        raise fail("an unanswerable pair (\"answer\": null) must have no facts and no passages")
    if answer is not None and not (facts and passages):
        raise fail("an answerable pair needs at least one fact and one supporting passage")
    if (answer is None) != (kind == "unanswerable") and kind != "follow_up":
        raise fail(f"kind {kind!r} does not fit \"answer\": "
                   + ("null (use kind \"unanswerable\")" if answer is None else "a text"))
    history = data.get("history", [])
    if (not isinstance(history, list)
            or not all(isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) and x.strip() for x in t)
                       for t in history)):
        raise fail("\"history\" must be a list of [question, answer] pairs of texts")
    if (kind == "follow_up") != bool(history):
        raise fail("a follow_up pair needs a \"history\", and only a follow_up pair has one")
    return Pair(name, question, answer, facts, passages, kind, tuple((q, a) for q, a in history))


def _texts(value: object, field: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(f"\"{field}\" must be a list of non-empty texts")
    return tuple(value)


# The seed articles whose pairs the numbers of ``qa.calibration`` may be fitted on (by article, never by
# question); the pairs of the other three are held out. A pair belongs to the article of its first quote;
# an unanswerable one, having none, goes by a hash of its id (a third of them to calibration).
CALIBRATION_SEEDS = ("000_", "002_")


def quoted_article(pair: Pair, articles: dict[str, str]) -> str:
    """The file name of the article holding the pair's first quote; "" for a pair without quotes (an
    unanswerable one) or a quote no article holds. ``articles`` maps file names to texts."""
    return next((n for n, text in articles.items() if pair.passages[0] in text), "") if pair.passages else ""


def part_of(pair: Pair, articles: dict[str, str]) -> str:
    """'calibration' or 'held-out'; ``articles`` maps file names to texts."""
    import zlib

    if pair.passages:
        return "calibration" if quoted_article(pair, articles).startswith(CALIBRATION_SEEDS) else "held-out"
    return "calibration" if zlib.crc32(pair.id.encode()) % 3 == 0 else "held-out"


def unquoted(pairs: list[Pair], texts: list[str]) -> list[str]:
    """One line for each quote that none of the articles' ``texts`` holds (an edited article, a typo)."""
    problems = []
    for pair in pairs:
        for quote in pair.passages:
            if not any(quote in text for text in texts):
                problems.append(f"pair {pair.id!r}: no article contains the quote „{quote}“")
    return problems


def supports(pair: Pair, text: str) -> bool:
    """Whether ``text`` (a passage) holds one of the pair's supporting quotes."""
    return any(quote in text for quote in pair.passages)
