"""``StreamingAnswer``, the one type every consumer of ``ask_stream`` reads: text as written, the draft, the
final answer, and what happens when a reader stops early or the answerer fails."""

from __future__ import annotations

import doctest

import pytest

import qa.stream
from qa.answer import Answer
from qa.stream import Draft, StreamingAnswer, steps_of

FAST = Answer("Um 21:30 Uhr MEZ soll das Telefonat stattfinden. [1]", short="21:30")
FINAL = Answer("21:30 Uhr – „Um 21:30 Uhr MEZ soll das Telefonat stattfinden.“ [1]", answerer="llm")


def drafted():
    yield Draft(FAST)
    yield "21:30"
    yield " Uhr"
    yield Draft(FAST)      # the model's copy was not usable: the fast answer again, the text starts afresh
    return FINAL


def test_the_module_example_runs():
    assert doctest.testmod(qa.stream).failed == 0


def test_a_draft_is_a_step_without_text_and_starts_the_text_afresh():
    stream = StreamingAnswer(drafted())
    seen = [(text, stream.draft, stream.text) for text in stream]
    assert seen == [("", FAST, ""), ("21:30", FAST, "21:30"), (" Uhr", FAST, "21:30 Uhr"), ("", FAST, "")]
    assert stream.result() is FINAL


def test_the_answer_is_handed_on_once_whenever_the_reader_asks_for_it():
    stream, got = StreamingAnswer(drafted()), []
    stream.on_done(got.append)
    assert stream.result() is FINAL and stream.result() is FINAL and got == [FINAL]
    stream.on_done(got.append)          # asked for after the end: at once
    assert got == [FINAL, FINAL]


def test_a_stream_closed_early_says_so_and_hands_on_nothing():
    closed = []

    def steps():
        try:
            yield "21:30"
            yield " Uhr"
            return FINAL
        finally:
            closed.append(True)          # the answerer's read lock is released here

    stream, got = StreamingAnswer(steps()), []
    stream.on_done(got.append)
    with stream:
        assert next(stream) == "21:30"
    assert closed == [True] and list(stream) == [] and got == []
    with pytest.raises(RuntimeError, match="closed before its answer was ready"):
        stream.result()


def test_a_failing_answerer_raises_once_and_the_stream_ends():
    def steps():
        yield "21:30"
        raise ValueError("the model server went away")

    stream = StreamingAnswer(steps())
    assert next(stream) == "21:30"
    with pytest.raises(ValueError, match="went away"):
        next(stream)
    assert list(stream) == []
    with pytest.raises(RuntimeError, match="closed before"):
        stream.result()


def test_steps_that_end_without_an_answer_are_a_bug_said_plainly():
    with pytest.raises(RuntimeError, match="ended without an Answer"):
        StreamingAnswer(iter_without_answer()).result()


def iter_without_answer():
    yield "text"


def test_steps_of_writes_its_texts_then_returns_the_answer():
    assert StreamingAnswer(steps_of(["a", "b"], FINAL)).result() is FINAL
