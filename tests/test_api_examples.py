"""The examples in ``qa.api``'s docstrings run, as written, against an index of the seed articles: what the
documentation shows a Python user is what the functions do."""

from __future__ import annotations

import doctest

import pytest

import qa.api
from tests.conftest import ROOT

# In the order a user would run them: the index filled first, an article removed last.
FAST = ("ingest", "ask", "list_articles", "article", "remove")


def run_examples(names: tuple[str, ...]) -> None:
    tests = {test.name.rsplit(".", 1)[-1]: test for test in doctest.DocTestFinder().find(qa.api)}
    assert set(names) <= set(tests), f"examples missing from qa.api: {set(names) - set(tests)}"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in names:
        assert tests[name].examples, f"qa.api.{name} shows no example"
        runner.run(tests[name])
    assert runner.failures == 0, f"{runner.failures} example(s) of qa.api failed (the report is above)"


def test_the_fast_examples_of_the_python_api_run_as_written(monkeypatch):
    monkeypatch.chdir(ROOT)   # the examples name the folder seeds/
    run_examples(FAST)


@pytest.mark.slow
@pytest.mark.llm
def test_the_streaming_example_runs_as_written_with_the_local_model(monkeypatch):
    monkeypatch.chdir(ROOT)
    run_examples(("ingest", "ask_stream"))
