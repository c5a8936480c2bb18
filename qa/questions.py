"""Cleaning and checking a question before it reaches the pipeline, splitting one that asks two things,
and telling its language."""

from __future__ import annotations

import re
import unicodedata

from qa.errors import QuestionError
from qa.wordlists import ENGLISH_WORDS, GERMAN_WORDS

MAX_PARTS = 4  # a question joining more parts than this is answered as one: each part costs a retrieval


def clean_text(text: str) -> str:
    """``text`` on one line: control and format characters (bidi overrides too) removed, whitespace collapsed,
    and lone surrogates (bytes that were not UTF-8, as Python decodes argv and stdin) shown as U+FFFD.

    >>> clean_text("Wer ist\\u202e Scholz?\\n")
    'Wer ist Scholz?'
    >>> clean_text("Wie hei\\udcdft er?")  # "heißt" in Latin-1
    'Wie hei�t er?'
    """
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    text = "".join("\ufffd" if unicodedata.category(ch) == "Cs" else ch for ch in text
                   if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def clean_question(question: object, max_chars: int) -> str:
    """The question through ``clean_text``; ``QuestionError`` if it is empty, too long or has no words."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, got {type(question).__name__}")
    text = clean_text(question)
    if not text:
        raise QuestionError("the question is empty; type a question about the articles")
    if len(text) > max_chars:
        raise QuestionError(f"the question has {len(text):,} characters; the limit is {max_chars:,} "
                            "(QA_MAX_QUESTION_CHARS): ask a shorter question")
    # A letter of any script: "Who?" and "Wer ist Scholz?" pass; "120.000", "21:30" or "***" alone ask nothing.
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise QuestionError("the question has no words in it, only numbers or signs; "
                            "ask a question in words about the articles")
    return text


def language_of(text: str) -> str:
    """'en' or 'de' (the default): enough to answer and abstain in the question's language."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    english = sum(w in ENGLISH_WORDS for w in words)
    # An umlaut or ß counts for German in the words German writes small (and the first): in a name it says
    # nothing of the question's language („How old is Hans Süß?“ is English).
    written = re.findall(r"\w+", text)
    umlaut = any(re.search(r"[äöüß]", w) and (i == 0 or not w[0].isupper()) for i, w in enumerate(written))
    german = sum(w in GERMAN_WORDS for w in words) + 2 * umlaut
    return "en" if english > german else "de"


# What starts a second question joined to the first: "…, und über welche Leitung lief sie?"
_ASKS = (r"(?:wie|wer|wen|wem|wessen|was|wann|wo|woher|wohin|warum|weshalb|wieso|welche[rnms]?|"
         r"(?:in|an|auf|aus|bei|für|mit|nach|über|um|von|vor|zu|seit|bis|unter|gegen) (?:welche[rnms]?|wie|wann|"
         r"wem|wen|was)|how|what|who|whom|when|where|which|why|(?:in|at|on|for|with|from|by|since|until) "
         r"(?:which|what|whom))")
_JOINED = re.compile(rf",?\s+(?:und|and|sowie)\s+(?={_ASKS}\b)", re.I)


def split_question(question: str) -> list[str]:
    """The questions that ``question`` joins with "und": each is answered from its own passages.

    More than ``MAX_PARTS`` parts are left as one question.

    >>> split_question("Wann begann die Videokonferenz, und über welche Leitung lief sie?")
    ['Wann begann die Videokonferenz?', 'Über welche Leitung lief sie?']
    >>> split_question("Was sagten Putin und Biden?")
    ['Was sagten Putin und Biden?']
    """
    pieces = _JOINED.split(question)
    if not 1 < len(pieces) <= MAX_PARTS:
        return [question]
    parts = []
    for piece in pieces:
        piece = piece.strip().rstrip(",;:?!. ")
        if not piece:
            return [question]
        parts.append(piece[0].upper() + piece[1:] + "?")
    return parts
