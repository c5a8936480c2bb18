"""Cleaning and checking a question before it reaches the pipeline, and telling its language."""

from __future__ import annotations

import re
import unicodedata

from qa.errors import QuestionError
from qa.wordlists import ENGLISH_WORDS, GERMAN_WORDS



def clean_question(question: object, max_chars: int) -> str:
    """The question with control characters removed and whitespace collapsed; ``QuestionError`` if unusable."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in question)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty; type a question about the articles")
    if len(text) > max_chars:
        raise QuestionError(f"the question has {len(text):,} characters; the limit is {max_chars:,} "
                            "(QA_MAX_QUESTION_CHARS): ask a shorter question")
    if not re.search(r"\w", text):
        raise QuestionError("the question has no words in it; type a question about the articles")
    return text


def language_of(text: str) -> str:
    """'en' or 'de' (the default): enough to answer and abstain in the question's language."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    english = sum(w in ENGLISH_WORDS for w in words)
    german = sum(w in GERMAN_WORDS for w in words) + 2 * bool(re.search(r"[äöüß]", text.lower()))
    return "en" if english > german else "de"


# What starts a second question joined to the first: "…, und über welche Leitung lief sie?"
_ASKS = (r"(?:wie|wer|wen|wem|wessen|was|wann|wo|woher|wohin|warum|weshalb|wieso|welche[rnms]?|"
         r"(?:in|an|auf|aus|bei|für|mit|nach|über|um|von|vor|zu|seit|bis|unter|gegen) (?:welche[rnms]?|wie|wann|"
         r"wem|wen|was)|how|what|who|whom|when|where|which|why|(?:in|at|on|for|with|from|by|since|until) "
         r"(?:which|what|whom))")
_JOINED = re.compile(rf",?\s+(?:und|and|sowie)\s+(?={_ASKS}\b)", re.I)


def split_question(question: str) -> list[str]:
    """The questions that ``question`` joins with "und": each is answered from its own passages.

    >>> split_question("Wann begann die Videokonferenz, und über welche Leitung lief sie?")
    ['Wann begann die Videokonferenz?', 'Über welche Leitung lief sie?']
    >>> split_question("Was sagten Putin und Biden?")
    ['Was sagten Putin und Biden?']
    """
    pieces = _JOINED.split(question)
    if len(pieces) == 1:
        return [question]
    parts = []
    for piece in pieces:
        piece = piece.strip().rstrip(",;:?!. ")
        if not piece:
            return [question]
        parts.append(piece[0].upper() + piece[1:] + "?")
    return parts
