"""The public functions: what the CLI, the app and Python users call."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from qa.answer import Answer
from qa.config import Settings
from qa.sync import IngestReport


def ingest(paths: Iterable[Path | str] | None = None, *, settings: Settings | None = None,
           progress: bool | None = None) -> IngestReport:
    """Sync the index with the articles under ``paths`` (default: ``seeds/``) and report the counts.

    >>> ingest(["my/articles"]).added
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(settings).ingest(paths, progress=progress)


def ask(question: str, *, mode: str | None = None, history: list[tuple[str, str]] | None = None,
        settings: Settings | None = None) -> Answer:
    """Answer ``question`` from the indexed articles, citing the German passages it rests on.

    >>> ask("Wie viele Soldaten hat Russland an der Grenze zusammengezogen?").text
    """
    from qa.errors import QuestionError
    from qa.pipeline import pipeline_for

    if history:
        # Follow-up questions need the condensing step of the chat answerer; answering without the
        # conversation would silently answer a different question.
        raise QuestionError("follow-up questions (history=...) are not supported yet; ask a standalone question")
    return pipeline_for(settings).ask(question, mode=mode)
