"""The chunk index in Chroma, through llama-index's ``ChromaVectorStore``.

Embedded (a ``PersistentClient`` under ``settings.index_dir``) by default; a Chroma server when
``QA_CHROMA_HOST``/``QA_CHROMA_PORT`` are set. Every chunk carries its article's fingerprint and chunk
count, so the index itself says which articles are complete and current: there is no side file that
could disagree with it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from qa.chunking import Chunk
from qa.config import Settings
from qa.errors import QAError

_PAGE = 5000
_BOOKKEEPING = ["article", "date", "n", "start", "end", "fingerprint", "n_chunks"]


@dataclass(frozen=True)
class ArticleVectors:
    """Everything written for one article: its chunks and its sentences, each with a vector."""

    article_id: str
    fingerprint: str
    chunks: Sequence[Chunk]
    chunk_vectors: np.ndarray
    sentences: Sequence[tuple[int, int, str]] = ()   # (start, end, text) in the article's text
    sentence_vectors: np.ndarray | Sequence = ()


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
        self._sentences = None
        self._client = None
        self._batch = None

    @property
    def location(self) -> str:
        s = self.settings
        return f"Chroma server {s.chroma_host}:{s.chroma_port}" if s.server_mode else f"{s.index_dir}"

    def _open(self):
        import chromadb
        from llama_index.vector_stores.chroma import ChromaVectorStore

        s = self.settings
        try:
            if s.server_mode:
                client = chromadb.HttpClient(host=s.chroma_host, port=s.chroma_port)
            else:
                s.index_dir.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(s.index_dir))
            # Never let Chroma embed on its own: its default function downloads a model.
            collection = client.get_or_create_collection(self.name, embedding_function=None,
                                                         metadata={"hnsw:space": "cosine"})
            sentences = client.get_or_create_collection(self.name + "-s", embedding_function=None,
                                                        metadata={"hnsw:space": "cosine"})
        except QAError:
            raise
        except Exception as exc:
            hint = ("is `chroma run` listening there? unset QA_CHROMA_HOST to use the embedded index"
                    if s.server_mode else "is the folder writable and not used by another Chroma version?")
            raise QAError(f"cannot open the index at {self.location}: {exc} ({hint})") from exc
        self._sentences = sentences
        self._client = client
        self._collection = collection
        self._vector_store = ChromaVectorStore(chroma_collection=collection)

    @property
    def collection(self):
        if self._collection is None:
            self._open()
        return self._collection

    @property
    def sentence_collection(self):
        """Every sentence with its own vector: the answerer picks the sentence that answers."""
        if self._collection is None:
            self._open()
        return self._sentences

    @property
    def vector_store(self):
        if self._vector_store is None:
            self._open()
        return self._vector_store

    def count(self) -> int:
        return self.collection.count()

    def _pages(self, include: list[str], collection=None):
        collection = collection or self.collection
        offset = 0
        while True:
            page = collection.get(include=include, limit=_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def article_states(self) -> dict[str, ArticleState]:
        found: dict[str, list] = {}
        for page in self._pages(["metadatas"]):
            for meta in page["metadatas"]:
                entry = found.setdefault(meta["article"], [meta["fingerprint"], meta["n_chunks"], 0, True])
                entry[2] += 1
                entry[3] = entry[3] and meta["fingerprint"] == entry[0]
        # Chunks from two different writes of one article count as incomplete.
        return {a: ArticleState(fp, expected, present if same else -1)
                for a, (fp, expected, present, same) in found.items()}

    def write_many(self, batch: Iterable[ArticleVectors]) -> None:
        """Replace what the index holds of several articles: one delete, then one add for all of them.

        Sentences are written before chunks: an article's full set of chunks is the mark that it is complete.
        """
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        batch = list(batch)
        if not batch:
            return
        self.remove([item.article_id for item in batch])
        sentences = [(item.article_id, span, vector) for item in batch
                     for span, vector in zip(item.sentences, item.sentence_vectors, strict=True)]
        step = self._max_batch()
        for at in range(0, len(sentences), step):
            part = sentences[at:at + step]
            self.sentence_collection.add(
                ids=[f"{a}@{start}" for a, (start, _, _), _ in part],
                embeddings=[v for _, _, v in part],
                documents=[text for _, (_, _, text), _ in part],
                metadatas=[{"article": a, "start": start, "end": end} for a, (start, end, _), _ in part])
        nodes = []
        for item in batch:
            for chunk, vector in zip(item.chunks, item.chunk_vectors, strict=True):
                nodes.append(TextNode(
                    id_=chunk.id, text=chunk.text, embedding=[float(x) for x in vector],
                    metadata={"article": item.article_id, "title": chunk.title, "date": chunk.date, "n": chunk.n,
                              "start": chunk.start, "end": chunk.end, "fingerprint": item.fingerprint,
                              "n_chunks": len(item.chunks)},
                    # BM25 reads the title with the text; the bookkeeping stays out of both.
                    excluded_embed_metadata_keys=_BOOKKEEPING, excluded_llm_metadata_keys=_BOOKKEEPING,
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=item.article_id)}))
        for at in range(0, len(nodes), step):
            self.vector_store.add(nodes[at:at + step])

    def _max_batch(self) -> int:
        """Chroma refuses larger adds (the limit comes from its SQLite build or the server)."""
        if self._batch is None:
            self._batch = max(1, min(self._client.get_max_batch_size(), 5000))
        return self._batch

    def sentence_articles(self) -> set[str]:
        """Articles that have sentences stored: after a crash these can outnumber those with chunks."""
        return {m["article"] for page in self._pages(["metadatas"], self.sentence_collection)
                for m in page["metadatas"]}

    def remove(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            self.collection.delete(where={"article": {"$in": list(article_ids)}})
            self.sentence_collection.delete(where={"article": {"$in": list(article_ids)}})

    def sentence_vectors(self, article_ids: Iterable[str]) -> dict[str, list[tuple[int, int, str, np.ndarray]]]:
        """The stored sentences (start, end, text, vector) of each article, in text order."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        got = self.sentence_collection.get(where={"article": {"$in": ids}},
                                           include=["embeddings", "documents", "metadatas"])
        found: dict[str, list] = {a: [] for a in ids}
        for text, meta, vector in zip(got["documents"], got["metadatas"], got["embeddings"]):
            found[meta["article"]].append((int(meta["start"]), int(meta["end"]), text,
                                           np.asarray(vector, dtype=np.float32)))
        return {a: sorted(rows, key=lambda r: r[0]) for a, rows in found.items()}

    def all_chunks(self) -> list[Chunk]:
        return [node_to_chunk(node) for node in self.all_nodes()]

    def all_nodes(self) -> list:
        """Every chunk as the llama-index node it was written as (for BM25 over the same texts)."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        return [metadata_dict_to_node(meta, text=doc) for page in self._pages(["documents", "metadatas"])
                for doc, meta in zip(page["documents"], page["metadatas"])]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The ``k`` chunks nearest to ``vector``, with cosine similarity."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        n = min(k, self.count())
        if n == 0:
            return []
        result = self.vector_store.query(VectorStoreQuery(query_embedding=[float(x) for x in vector],
                                                          similarity_top_k=n))
        # llama-index reports exp(-distance); Chroma's cosine distance is 1 - cos, so cos = 1 + ln(score).
        return [(node_to_chunk(node), 1.0 + math.log(score))
                for node, score in zip(result.nodes, result.similarities)]


def node_to_chunk(node) -> Chunk:
    return _chunk(node.node_id, node.get_content(), node.metadata)


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(id=chunk_id, article_id=meta["article"], n=int(meta["n"]), text=text, start=int(meta["start"]),
                 end=int(meta["end"]), title=meta["title"], date=meta["date"])
