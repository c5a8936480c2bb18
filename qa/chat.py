"""Follow-up questions: the conversation so far and the new question become one standalone question.

"Und wer hatte die Initiative dafür?" means nothing to a retriever; after a question about the phone call
of 30 December it means "Wer hatte die Initiative für das Telefonat am 30. Dezember?".

Two ways, cheap first: ``attach_context`` adds what the earlier question was about to the follow-up (no
model, a millisecond); ``condense`` has the language model rewrite it (a second or two on 2 cores, before
the answer can start). The pipeline asks the model only when the cheap form finds nothing to answer from.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Sequence

from qa.errors import QuestionError
from qa.wordlists import FOLLOW_UP_STARTS, QUESTION_WORDS, REFERENCE_WORDS, STOPWORDS
from qa.llm import LLM, Message
from qa.prompts import load_prompt, render
from qa.questions import clean_text

MAX_TURNS = 3            # the last turns are what a follow-up refers to
MAX_ANSWER_CHARS = 300   # of each earlier answer, markers removed


class Exchange(NamedTuple):
    """One earlier turn of a conversation, as ``ask(..., history=…)`` takes it: what was asked, what was said."""

    question: str
    answer: str


def check_history(history: object) -> list[Exchange]:
    """``history`` as (question, answer) pairs; ``QuestionError`` naming what is wrong otherwise."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise QuestionError("history must be a list of (question, answer) pairs, "
                            f"got {type(history).__name__}")
    turns = []
    for i, turn in enumerate(history):
        if (not isinstance(turn, (tuple, list)) or len(turn) != 2
                or not all(isinstance(part, str) for part in turn)):
            raise QuestionError(f"history[{i}] must be a (question, answer) pair of texts, got {turn!r:.80}")
        turns.append(Exchange(clean_text(turn[0]), turn[1].encode("utf-8", "replace").decode("utf-8")))
    return turns


def condense_messages(question: str, history: list[Exchange]) -> list[Message]:
    lines = []
    for asked, answered in history[-MAX_TURNS:]:
        answered = " ".join(re.sub(r"\[\d+\]", "", answered).split())
        if len(answered) > MAX_ANSWER_CHARS:
            answered = answered[:MAX_ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
        lines += [f"Frage: {' '.join(asked.split())}", f"Antwort: {answered}"]
    return [*condense_prefix(), Message("user", render("condense_user", history="\n".join(lines), question=question))]


def condense_prefix() -> list[Message]:
    """The rules and the worked example of the rewrite: the same for every follow-up."""
    return [Message("system", load_prompt("condense_system")),
            Message("user", load_prompt("condense_example_user")),
            Message("assistant", load_prompt("condense_example_assistant"))]




def follows_up(question: str) -> bool:
    """Whether ``question`` points back into the conversation: a word such as „dafür“, „er“ or „it“, or a start
    such as „Und …“. One that does not stands on its own: „Was sagte Peskow über die Beziehungen?“ asked after
    a question about Geneva is a new question, and the earlier topic attached would pull it back to Geneva.

    >>> follows_up("Und wer hatte die Initiative dafür?"), follows_up("Wer ist der Sprecher des Kremls?")
    (True, False)
    """
    words = re.findall(r"\w+", question.lower())
    return bool(words) and (words[0] in FOLLOW_UP_STARTS or bool(set(words) & REFERENCE_WORDS))


def attach_context(question: str, history: list[Exchange]) -> str:
    """``question`` with the content words of the previous question that it lacks, in brackets.

    "Und wer hatte die Initiative dafür?" after "Um wie viel Uhr soll das Telefonat am 30. Dezember
    stattfinden?" becomes "Und wer hatte die Initiative dafür? (Telefonat 30. Dezember stattfinden)": the
    earlier question's topic, not its "um wie viel Uhr", which would change what is asked.
    """
    if not history:
        return question
    have = _words(question)
    about = [re.sub(r"(?<!\d)\.$", "", w.strip(":-")) for w in re.findall(r"[\w.:-]+", history[-1].question)]
    about = [w for w in about if w and w.lower() not in STOPWORDS and w.lower() not in have
             and w.lower() not in QUESTION_WORDS]
    about = list(dict.fromkeys(about))
    return f"{question} ({' '.join(about)})" if about else question


def condense(llm: LLM, question: str, history: list[Exchange]) -> str | None:
    """The model's standalone form of ``question`` (``question`` itself when there is no history).

    None when the model wrote no question: it answered instead, from nothing. When its rewrite took nothing
    from the conversation, the earlier question's topic is attached.
    """
    if not history:
        return question
    text = "".join(llm.stream(condense_messages(question, history), max_tokens=80, stop=["\n"]))
    rewritten = clean_rewrite(text, question)
    if rewritten is None:
        return None
    if _words(rewritten) <= _words(question):
        return attach_context(question, history)  # the model took nothing from the conversation
    return rewritten


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w\w+", text)}


def clean_rewrite(text: str, question: str) -> str | None:
    """The question in the model's ``text``, without labels and quotes; None when there is none."""
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = re.sub(r"^(eigenständige frage|umgeschriebene frage|anschlussfrage|frage|question)\s*:\s*", "",
                  text, flags=re.I)
    text = text.strip(" \"'„“”»«")
    if not re.search(r"\w", text) or len(text) > 3 * len(question) + 200:
        return None
    if not text.endswith("?"):
        # The model answered instead of rewriting ("Sein Amt ist seit dem 15. Dezember 2019."): an answer
        # made up without passages must not become the question.
        return None
    return text
