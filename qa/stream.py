"""An answer as it is written: the one type every consumer of ``ask_stream`` reads.

>>> stream = StreamingAnswer(steps_of(["21:30", " Uhr"], Answer("21:30 Uhr [1]")))
>>> [text for text in stream]
['21:30', ' Uhr']
>>> stream.text, stream.result().text
('21:30 Uhr', '21:30 Uhr [1]')

Iterating yields the text as it is written (in LLM mode the model's words, in fast mode the whole answer at
once). ``draft`` is the fast answer as soon as it is known: in LLM mode before the model starts, and again
when the model's first copy could not be used and it is asked a second time. A step that only brings a new
draft yields "" and starts ``text`` afresh, so a reader shows ``draft`` and ``text`` after every step and
needs to tell nothing apart. ``result()`` is the final, verified ``Answer``: it reads the rest of the
stream first. The stream holds the index's read lock until it ends or is closed (``with`` closes it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from qa.answer import Answer


@dataclass(frozen=True)
class Draft:
    """What an answerer yields to announce the fast answer (``StreamingAnswer.draft``); text is yielded as ``str``."""

    answer: Answer


Steps = Generator["str | Draft", None, Answer]   # text and drafts as they come; returns the final Answer


class StreamingAnswer:
    """``for text in stream`` the text as written; ``stream.draft`` the fast answer; ``stream.result()`` the Answer."""

    def __init__(self, steps: Steps) -> None:
        self._steps = steps
        self._on_done: list[Callable[[Answer], object]] = []
        self._answer: Answer | None = None
        self._closed = False
        self.draft: Answer | None = None
        self.text = ""

    def __iter__(self) -> StreamingAnswer:
        return self

    def __next__(self) -> str:
        if self._answer is not None or self._closed:
            raise StopIteration
        try:
            step = next(self._steps)
        except StopIteration as end:
            self._finish(end.value)
            raise
        except BaseException:
            self._closed = True   # the steps failed: the stream ends with them
            raise
        if isinstance(step, Draft):   # the one place a step's kind is told apart
            self.draft, self.text = step.answer, ""
            return ""
        self.text += step
        return step

    def on_done(self, call: Callable[[Answer], object]) -> None:
        """Call ``call`` with the final ``Answer`` when it is ready, or at once when it is (``Conversation``
        records its turn so)."""
        self._on_done.append(call)
        if self._answer is not None:
            call(self._answer)

    def result(self) -> Answer:
        """The final ``Answer`` (its text may differ from what streamed: it is verified and renumbered)."""
        for _ in self:
            pass
        if self._answer is None:
            raise RuntimeError("the stream was closed before its answer was ready")
        return self._answer

    def close(self) -> None:
        """Stop answering and release the index (a stream read to its end has done so already)."""
        self._closed = True
        self._steps.close()

    def __enter__(self) -> StreamingAnswer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finish(self, answer: Answer | None) -> None:
        if answer is None:
            raise RuntimeError("an answerer's steps ended without an Answer")
        self._answer = answer
        for call in self._on_done:
            call(answer)


def steps_of(texts: Iterable[str], answer: Answer) -> Steps:
    """Steps that write ``texts`` and end with ``answer`` (for the example above and for tests)."""
    yield from texts
    return answer
