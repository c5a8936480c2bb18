"""A scripted language model: returns what a test enqueued (text, or a function of the prompt), in pieces, and
records what it was asked."""

from __future__ import annotations

from collections import deque
from typing import Iterator, Sequence

from qa.llm import Message


class ScriptedLLM:
    def __init__(self, *replies: str) -> None:
        self.replies = deque(replies)
        self.calls: list[list[Message]] = []
        self.warmed: list[Sequence[Message]] = []

    def say(self, *replies: str) -> "ScriptedLLM":
        self.replies.extend(replies)
        return self

    def warm_up(self, prefix: Sequence[Message] = ()) -> None:
        self.warmed.append(prefix)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        self.calls.append(list(messages))
        if not self.replies:
            raise AssertionError("the scripted LLM was asked more often than the test expected")
        reply = self.replies.popleft()
        if callable(reply):  # a reply that depends on the prompt: which number a sentence got
            reply = reply(list(messages))
        for stop_text in stop:
            reply = reply.split(stop_text)[0]
        words = reply.split(" ")
        for i, word in enumerate(words):  # token-like pieces, as a real model streams them
            yield word if i == 0 else " " + word


def events_of(stream) -> list[tuple[str, object]]:
    """A ``StreamingAnswer`` read to its end, as its steps: ("draft", Answer) where one brought the fast answer,
    ("text", str) where one brought text, and a last ("answer", Answer)."""
    with stream:
        steps = [("text", text) if text else ("draft", stream.draft) for text in stream]
        return [*steps, ("answer", stream.result())]
