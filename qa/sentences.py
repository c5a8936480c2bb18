"""The sentences stored with their chunks: how they are packed into a chunk record and read back, and a cache
of the records read lately.

A chunk's metadata also holds its sentences (those not already in an earlier chunk of the article): their
offsets in the article and their vectors (float16, base64). Kept out of the llama-index node, so they are
stored once. Chroma itself is read and written by ``qa.store``.
"""

from __future__ import annotations

import base64
import threading
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from qa.chunking import Chunk

SENTENCES, SENTENCE_VECTORS = "sentences", "sentence_vectors"
SENTENCE_CACHE_RECORDS = 4096   # about 8 KB each (five sentences' vectors): some 30 MB at most


class StoredSentence(NamedTuple):
    """A sentence as the index holds it: where it stands in its article's text, its text, its vector (None
    where it was read without)."""

    start: int
    end: int
    text: str
    vector: np.ndarray | None


def sentence_homes(article_id: str, chunks: Sequence[Chunk], sentences: Sequence[tuple[int, int, str]],
                   vectors: np.ndarray | Sequence) -> list[list[tuple[int, int, np.ndarray]]]:
    """Each chunk's sentences, (start, end, vector), every sentence in the first chunk that holds it."""
    homes: list[list] = [[] for _ in chunks]
    for (start, end, _), vector in zip(sentences, vectors, strict=True):
        home = next((i for i, c in enumerate(chunks) if c.start <= start and end <= c.end), None)
        if home is None:
            raise ValueError(f"{article_id}: the sentence at {start}:{end} lies in no chunk")
        homes[home].append((start, end, vector))
    return homes


def pack_sentences(home: list[tuple[int, int, np.ndarray]], dimension: int) -> dict[str, str]:
    """The metadata fields that carry a chunk's sentences (``sentence_homes``) in its record."""
    return {SENTENCES: ";".join(f"{start}:{end}" for start, end, _ in home),
            SENTENCE_VECTORS: _pack([v for _, _, v in home], dimension)}


def _pack(vectors: list[np.ndarray], dimension: int) -> str:
    array = np.asarray(vectors, dtype=np.float16).reshape(len(vectors), dimension)
    return base64.b64encode(array.tobytes()).decode("ascii")


def unpack_sentences(text: str, meta: dict, *, vectors: bool = True) -> list[StoredSentence]:
    """The sentences a chunk carries, from its text and metadata."""
    spans = [tuple(map(int, pair.split(":"))) for pair in meta.get(SENTENCES, "").split(";") if pair]
    if not spans:
        return []
    offset = int(meta["start"])
    found = None
    if vectors:
        found = np.frombuffer(base64.b64decode(meta[SENTENCE_VECTORS]), dtype=np.float16)
        found = found.reshape(len(spans), -1).astype(np.float32)
    return [StoredSentence(start, end, text[start - offset:end - offset], None if found is None else found[i])
            for i, (start, end) in enumerate(spans)]


def join_sentences(sentences: Iterable[tuple[int, int, str]]) -> str:
    """The article's text from its sentences and their offsets: in an article's clean text sentences are
    separated by one space within a paragraph and by a blank line between paragraphs."""
    out, at = [], None
    for start, end, text in sentences:
        if at is not None:
            out.append("\n\n" if start - at >= 2 else " ")
        out.append(text)
        at = end
    return "".join(out)


class SentenceCache:
    """Decoded sentences of chunk records read lately, for the index's generation they were read at:
    retrieval ranks its candidates by their sentences and the answerer reads the same records again."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[str | None, list[StoredSentence]]] = {}
        self._generation = ""
        self._lock = threading.Lock()

    def get(self, chunk_ids: Iterable[str], generation: str) -> dict[str, tuple[str | None, list[StoredSentence]]]:
        """(article, sentences) of the records of ``chunk_ids`` held for ``generation``; a new generation
        empties the cache."""
        with self._lock:
            if self._generation != generation:
                self._records.clear()
                self._generation = generation
            return {i: self._records[i] for i in chunk_ids if i in self._records}

    def put(self, read: dict[str, tuple[str | None, list[StoredSentence]]], generation: str) -> None:
        """Keep records read at ``generation`` (not when the index has changed since), the oldest leaving first."""
        with self._lock:
            if self._generation == generation:
                self._records.update(read)
                while len(self._records) > SENTENCE_CACHE_RECORDS:
                    self._records.pop(next(iter(self._records)))
