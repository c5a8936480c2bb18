"""A scripted language model: returns what a test enqueued (text, or a function of the prompt), in pieces, and
records what it was asked."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from qa.llm import Message


@dataclass(frozen=True)
class Choice:
    """A scripted reply that weighs like the real model: ``logp`` gives each start's log-probability, the
    start with the highest log-probability plus its bias is written, then ``then[start]`` (the span)."""

    logp: dict[str, float]
    then: dict[str, str] = field(default_factory=dict)

    def write(self, bias: Mapping[str, float], seen: dict[str, float] | None) -> str:
        if seen is not None:
            seen.update(self.logp)
        start = max(self.logp, key=lambda s: self.logp[s] + bias.get(s, 0.0))
        return start + self.then.get(start, "")


class ScriptedLLM:
    def __init__(self, *replies: str) -> None:
        self.replies = deque(replies)
        self.calls: list[list[Message]] = []
        self.warmed: list[Sequence[Message]] = []
        self.starts: list[list[str]] = []
        self.biases: list[dict[str, float]] = []

    def say(self, *replies: str) -> "ScriptedLLM":
        self.replies.extend(replies)
        return self

    def warm_up(self, prefix: Sequence[Message] = ()) -> None:
        self.warmed.append(prefix)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = (),
               starts: Sequence[str] = (), bias: Mapping[str, float] | None = None,
               seen: dict[str, float] | None = None) -> Iterator[str]:
        self.calls.append(list(messages))
        self.starts.append(list(starts))
        self.biases.append(dict(bias or {}))
        if not self.replies:
            raise AssertionError("the scripted LLM was asked more often than the test expected")
        reply = self.replies.popleft()
        if callable(reply):  # a reply that depends on the prompt: which number a sentence got
            reply = reply(list(messages))
        if isinstance(reply, Choice):
            reply = reply.write(bias or {}, seen)
        for stop_text in stop:
            reply = reply.split(stop_text)[0]
        words = reply.split(" ")
        for i, word in enumerate(words):  # token-like pieces, as a real model streams them
            yield word if i == 0 else " " + word
