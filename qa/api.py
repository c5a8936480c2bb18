"""The public functions: what the CLI, the app and Python users call."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from qa.config import Settings
from qa.sync import IngestReport


def ingest(paths: Iterable[Path | str] | None = None, *, settings: Settings | None = None,
           progress: bool | None = None) -> IngestReport:
    """Sync the index with the articles under ``paths`` (default: ``seeds/``) and report the counts.

    >>> ingest(["my/articles"]).added
    """
    from qa.pipeline import pipeline_for

    return pipeline_for(settings).ingest(paths, progress=progress)
