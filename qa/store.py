"""The chunk index in Chroma, through llama-index's ``ChromaVectorStore``.

Embedded (a ``PersistentClient`` under ``settings.index_dir``) by default; a Chroma server when
``QA_CHROMA_HOST``/``QA_CHROMA_PORT`` are set. Every chunk carries its article's fingerprint and chunk
count, so the index itself says which articles are complete and current: there is no side file that
could disagree with it. Each chunk record also carries its sentences (``qa.sentences``); the index folder
and the free disk are checked before Chroma touches them (``qa.index_folder``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from qa.chunking import Chunk
from qa.config import Settings
from qa.errors import QAError
from qa.imports import llama_index
from qa.index_folder import check_free_space, check_index_folder, write_error
from qa.lexical import LexicalLog, indexed_text
from qa.locking import FolderLocks, ServerLocks
from qa.sentences import SentenceCache, StoredSentence, join_sentences, pack_sentences, sentence_homes, unpack_sentences
from qa.tokens import german_stemmer, tokenize

_PAGE = 5000
_BOOKKEEPING = ["article", "date", "n", "start", "end", "fingerprint", "n_chunks", "url", "source", "file"]

log = logging.getLogger(__name__)


class Hit(NamedTuple):
    """A chunk a search found, with its score there (cosine, BM25, or a fused score)."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class ArticleVectors:
    """Everything written for one article: its chunks and its sentences, each with a vector; every sentence
    lies inside a chunk."""

    article_id: str
    fingerprint: str
    chunks: Sequence[Chunk]
    chunk_vectors: np.ndarray
    sentences: Sequence[tuple[int, int, str]] = ()   # (start, end, text) in the article's text
    sentence_vectors: np.ndarray | Sequence = ()
    file: str = ""   # the name of the file it was read from


@dataclass(frozen=True)
class ArticleInfo:
    """What the index holds of one article, as the article list shows it; ``text`` is None there, and the
    whole text in what ``ChunkStore.article`` returns."""

    id: str
    title: str
    date: str
    file: str
    chunks: int
    url: str = ""
    source: str = ""
    text: str | None = None

    def matches(self, words: str) -> bool:
        """Every word of ``words`` stands in the id, title, date, file, source or address (any case)."""
        seen = " ".join([self.id, self.title, self.date, self.file, self.source, self.url]).casefold()
        return all(word in seen for word in words.casefold().split())


@dataclass(frozen=True)
class ArticleState:
    """What the index holds of one article."""

    fingerprint: str
    expected: int   # chunks the article had when it was written
    present: int    # chunks found now; fewer means a write was interrupted

    @property
    def complete(self) -> bool:
        return self.present == self.expected


def collection_name(settings: Settings) -> str:
    """One collection per embedding model, so vectors of different models never mix."""
    model = re.sub(r"[^A-Za-z0-9]+", "-", settings.embed_model.rstrip("/").split("/")[-1]).strip("-")[:40]
    digest = hashlib.sha1(settings.embed_model.encode()).hexdigest()[:6]
    return f"{settings.collection}-{model}-{digest}"


class ChunkStore:
    """Reads and writes chunks with their vectors; opens its Chroma client lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = collection_name(settings)
        self._collection = None
        self._vector_store = None
        self._legacy = None
        self._lexical = None
        self._stemmer = None
        self._client = None
        self._batch = None
        self.locks = None
        self.generation = ""
        self._sentences = SentenceCache()

    @property
    def location(self) -> str:
        s = self.settings
        return f"Chroma server {s.chroma_host}:{s.chroma_port}" if s.server_mode else f"{s.index_dir}"

    def _open(self):
        s = self.settings
        try:
            if s.server_mode:
                import chromadb

                client = self._client or chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port)
                self.locks = self.locks or ServerLocks(client, self.name)
                generation = self.locks.generation()
                collection, sentences, lexical = self._collections(client)
            else:
                check_index_folder(s.index_dir, s.collection)
                self.locks = self.locks or FolderLocks(s.index_dir)
                generation = self.locks.generation()
                with self.locks.opening():
                    client = _embedded_client(s.index_dir, generation)
                    collection, sentences, lexical = self._collections(client)
        except QAError:
            raise
        except Exception as exc:
            hint = ("is `chroma run` listening there? unset QA_CHROMA_HOST to use the embedded index"
                    if s.server_mode else "is the folder writable and not used by another Chroma version?")
            raise QAError(f"cannot open the index at {self.location}: {exc} ({hint})") from exc
        self.generation = generation
        self._legacy = sentences
        self._lexical = LexicalLog(lexical)
        self._client = client
        self._collection = collection
        self._vector_store = None

    def _collections(self, client):
        """The chunk collection, the sentence collection of indexes written before sentences moved into the
        chunks (None when there is none; the next sync rewrites such an index) and the lexical log."""
        # Never let Chroma embed on its own: its default function downloads a model.
        chunks = client.get_or_create_collection(self.name, embedding_function=None, metadata={"hnsw:space": "cosine"})
        try:
            legacy = client.get_collection(self.name + "-s", embedding_function=None)
        except Exception:  # chromadb raises NotFoundError (a ValueError in older versions)
            legacy = None
        lexical = client.get_or_create_collection(self.name + "-lexical", embedding_function=None)
        return chunks, legacy, lexical

    def refresh(self) -> None:
        """Follow changes made by other processes: ``generation`` is the index's stamp after this.

        What is derived from the index (the retriever's BM25) compares the stamp and rebuilds itself.
        """
        if self._collection is None:
            self._open()
            return
        generation = self.locks.generation()
        if generation == self.generation:
            return
        if self.settings.server_mode:
            self.generation = generation
        else:  # this process's Chroma keeps the vector index in memory: open it again from disk
            client = _embedded_client(self.settings.index_dir, generation)
            if client is self._client:
                self.generation = generation
            else:
                self._client = None
                self._open()

    def _reopen(self) -> None:
        """Open the embedded index from disk again, in a new Chroma client."""
        _embedded_client(self.settings.index_dir, self.locks.generation(), fresh=True)
        self._client = None
        self._open()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Read a single, current state of the index inside (other processes' writes included)."""
        if self._collection is None:
            self._open()
        with self.locks.reading():
            self.refresh()
            yield

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The index's writer lock, for a whole sync; the index as the previous writer left it inside."""
        if self._collection is None:
            self._open()
        with self.locks.writer():
            self.refresh()
            self._lexical.forget()
            yield

    def _written(self) -> None:
        """After a batch: this store saw its own writes, so it needs no refresh for them."""
        self.generation = self.locks.generation()
        if not self.settings.server_mode:
            _embedded_client(self.settings.index_dir, self.generation, current=self._client)

    @property
    def collection(self):
        if self._collection is None:
            self._open()
        return self._collection

    @property
    def lexical_collection(self):
        """The lexical index's log (``qa.lexical``)."""
        if self._collection is None:
            self._open()
        return self._lexical.collection

    @property
    def vector_store(self):
        """llama-index's view of the chunk collection, built at the first search: an ingest never needs it
        (importing llama-index costs about a second and a half of a short ingest)."""
        if self._collection is None:
            self._open()
        if self._vector_store is None:
            chroma = llama_index("vector_stores.chroma")
            self._vector_store = chroma.ChromaVectorStore(chroma_collection=self._collection)
        return self._vector_store

    def count(self) -> int:
        return self.collection.count()

    def _pages(self, include: list[str], collection=None, where: dict | None = None):
        collection = collection or self.collection
        offset = 0
        while True:
            page = collection.get(include=include, where=where, limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def article_states(self) -> dict[str, ArticleState]:
        """Each article's fingerprint and chunk count as written (from its first chunk) and its chunks now.

        Reads the chunk ids and the first chunks' metadata only: every chunk's metadata carries its sentences
        and their vectors, and reading all of it took 15.6 s at 48k chunks. An article whose first chunk is
        missing counts as incomplete. A write deletes an article's chunks before it adds the new ones, so
        the chunks of two writes of one article never stand side by side.
        """
        heads = {meta["article"]: (meta["fingerprint"], meta["n_chunks"]) for meta in self._first_chunks()}
        return {article: ArticleState(*heads.get(article, ("", -1)), count)
                for article, count in self._chunk_counts().items()}

    def _chunk_counts(self) -> Counter[str]:
        """How many chunks each article has, from the chunk ids (``article#n``) alone."""
        return Counter(chunk_id.rpartition("#")[0] for page in self._pages([]) for chunk_id in page["ids"])

    def _first_chunks(self) -> Iterator[dict]:
        """The metadata of every article's first chunk."""
        for page in self._pages(["metadatas"], where={"n": 0}):
            yield from page["metadatas"]

    def write_many(self, batch: Iterable[ArticleVectors]) -> None:
        """Replace what the index holds of several articles: one delete, then one add for all of them.

        An article's full set of chunks (each carrying its sentences) is the mark that it is complete.
        """
        batch = list(batch)
        if not batch:
            return
        with self._batch_write():
            self._write(batch)

    def _write(self, batch: list[ArticleVectors]) -> None:
        self._remove([item.article_id for item in batch])
        records = []
        for item in batch:
            homes = sentence_homes(item.article_id, item.chunks, item.sentences, item.sentence_vectors)
            for chunk, vector, home in zip(item.chunks, item.chunk_vectors, homes, strict=True):
                meta = node_metadata(chunk, item)
                meta.update(pack_sentences(home, len(vector)))
                records.append((chunk.id, [float(x) for x in vector], chunk.text, meta))
        # The lexical segment goes first: the chunks are the mark that an article is complete.
        self._lexical.add([r[0] for r in records], [r[3]["article"] for r in records],
                          tokenize([indexed_text(r[3]["title"], r[2]) for r in records], self.stemmer))
        step = self._max_batch()
        for at in range(0, len(records), step):
            ids, vectors, texts, metas = zip(*records[at:at + step])
            self.collection.add(ids=list(ids), embeddings=list(vectors), documents=list(texts), metadatas=list(metas))
        if self._legacy is not None:  # this index was written before sentences moved into the chunks
            self._legacy.delete(where={"article": {"$in": [item.article_id for item in batch]}})

    def _max_batch(self) -> int:
        """Chroma refuses larger adds (the limit comes from its SQLite build or the server)."""
        if self._batch is None:
            self._batch = max(1, min(self._client.get_max_batch_size(), 5000))
        return self._batch

    def sentence_articles(self) -> set[str]:
        """Articles with sentences in the sentence collection of an older index, but perhaps no chunks."""
        if self._collection is None:
            self._open()
        if self._legacy is None:
            return set()
        return {m["article"] for page in self._pages(["metadatas"], self._legacy) for m in page["metadatas"]}

    def remove(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            with self._batch_write():
                self._remove(article_ids)

    def _remove(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            self._lexical.remove(list(article_ids))
            self.collection.delete(where={"article": {"$in": list(article_ids)}})
            if self._legacy is not None:
                self._legacy.delete(where={"article": {"$in": list(article_ids)}})

    @contextlib.contextmanager
    def _batch_write(self) -> Iterator[None]:
        """One batch under the batch lock; a full disk or a read-only folder said as such."""
        if self._collection is None:
            self._open()
        if not self.settings.server_mode:
            check_free_space(self.settings.index_dir)
        try:
            with self.locks.batch():
                yield
        except QAError:
            raise
        except Exception as exc:
            raise write_error(exc, self.settings) from exc
        finally:
            self._written()

    def sentence_vectors(self, article_ids: Iterable[str]) -> dict[str, list[StoredSentence]]:
        """The stored sentences of each article, in text order."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        return self._sentences_in(self.collection.get(where={"article": {"$in": ids}},
                                                      include=["documents", "metadatas"]), ids)

    def chunk_sentences(self, chunks: Iterable[Chunk]) -> dict[str, list[StoredSentence]]:
        """The stored sentences that lie in these chunks, by article, in text order.

        Read by chunk id: a chunk's own record and the two before it (a sentence is kept with the first chunk
        that holds it, and chunks overlap by a sentence), never by scanning the index for an article.
        """
        chunks = list(chunks)
        ids = sorted({f"{c.article_id}#{n}" for c in chunks for n in range(max(0, c.n - 2), c.n + 1)})
        if not ids:
            return {}
        records = self._sentences.get(ids, self.generation)
        missing = [i for i in ids if i not in records]
        if missing:
            got = self.collection.get(ids=missing, include=["documents", "metadatas"])
            read = {i: (None, []) for i in missing}  # ids past an article's last chunk stay absent
            for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                read[i] = (meta["article"], unpack_sentences(text, meta))
            records.update(read)
            self._sentences.put(read, self.generation)
        return self._grouped(records.values(), [c.article_id for c in chunks])

    def _sentences_in(self, got: dict, article_ids: Iterable[str]) -> dict[str, list]:
        """The sentences carried by the chunk records ``got``, by article (older indexes: from their own
        collection), in text order."""
        return self._grouped([(meta["article"], unpack_sentences(text, meta))
                              for text, meta in zip(got["documents"], got["metadatas"])], article_ids)

    def _grouped(self, records: Iterable[tuple[str | None, list]], article_ids: Iterable[str]) -> dict[str, list]:
        """(article, sentences) of chunk records gathered for ``article_ids`` (older indexes: from their own
        collection), in text order."""
        found: dict[str, list] = {a: [] for a in article_ids}
        for article, rows in records:
            if article in found:
                found[article].extend(rows)
        self._legacy_sentences([a for a, rows in found.items() if not rows], found, vectors=True)
        return {a: sorted(rows, key=lambda s: s.start) for a, rows in found.items()}

    def _legacy_sentences(self, article_ids: list[str], found: dict[str, list], *, vectors: bool) -> None:
        """Fill in the sentences of articles written by an older version (a sentence collection of their own)."""
        if not article_ids or self._legacy is None:
            return
        got = self._legacy.get(where={"article": {"$in": article_ids}},
                               include=["documents", "metadatas"] + (["embeddings"] if vectors else []))
        for i, (text, meta) in enumerate(zip(got["documents"], got["metadatas"])):
            vector = np.asarray(got["embeddings"][i], dtype=np.float32) if vectors else None
            found[meta["article"]].append(StoredSentence(int(meta["start"]), int(meta["end"]), text, vector))

    def articles(self) -> list[ArticleInfo]:
        """Every article in the index, newest first (then by title), without its text."""
        chunks = self._chunk_counts()
        found = sorted((ArticleInfo(**_info_fields(meta), chunks=chunks[meta["article"]])
                        for meta in self._first_chunks()), key=lambda a: (a.title.casefold(), a.id))
        return sorted(found, key=lambda a: a.date, reverse=True)  # stable: the titles' order stays within a date

    def article(self, article_id: str) -> ArticleInfo | None:
        """One article with its whole text, put together from its stored sentences; None when not indexed."""
        chunks = self.collection.get(where={"article": article_id}, include=["documents", "metadatas"])
        if not chunks["ids"]:
            return None
        found = {article_id: [row for text, meta in zip(chunks["documents"], chunks["metadatas"])
                              for row in unpack_sentences(text, meta, vectors=False)]}
        if not found[article_id]:
            self._legacy_sentences([article_id], found, vectors=False)
        rows = sorted((s.start, s.end, s.text) for s in found[article_id])
        return ArticleInfo(**_info_fields(chunks["metadatas"][0]), chunks=len(chunks["ids"]),
                           text=join_sentences(rows))

    @property
    def stemmer(self):
        if self._stemmer is None:
            self._stemmer = german_stemmer()
        return self._stemmer

    def chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """The chunks of these ids that the index holds, in the given order."""
        if not chunk_ids:
            return []
        got = self.collection.get(ids=list(chunk_ids), include=["documents", "metadatas"])
        found = {i: _chunk(i, doc, meta) for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return [found[i] for i in chunk_ids if i in found]

    def all_chunks(self) -> list[Chunk]:
        return [node_to_chunk(node) for node in self.all_nodes()]

    def all_nodes(self) -> list:
        """Every chunk as the llama-index node it was written as (for BM25 over the same texts)."""
        metadata_dict_to_node = llama_index("core.vector_stores.utils").metadata_dict_to_node
        return [metadata_dict_to_node(meta, text=doc) for page in self._pages(["documents", "metadatas"])
                for doc, meta in zip(page["documents"], page["metadatas"])]

    def search(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks nearest to ``vector``, with cosine similarity."""
        VectorStoreQuery = llama_index("core.vector_stores.types").VectorStoreQuery
        n = min(k, self.count())
        if n == 0:
            return []
        query = VectorStoreQuery(query_embedding=[float(x) for x in vector], similarity_top_k=n)
        try:
            result = self.vector_store.query(query)
        except Exception as exc:  # chromadb's InternalError
            if self.settings.server_mode or "hnsw segment reader" not in str(exc):
                raise
            # Chroma 1.5 may keep a vector-index reader that finds no files on disk, when it was opened
            # while another process was still writing them (its bug #4212): opened again, it reads them.
            log.info("reopening the index after %s", exc)
            self._reopen()
            result = self.vector_store.query(query)
        # llama-index reports exp(-distance); Chroma's cosine distance is 1 - cos, so cos = 1 + ln(score).
        return [Hit(node_to_chunk(node), 1.0 + math.log(score))
                for node, score in zip(result.nodes, result.similarities)]


def node_metadata(chunk: Chunk, item: ArticleVectors) -> dict:
    """A chunk's Chroma metadata as llama-index's ``ChromaVectorStore.add`` writes a ``TextNode`` (its
    ``node_to_metadata_dict(node, remove_text=True, flat_metadata=True)``), so that llama-index reads the
    chunk back as that node; built here so that an ingest need not import llama-index.
    ``tests/test_store.py`` holds it equal to llama-index's own.
    """
    metadata = {"article": item.article_id, "title": chunk.title, "date": chunk.date, "n": chunk.n,
                "start": chunk.start, "end": chunk.end, "fingerprint": item.fingerprint,
                "n_chunks": len(item.chunks), "url": chunk.url, "source": chunk.source,
                "file": item.file or item.article_id}
    node = {
        "id_": chunk.id, "embedding": None, "metadata": metadata,
        # BM25 reads the title with the text; the bookkeeping stays out of both.
        "excluded_embed_metadata_keys": _BOOKKEEPING, "excluded_llm_metadata_keys": _BOOKKEEPING,
        "relationships": {"1": {"node_id": item.article_id, "node_type": None, "metadata": {}, "hash": None,
                                "class_name": "RelatedNodeInfo"}},
        "metadata_template": "{key}: {value}", "metadata_separator": "\n", "text": "", "mimetype": "text/plain",
        "start_char_idx": None, "end_char_idx": None, "text_template": "{metadata_str}\n\n{content}",
        "class_name": "TextNode",
    }
    return {**metadata, "_node_content": json.dumps(node, ensure_ascii=False), "_node_type": "TextNode",
            "document_id": item.article_id, "doc_id": item.article_id, "ref_doc_id": item.article_id}


def node_to_chunk(node) -> Chunk:
    return _chunk(node.node_id, node.get_content(), node.metadata)


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(id=chunk_id, article_id=meta["article"], n=int(meta["n"]), text=text, start=int(meta["start"]),
                 end=int(meta["end"]), title=meta["title"], date=meta["date"], url=meta.get("url", ""),
                 source=meta.get("source", ""))


def _info_fields(meta: dict) -> dict:
    """An article's fields from one of its chunks' metadata (indexes written before url/source had none)."""
    return dict(id=meta["article"], title=meta["title"], date=meta["date"], file=meta.get("file", meta["article"]),
                url=meta.get("url", ""), source=meta.get("source", ""))


_clients: dict[str, tuple[str, object]] = {}   # index folder -> (generation it was opened at, client)
_retired: list = []
_clients_lock = threading.Lock()


def _embedded_client(folder: Path, generation: str, current=None, *, fresh: bool = False):
    """The process's client for ``folder``, opened again from disk when another process changed the index.

    Chroma shares one in-memory system per folder within a process, and that system does not see another
    process's writes to the vector index. ``current``: a writer's client, which saw its own writes.
    ``fresh``: a new client even if the stamp is unchanged.
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(folder)
    with _clients_lock:
        held = _clients.get(key)
        if current is not None:
            _clients[key] = (generation, current)
            return current
        if held and held[0] == generation and not fresh:
            return held[1]
        if held:
            system = SharedSystemClient._identifier_to_system.pop(key, None)
            SharedSystemClient._identifier_to_refcount.pop(key, None)
            _retired.append(system)  # a question may still be reading through it; stopped two changes later
            while len(_retired) > 2:
                old = _retired.pop(0)
                if old is not None:
                    with contextlib.suppress(Exception):
                        old.stop()
        client = chromadb.PersistentClient(path=key)
        _clients[key] = (generation, client)
        return client
