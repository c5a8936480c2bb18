"""What ``ask`` returns: an answer with numbered citations of German passages."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.chunking import Chunk


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
    url: str = ""        # the article's web address, when known
    source: str = ""     # who published it, when known


def cite(chunk: Chunk, number: int, score: float, quote: str) -> Citation:
    """The citation ``[number]`` of ``chunk``, resting on its sentence ``quote``."""
    return Citation(number=number, text=chunk.text, article=chunk.article_id, title=chunk.title, date=chunk.date,
                    score=round(score, 4), quote=quote, start=chunk.start, end=chunk.end, url=chunk.url,
                    source=chunk.source)


# How ``Answer.fallback_reason`` ends when the model, its first answer unusable, was asked again with the fast
# answer's sentence alone (``LLMAnswerer``); the chat says so in its own words.
ASKED_AGAIN = "asked again with the fast answer's sentence alone"


@dataclass(frozen=True)
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"   # which answerer produced the text
    question: str = ""             # the question as answered (after cleaning, or condensing in a chat)
    generated: str = ""            # what the language model wrote, before verification (LLM mode)
    fallback_reason: str = ""      # why the model's first answer was not used: the extractive answer replaced
                                   # it, or (answerer "llm") the model was asked again with that one's sentence
    short: str = ""                # the short answer alone, copied from the cited sentence (LLM mode; the
                                   # fast mode where the sentence holds one number or date of the kind asked)
    confidence: float = 0.0        # calibrated probability that the articles answer the question

    def format(self) -> str:
        """The answer and its cited passages as plain text, for the terminal."""
        lines = [self.text]
        for c in self.citations:
            origin = ", ".join(filter(None, [c.date, c.source, c.article]))
            lines += ["", f"[{c.number}] {c.title} ({origin})" + (f"\n    {c.url}" if c.url else ""),
                      textwrap.indent(c.text, "    ")]
        return "\n".join(lines)
