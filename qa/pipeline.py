"""The parts of the pipeline for one ``Settings``, built once and reused by every call."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Iterable

from qa.answer import Answer
from qa.config import MODES, Settings
from qa.errors import QuestionError
from qa.questions import clean_question, language_of
from qa.embedding import Embedder, quiet_model_logs
from qa.sync import IngestReport, ingest_paths
from qa.store import ChunkStore


class Pipeline:
    """Holds the embedder and the store; models and clients load on first use, not here."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        quiet_model_logs()
        self.settings = settings
        if embedder is not None:
            self.__dict__["embedder"] = embedder  # a model already loaded elsewhere (tests, benchmarks)
        self._ingest_lock = threading.Lock()
        self._indexed = False

    @cached_property
    def embedder(self) -> Embedder:
        return _shared_embedder(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        return ChunkStore(self.settings)

    @cached_property
    def retriever(self):
        from qa.retrieval import Retriever

        return Retriever(self.store, self.embedder, method="hybrid", top_k=self.settings.top_k)

    @cached_property
    def extractive(self):
        from qa.extractive import ExtractiveAnswerer

        return ExtractiveAnswerer(self.store)

    def ask(self, question: str, *, mode: str | None = None) -> Answer:
        """Retrieve passages for ``question`` and answer it with the answerer of ``mode``."""
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QuestionError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        question = clean_question(question, self.settings.max_question_chars)
        self.ensure_index()
        vector = self.embedder.embed_query(question)
        passages = self.retriever.retrieve(question, vector)
        return self.extractive.answer(question, vector, passages, language_of(question))

    def ingest(self, paths: Iterable[Path | str] | None = None, *, progress: bool | None = None) -> IngestReport:
        with self._ingest_lock:
            paths = [self.settings.seeds_dir] if paths is None else paths
            report = ingest_paths(paths, self.store, self.embedder, self.settings, progress=progress)
        if report.changed and "retriever" in self.__dict__:
            self.retriever.invalidate()
        return report

    def ensure_index(self) -> None:
        """On a fresh checkout, build the default index from the seed articles."""
        if self._indexed:
            return
        with self._ingest_lock:
            empty = self.store.count() == 0
        if empty:
            self.ingest()
        self._indexed = True


_pipelines: OrderedDict[Settings, Pipeline] = OrderedDict()
_MAX_PIPELINES = 4  # each holds a Chroma client and a BM25 index
_embedders: dict[tuple, Embedder] = {}
_lock = threading.Lock()


def _shared_embedder(settings: Settings) -> Embedder:
    """Pipelines that differ only in index or chunking share one loaded model (~0.5 GB each)."""
    key = (settings.embed_model, settings.cache_dir, settings.embed_batch)
    with _lock:
        if key not in _embedders:
            _embedders[key] = Embedder(settings.embed_model, cache_dir=settings.cache_dir,
                                       batch_size=settings.embed_batch)
        return _embedders[key]


def pipeline_for(settings: Settings | None = None) -> Pipeline:
    """The shared pipeline for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    with _lock:
        if settings not in _pipelines:
            _pipelines[settings] = Pipeline(settings)
            while len(_pipelines) > _MAX_PIPELINES:
                _pipelines.popitem(last=False)
        _pipelines.move_to_end(settings)
        return _pipelines[settings]
