"""The public functions: what the CLI, the app and Python users call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from qa.answer import Answer
from qa.config import Settings
from qa.errors import ConfigError
from qa.store import ArticleInfo
from qa.sync import IngestReport, Progress

if TYPE_CHECKING:
    from qa.stream import StreamingAnswer


def ingest(paths: Iterable[Path | str] | Path | str | None = None, *, settings: Settings | None = None,
           progress: Progress = None, prune: bool = False, add: bool = False,
           namespace: str = "") -> IngestReport:
    """Sync the index with the articles under ``paths`` (default: ``seeds/``) and report the counts.

    Files are ``.txt`` (``date YYYY-MM[-DD]`` first line), ``.md``, ``.html`` pages, and ``.jsonl``/``.csv``
    exports with ``title``, ``date``, ``text`` (and ``url``, ``source``) fields; folders are searched.
    Without ``add`` the index afterwards holds exactly these articles; with ``add=True`` the articles of
    other files stay. A run that would remove more than half of the index, or in which every file was
    skipped, is refused (``SyncRefused``, nothing written) unless ``prune=True``. ``progress``: a bar on
    the terminal (True/False), or a function called with (chunks written, chunks to write). ``namespace``
    (ending in ``/``) is put before the articles' ids, so same-named files from elsewhere never replace
    them: the chat page adds its uploads as ``upload/<file name>``.

    >>> ingest("seeds").summary()                    # one folder or file, or a list of them
    '5 added, 0 updated, 0 removed, 0 unchanged; 35 chunks in the index'
    >>> ingest(["seeds/000_8cb14d011a9db3eb.txt"], add=True).skipped   # what could not be used, and why
    ()
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).ingest(paths, progress=progress, prune=prune, add=add,
                                                   namespace=namespace)


def remove(article_ids: Iterable[str] | str, *, settings: Settings | None = None) -> list[str]:
    """Remove articles from the index by id (``ArticleInfo.id``); returns the ids that were in it.

    The files stay where they are: a later ``ingest`` of their folder adds them again.

    >>> remove(["003_0c5df4d7e626345f.txt", "kein_artikel.txt"])
    ['003_0c5df4d7e626345f.txt']
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).remove(article_ids)


def list_articles(*, settings: Settings | None = None) -> list[ArticleInfo]:
    """The articles in the index (id, title, date, file, chunks, url, source), newest first.

    >>> [(a.id, a.date) for a in list_articles()][:2]
    [('002_52fd73e0951e52b8.txt', '2021-12'), ('004_9f2cb45af6900b9b.txt', '2021-12')]
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).articles()


def article(article_id: str, *, settings: Settings | None = None) -> ArticleInfo | None:
    """One indexed article with its whole text (``ArticleInfo.text``); None when the index lacks it.

    >>> article("002_52fd73e0951e52b8.txt").title
    'Biden und Putin messen ihre Kräfte per Videokonferenz'
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).article(article_id)


def ask(question: str, *, mode: str | None = None, history: list[tuple[str, str]] | None = None,
        settings: Settings | None = None) -> Answer:
    """Answer ``question`` from the indexed articles, citing the German passages it rests on.

    ``history``: the conversation so far as (question, answer) pairs; a follow-up question is made
    standalone before retrieval (the earlier question's topic attached; rewritten by the language model
    only when that finds nothing). ``Answer.question`` holds the form that was answered.

    >>> answer = ask("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?")
    >>> answer.short, answer.citations[0].article
    ('70.000', '004_9f2cb45af6900b9b.txt')
    >>> ask("Wie hoch ist die Inflationsrate in Deutschland?").text
    'Dazu steht nichts in den Artikeln.'
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).ask(question, mode=mode, history=history)


def ask_stream(question: str, *, mode: str | None = None, history: list[tuple[str, str]] | None = None,
               settings: Settings | None = None) -> StreamingAnswer:
    """Like ``ask``, but the answer as it is written: iterate it for the text, then ``result()`` for the
    final, verified ``Answer``; ``draft`` holds the fast answer as soon as it is known (in LLM mode, before
    the model starts). Bad input raises here, before anything streams.

    The final text can differ from what streamed: markers are renumbered, and an answer that fails the
    check against its citations is replaced by the extractive one (``Answer.answerer`` says which).

    >>> with ask_stream("Um wie viel Uhr soll das Telefonat am 30. Dezember stattfinden?", mode="llm") as stream:
    ...     streamed = "".join(stream)           # shown as it comes
    ...     answer = stream.result()
    >>> "21:30" in stream.draft.text, answer.short in streamed, answer.answerer, len(answer.citations) > 0
    (True, True, 'llm', True)
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(_checked(settings)).ask_stream(question, mode=mode, history=history)


def _checked(settings: object) -> Settings | None:
    if settings is None or isinstance(settings, Settings):
        return settings
    raise ConfigError(f"settings must be a qa.Settings, e.g. Settings.from_env().with_(top_k=3), "
                      f"got {type(settings).__name__}")
