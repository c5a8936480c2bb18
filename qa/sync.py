"""Ingestion as a sync: make the index hold exactly the given articles, touching only what changed.

New articles are added, changed ones (other bytes, or other chunking/model settings) rewritten,
articles whose files are gone removed, and unchanged ones left alone. An article is written as one
delete-then-add of all its chunks, and the index records how many chunks each article should have:
a run killed halfway leaves at most a few articles incomplete, and the next run sees and rewrites them.

A sync never removes what it could not read: a file that is present but unreadable keeps what the index
holds of it, and a run in which every file was skipped, or which would remove more than half of the
index, stops before writing unless ``prune`` confirms it. One sync writes to an index at a time (the
index's writer lock); a second one waits for the first.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, Union

from qa.article_text import Article, Problem
from qa.articles import belongs_to, read_articles
from qa.chunking import Chunk, chunk_article, sentence_spans
from qa.config import Settings
from qa.embedding import Embedder
from qa.errors import ArticleError, SyncRefused
from qa.formats import FORMAT_NAMES
from qa.onnx_e5 import EXPORT_VERSION
from qa.store import ArticleVectors, ChunkStore

log = logging.getLogger(__name__)
_WRITE_BATCH_CHUNKS = 256
Progress = Union[bool, None, Callable[[int, int], None]]


@dataclass(frozen=True)
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0                      # chunks in the index after the run
    skipped: tuple[Problem, ...] = field(default_factory=tuple)
    removed_ids: tuple[str, ...] = ()    # the articles removed, by name

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        line = (f"{self.added} added, {self.updated} updated, {self.removed} removed, {self.unchanged} unchanged; "
                f"{self.chunks} chunks in the index")
        return line + (f"; {len(self.skipped)} skipped (files or records, listed above)" if self.skipped else "")


def fingerprint(article: Article, settings: Settings) -> str:
    """Changes when the file or anything that shapes its chunks or vectors changes."""
    backend = settings.embed_backend
    if backend == "onnx":  # a new export gives (slightly) other vectors
        backend += f"-export{EXPORT_VERSION}"
    recipe = (f"{article.sha256}|{settings.chunk_chars}|{settings.chunk_min_chars}|{settings.embed_model}"
              f"|{backend}|parser-1|chunker-1|sentences-3")
    return hashlib.sha256(recipe.encode()).hexdigest()[:32]


def sync(articles: Sequence[Article], store: ChunkStore, embedder: Embedder, settings: Settings, *,
         skipped: Sequence[Problem] = (), progress: Progress = None, prune: bool = False,
         only_if_empty: bool = False, add: bool = False, files: Sequence[str] = (),
         namespace: str = "") -> IngestReport:
    """Bring ``store`` in line with ``articles``; files in ``skipped`` keep what the index has of them.

    ``prune``: allow a run that removes more than half of the index. ``only_if_empty``: sync only when
    the index is empty once the writer lock is held (the first use of the default index). ``add``: keep
    the articles of files other than ``files`` (the names of the files read); each of ``files`` still
    replaces what the index held of it, so a record deleted from an export goes. ``progress``: a bar on
    the terminal (True/False/None for "when stderr is one") showing articles/s and the time left, or a
    function called with (articles written, articles to write). ``namespace``: the prefix of the articles'
    ids and of ``files`` (see ``ingest_paths``).
    """
    with store.writing():
        if only_if_empty and store.count():
            return IngestReport(chunks=store.count())
        states = store.article_states()
        wanted = {a.id for a in articles}
        # Only articles of this sync's namespace are its own to remove: a folder's sync leaves the chat
        # page's uploads alone, and an upload every other article.
        held = {a for a in set(states) | store.sentence_articles() if namespace_of(a) == namespace}
        if add:
            held = {a for a in held if any(belongs_to(a, name) for name in files)}
        # A file unreadable now is not gone: losing its chunks helps nobody. A record skipped from a file
        # that was read is: what the file holds now is all of it.
        unread = [namespace + p.path.name for p in skipped if not p.record]
        gone = sorted(a for a in held - wanted if not any(belongs_to(a, name) for name in unread))
        if not prune and not add:
            _refuse_unconfirmed_removal(articles, skipped, held, gone, settings)
        store.remove(gone)

        todo: list[tuple[Article, str]] = []
        added = updated = unchanged = 0
        for article in articles:
            fp = fingerprint(article, settings)
            state = states.get(article.id)
            if state and state.complete and state.fingerprint == fp:
                unchanged += 1
                continue
            added, updated = (added, updated + 1) if state else (added + 1, updated)
            todo.append((article, fp))

        _embed_and_write(todo, store, embedder, settings, progress)
        return IngestReport(added=added, updated=updated, removed=len(gone), unchanged=unchanged,
                            chunks=store.count(), skipped=tuple(skipped), removed_ids=tuple(gone))


def namespace_of(article_id: str) -> str:
    """The namespace an article was ingested in: its id up to the last ``/`` ("" for none)."""
    return article_id[:article_id.rfind("/") + 1]


def _refuse_unconfirmed_removal(articles, skipped, held: set[str], gone: list[str], settings: Settings) -> None:
    """``SyncRefused`` when the run looks like a mistake: nothing readable, or most of the index going.

    The seed articles do not count: replacing the default index's seeds with one's own articles is the
    expected first sync.
    """
    seeds = {p.name for p in settings.seeds_dir.glob("*.txt")} if settings.seeds_dir.is_dir() else set()
    at_stake = [a for a in gone if a not in seeds]
    own = len(held - seeds)
    if not at_stake:
        return
    if not articles and skipped:
        reasons = "; ".join(str(p) for p in list(skipped)[:3]) + (" …" if len(skipped) > 3 else "")
        raise SyncRefused(f"every file was skipped ({reasons}), so this run would remove all {len(at_stake)} "
                          "articles of the index; nothing was changed. Fix the files, or pass --prune "
                          "(prune=True) to remove them")
    if len(at_stake) > own / 2:
        names = ", ".join(at_stake[:5]) + (f" and {len(at_stake) - 5} more" if len(at_stake) > 5 else "")
        raise SyncRefused(f"this run would remove {len(at_stake)} of the index's {own} articles ({names}), "
                          "because their files are not among the ones given; nothing was changed. Give all "
                          "the folders of the index, or pass --prune (prune=True) to remove them")


def _embed_and_write(todo: list[tuple[Article, str]], store: ChunkStore, embedder: Embedder, settings: Settings,
                     progress: Progress) -> None:
    """Chunk, embed and write the articles in batches of about ``_WRITE_BATCH_CHUNKS`` chunks, each batch
    written as soon as it is embedded: what is held at once is one batch, whatever the archive's size."""
    from tqdm import tqdm

    report = progress if callable(progress) else None
    show = sys.stderr.isatty() if progress is None else progress is True
    chunks = 0
    def written(batch) -> None:
        nonlocal chunks
        chunks += sum(len(c) for _, _, c in batch)
        bar.set_postfix_str(f"{chunks} chunks", refresh=False)
        bar.update(len(batch))
        if report:
            report(bar.n, len(todo))

    # A batch is written on a thread of its own while the next one is embedded (Chroma's add and the
    # lexical segment were an eighth of an ingest with both cores waiting). One write at a time, in order,
    # and at most one embedded batch waits for it: memory stays two batches. A failed write stops the run
    # before the next batch is handed over.
    with tqdm(total=len(todo), unit="article", desc="Indexing", disable=not show or len(todo) < 5,
              smoothing=0.1) as bar, ThreadPoolExecutor(1, thread_name_prefix="qa-write") as writer:
        if report:
            report(0, len(todo))
        pending: tuple[Future, list] | None = None
        for batch in _batches(todo, settings):
            vectors = _vectors_for(batch, embedder)
            if pending:
                pending[0].result()
                written(pending[1])
            pending = (writer.submit(store.write_many, vectors), batch)
        if pending:
            pending[0].result()
            written(pending[1])


def _batches(todo: list[tuple[Article, str]], settings: Settings) -> Iterator[list[tuple[Article, str, list[Chunk]]]]:
    """The articles with their chunks, in groups of at least ``_WRITE_BATCH_CHUNKS`` chunks (the last one
    smaller); an article is chunked only when its group is next."""
    batch, size = [], 0
    for article, fp in todo:
        chunks = chunk_article(article, settings.chunk_chars, settings.chunk_min_chars)
        batch.append((article, fp, chunks))
        size += len(chunks)
        if size >= _WRITE_BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _vectors_for(batch, embedder: Embedder) -> list[ArticleVectors]:
    """One pass of the model over the batch's chunks: each chunk's vector, and its sentences' vectors pooled
    from the chunk's token states. A sentence belongs to the first chunk that holds it."""
    texts, spans, layout = [], [], []
    for article, _, chunks in batch:
        todo = sentence_spans(article.text)
        homes = []
        for chunk in chunks:
            mine = [(s, e) for s, e in todo if chunk.start <= s and e <= chunk.end]
            todo = [span for span in todo if span not in mine]
            texts.append(chunk.text)
            spans.append([(s - chunk.start, e - chunk.start) for s, e in mine])
            homes.append(mine)
        layout.append(homes)
    chunk_vectors, sentence_vectors = embedder.embed_chunks(texts, spans)
    out, at = [], 0
    for (article, fp, chunks), homes in zip(batch, layout):
        sentences = [(s, e, article.text[s:e]) for mine in homes for s, e in mine]
        vectors = [v for i in range(len(chunks)) for v in sentence_vectors[at + i]]
        out.append(ArticleVectors(article.id, fp, chunks, chunk_vectors[at:at + len(chunks)], sentences, vectors,
                                  file=article.path.name))
        at += len(chunks)
    return out


def ingest_paths(paths: Iterable[Path | str] | Path | str, store: ChunkStore, embedder: Embedder, settings: Settings, *,
                 progress: Progress = None, prune: bool = False, only_if_empty: bool = False,
                 add: bool = False, namespace: str = "") -> IngestReport:
    """Read the articles under ``paths`` (one path, or several; a missing path raises before the index is
    touched), then sync.

    ``add``: the articles of other files stay in the index (``sync``). ``namespace``: put before every
    article id, so these files' articles never meet those of same-named files from elsewhere (the chat
    page's uploads are ``"upload/"``: a file name holds no ``/``, so no folder's article can collide).
    """
    if namespace and not namespace.endswith("/"):
        raise ValueError(f"a namespace ends with '/', got {namespace!r}")
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)   # one path, not its characters
    if not paths:
        raise ArticleError("no paths given; name the files or folders of articles to index")
    articles, problems = read_articles(paths)
    if not articles and not problems:
        raise ArticleError(f"no articles (files of the kinds {FORMAT_NAMES}) found in "
                           f"{', '.join(map(str, paths))}; the index was left as it was")
    for problem in problems:
        log.warning("skipped %s", problem)
    files = sorted(namespace + name for name in {a.path.name for a in articles} | {p.path.name for p in problems})
    if namespace:
        articles = [replace(a, id=namespace + a.id) for a in articles]
    return sync(articles, store, embedder, settings, skipped=problems, progress=progress, prune=prune,
                only_if_empty=only_if_empty, add=add, files=files, namespace=namespace)
