"""Checks over every answer of every suite: does it state a name, number or date that its cited passages
do not hold, and is it in the language of the question?"""

from __future__ import annotations

import functools
import re

from qa.answer import Answer
from qa.prompts import load_prompt
from qa.questions import language_of
from qa.tokens import german_stemmer
from qa.verify import FactChecker

_QUOTED = re.compile(r"„[^„“]*“|“[^“”]*”|\"[^\"]*\"")   # innermost quotes; nested ones go in turn


@functools.cache
def _templates() -> tuple[str, ...]:
    """The fixed words the product wraps around a quote: they are no statement about the articles."""
    return (load_prompt("extractive_lead_en"), "(the articles, in German:", ")")


@functools.cache
def _declined_parts() -> tuple[re.Pattern, ...]:
    """The sentences that decline one part of a question („Zu „…“ steht nichts in den Artikeln.“): they
    repeat the user's own words, and state nothing about the articles."""
    return tuple(re.compile(re.escape(load_prompt(name)).replace(re.escape("$question"), ".+?"))
                 for name in ("abstain_part_de", "abstain_part_en"))


_checker: FactChecker | None = None


def unsupported(answer: Answer, question: str) -> list[str]:
    """The names, numbers and dates of ``answer`` that none of its cited passages holds."""
    global _checker
    if answer.abstained:
        return []
    if _checker is None:
        stemmer = german_stemmer()
        _checker = FactChecker(stemmer.stemWords)
    text = re.sub(r"\[\d+\]", " ", answer.text)
    for declined in _declined_parts():
        text = declined.sub(" ", text)
    for fixed in _templates():
        text = text.replace(fixed, " ")
    cited = " ".join(c.text for c in answer.citations)
    if not cited:
        return ["an answer without a cited passage"]
    return _checker.missing_facts(text, cited, question)


def answer_language(text: str, copied: str = "") -> str:
    """The language of what the answer says in its own words: the text outside quotes (all of it if none).

    ``copied``: a short answer copied word for word from the cited text counts as quoted too, so a title the
    article writes in English („Mask of Anarchy – „…Shelley's Mask of Anarchy…““) does not make a German
    answer English: names stay as the articles spell them.
    """
    own = re.sub(r"\[\d+\]", " ", text)
    while (inner := _QUOTED.sub(" ", own)) != own:   # „… „starken Wirtschaftsmaßnahmen“ …“: inside out
        own = inner
    if copied:
        own = own.replace(copied, " ", 1)
    return language_of(own) if re.search(r"[^\W\d_]{2,}", own) else language_of(text)


def language_matches(answer: Answer, question: str) -> bool:
    short = answer.short or ""
    copied = short if short and any(short in c.text for c in answer.citations) else ""
    return answer_language(answer.text, copied) == language_of(question)
