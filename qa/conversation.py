"""One conversation: each turn as asked, as understood, and as answered; the history a follow-up needs.

The chat page and ``qa chat`` both keep a ``Conversation``, so the same turns resolve a follow-up the same
way in both. The history handed to ``ask`` pairs each *understood* question with its answer: after
"Wann soll das Telefonat stattfinden?" and "Wer hatte die Initiative dafür?" (understood as "Wer hatte die
Initiative dafür? (Telefonat stattfinden)"), a third question still knows it is about the phone call.

>>> talk = Conversation()
>>> talk.ask("Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?").short
'21:30'
>>> talk.ask("Und wer hatte die Initiative dafür?").question
'Und wer hatte die Initiative dafür? (Telefonat 30. Dezember stattfinden)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.answer import Answer
from qa.questions import clean_text

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.stream import StreamingAnswer


@dataclass(frozen=True)
class Turn:
    asked: str        # the question as the user typed it (cleaned)
    understood: str   # the standalone form that was answered (``Answer.question``)
    answer: Answer


class Conversation:
    """The turns of one conversation, oldest first; ``ask`` and ``ask_stream`` answer and record a turn."""

    def __init__(self, mode: str | None = None, settings: Settings | None = None) -> None:
        self.mode = mode
        self.settings = settings
        self.turns: list[Turn] = []

    def history(self) -> list[tuple[str, str]]:
        """The (question, answer) pairs ``qa.ask(..., history=…)`` takes: understood questions, answer texts."""
        return [(turn.understood, turn.answer.text) for turn in self.turns]

    def record(self, asked: str, answer: Answer) -> Turn:
        turn = Turn(clean_text(asked), answer.question or clean_text(asked), answer)
        self.turns.append(turn)
        return turn

    def ask_stream(self, question: str, *, mode: str | None = None) -> StreamingAnswer:
        """``qa.ask_stream`` with this conversation's history; the answer is recorded as a turn when it is ready.

        A question that fails (bad input, a failure below) raises and records nothing.
        """
        from qa.api import ask_stream

        stream = ask_stream(question, mode=mode or self.mode, history=self.history(), settings=self.settings)
        stream.on_done(lambda answer: self.record(question, answer))
        return stream

    def ask(self, question: str, *, mode: str | None = None) -> Answer:
        with self.ask_stream(question, mode=mode) as stream:
            return stream.result()

    def clear(self) -> None:
        self.turns.clear()

    def __len__(self) -> int:
        return len(self.turns)
