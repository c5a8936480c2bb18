"""Ingestion as a sync: make the index hold exactly the given articles, touching only what changed.

New articles are added, changed ones (other bytes, or other chunking/model settings) rewritten,
articles whose files are gone removed, and unchanged ones left alone. An article is written as one
delete-then-add of all its chunks, and the index records how many chunks each article should have:
a run killed halfway leaves at most a few articles incomplete, and the next run sees and rewrites them.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from qa.articles import Article, Problem, read_articles
from qa.chunking import Chunk, chunk_article, sentence_spans
from qa.config import Settings
from qa.errors import ArticleError
from qa.embedding import Embedder
from qa.store import ArticleVectors, ChunkStore

log = logging.getLogger(__name__)
_WRITE_BATCH_CHUNKS = 256


@dataclass(frozen=True)
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0                      # chunks in the index after the run
    skipped: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        line = (f"{self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged; "
                f"{self.chunks} chunks in the index")
        return line + (f"; {len(self.skipped)} file(s) skipped" if self.skipped else "")


def fingerprint(article: Article, settings: Settings) -> str:
    """Changes when the file or anything that shapes its chunks or vectors changes."""
    recipe = (f"{article.sha256}|{settings.chunk_chars}|{settings.chunk_min_chars}|{settings.embed_model}"
              "|parser-1|chunker-1|sentences-1")
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def sync(articles: Sequence[Article], store: ChunkStore, embedder: Embedder, settings: Settings, *,
         skipped: Sequence[Problem] = (), progress: bool | None = None) -> IngestReport:
    """Bring ``store`` in line with ``articles``; files in ``skipped`` keep what the index has of them."""
    states = store.article_states()
    wanted = {a.id for a in articles}
    kept = {p.path.name for p in skipped}  # unreadable now, but not gone: losing their chunks helps nobody
    gone = sorted((set(states) | store.sentence_articles()) - wanted - kept)
    store.remove(gone)

    todo: list[tuple[Article, str, list[Chunk]]] = []
    added = updated = unchanged = 0
    for article in articles:
        fp = fingerprint(article, settings)
        state = states.get(article.id)
        if state and state.complete and state.fingerprint == fp:
            unchanged += 1
            continue
        added, updated = (added, updated + 1) if state else (added + 1, updated)
        todo.append((article, fp, chunk_article(article, settings.chunk_chars, settings.chunk_min_chars)))

    _embed_and_write(todo, store, embedder, progress)
    return IngestReport(added=added, updated=updated, removed=len(gone), unchanged=unchanged,
                        chunks=store.count(), skipped=tuple(skipped))


def _embed_and_write(todo, store: ChunkStore, embedder: Embedder, progress: bool | None) -> None:
    """Embed chunks and sentences in batches of articles, and write each batch as soon as it is embedded."""
    from tqdm import tqdm

    total = sum(len(chunks) for _, _, chunks in todo)
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=total, unit="chunk", desc="Indexing", disable=not show or total < 50) as bar:
        batch: list[tuple[Article, str, list[Chunk]]] = []
        size = 0
        for i, item in enumerate(todo):
            batch.append(item)
            size += len(item[2])
            if i == len(todo) - 1 or size >= _WRITE_BATCH_CHUNKS:
                store.write_many(_vectors_for(batch, embedder))
                bar.update(size)
                batch, size = [], 0


def _vectors_for(batch, embedder: Embedder) -> list[ArticleVectors]:
    sentences = [[(s, e, article.text[s:e]) for s, e in sentence_spans(article.text)] for article, _, _ in batch]
    texts = [c.text for _, _, chunks in batch for c in chunks] + [t for spans in sentences for _, _, t in spans]
    vectors = iter(embedder.embed_passages(texts))
    chunk_vectors = [[next(vectors) for _ in chunks] for _, _, chunks in batch]
    return [ArticleVectors(article.id, fp, chunks, cv, spans, [next(vectors) for _ in spans])
            for (article, fp, chunks), cv, spans in zip(batch, chunk_vectors, sentences)]


def ingest_paths(paths: Iterable[Path | str], store: ChunkStore, embedder: Embedder, settings: Settings, *,
                 progress: bool | None = None) -> IngestReport:
    """Read the articles under ``paths`` (a missing path raises before the index is touched), then sync."""
    paths = list(paths)
    if not paths:
        raise ArticleError("no paths given; name the files or folders of articles to index")
    articles, problems = read_articles(paths)
    if not articles and not problems:
        raise ArticleError(f"no .txt articles found in {', '.join(map(str, paths))}; the index was left as it was")
    for problem in problems:
        log.warning("skipped %s", problem)
    return sync(articles, store, embedder, settings, skipped=problems, progress=progress)
