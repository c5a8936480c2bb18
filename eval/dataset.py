"""Loading the hand-written question–answer pairs (JSONL, one pair per line)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"


@dataclass(frozen=True)
class Pair:
    id: str
    question: str
    answer: str | None          # None: the articles do not answer it
    facts: tuple[str, ...]      # what a correct answer must contain
    passages: tuple[str, ...]   # quoted text of the passages that support the answer
    kind: str

    @property
    def answerable(self) -> bool:
        return self.answer is not None


def load_pairs(path: Path = QUESTIONS) -> list[Pair]:
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            d = json.loads(line)
            pairs.append(Pair(d["id"], d["question"], d["answer"], tuple(d["facts"]), tuple(d["passages"]),
                              d["kind"]))
    return pairs


def supports(pair: Pair, text: str) -> bool:
    """Whether ``text`` (a passage) holds one of the pair's supporting quotes."""
    return any(quote in text for quote in pair.passages)
