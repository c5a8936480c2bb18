"""What ``ask`` returns: an answer with numbered citations of German passages."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    number: int          # the n in [n]
    text: str            # the full German passage
    article: str         # article id (file name)
    title: str
    date: str
    score: float
    quote: str = ""      # the sentence of the passage the answer rests on
    start: int = 0       # the passage's offsets in the article's text
    end: int = 0


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"   # which answerer produced the text
    question: str = ""             # the question as answered (after cleaning, or condensing in a chat)
    generated: str = ""            # what the language model wrote, before verification (LLM mode)
    fallback_reason: str = ""      # why the generated answer was replaced by the extractive one
    short: str = ""                # the short answer alone, copied from the cited sentence (LLM mode)
    confidence: float = 0.0        # calibrated probability that the articles answer the question

    def format(self) -> str:
        """The answer and its cited passages as plain text, for the terminal."""
        lines = [self.text]
        for c in self.citations:
            lines += ["", f"[{c.number}] {c.title} ({c.date}, {c.article})", textwrap.indent(c.text, "    ")]
        return "\n".join(lines)


@dataclass(frozen=True)
class Draft:
    """The fast answer, yielded by ``ask_stream`` in LLM mode before the model starts: something to read at
    once. The model's words follow as text, then the final ``Answer``, which replaces the draft."""

    answer: Answer
