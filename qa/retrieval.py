"""Hybrid retrieval: dense search in Chroma and German BM25, fused into one ranking, near-duplicates collapsed.

The fusion is a convex combination of scores (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid
Retrieval"), not of ranks: each search's scores are min-max scaled over the question's candidates, and a
chunk's fused score is ``w_dense × dense + (1 − w_dense) × BM25 + w_sentences × best sentence``. Reciprocal
rank fusion turned a cosine near-tie (chunks of one story lie within a few thousandths) into a whole rank
step; scaled scores keep a near-tie near.

The third voice: the candidates of both searches scored by their best sentence (the stored sentence vectors
against the question). A chunk's vector averages five or six sentences, so among chunks of one topic (a news
story told by several agencies) it hardly tells which holds the asked detail; the best sentence does. Both
weights are fitted (``Calibration.w_dense``, ``Calibration.w_sentences``, ``eval/calibrate.py``).

News agencies repeat the same sentences across articles; a collapsed hit keeps every chunk (and so every
article) it stands for, so the top-k shows different passages and the answer can cite every source.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

import numpy as np

from qa.chunking import Chunk
from qa.embedding import Embedder
from qa.imports import llama_index
from qa.lexical import LexicalIndex, noun_stems
from qa.store import ChunkStore, Hit
from qa.tokens import german_stemmer, tokenize

METHODS = ("hybrid", "dense", "bm25")
DUPLICATE_CONTAINMENT = 0.6  # share of the smaller passage's word trigrams found in the larger one


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, with the near-duplicate chunks folded into it."""

    chunk: Chunk
    score: float
    duplicates: tuple[Chunk, ...] = ()

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return (self.chunk, *self.duplicates)


class Retriever:
    """``retrieve(question)`` -> the top passages. Its BM25 index follows the store's lexical log (``qa.lexical``)."""

    def __init__(self, store: ChunkStore, embedder: Embedder, *, method: str = "hybrid", top_k: int = 5,
                 candidates: int = 20, dense_weight: float = 0.5, sentence_weight: float = 0.0) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if top_k <= 0:
            raise ValueError(f"top_k must be greater than 0, got {top_k}")
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be between 0 and 1 (BM25 weighs the rest), got {dense_weight}")
        if sentence_weight < 0:
            raise ValueError(f"sentence_weight must be 0 or more, got {sentence_weight}")
        self.store, self.embedder = store, embedder
        self.method, self.top_k, self.candidates = method, top_k, max(candidates, top_k)
        self.dense_weight = dense_weight
        self.sentence_weight = sentence_weight if method == "hybrid" else 0.0
        self._bm25 = LexicalIndex()
        self._bm25_state: str | None = None
        self._stemmer = german_stemmer()
        self._lock = threading.Lock()

    def retrieve(self, question: str, query_vector: np.ndarray | None = None) -> list[Passage]:
        return self.fuse(self.rankings(question, query_vector))

    def rankings(self, question: str, query_vector: np.ndarray | None = None) -> list[list[Hit]]:
        """The method's searches, each its candidates with their scores, best first: dense (cosine), BM25,
        and for hybrid retrieval with a sentence weight the candidates of both by their best sentence."""
        ranked: list[list[Hit]] = []
        if self.method in ("hybrid", "dense"):
            vector = self.embedder.embed_query(question) if query_vector is None else query_vector
            ranked.append(self.store.search(vector, self.candidates))
        if self.method in ("hybrid", "bm25"):
            ranked.append(self._bm25_search(question))
        if self.sentence_weight > 0:
            ranked.append(self._by_best_sentence(ranked, vector))
        return ranked

    def fuse(self, rankings: list[list[Hit]]) -> list[Passage]:
        """``rankings`` (as :meth:`rankings` returns them) fused by the weights, as the top passages."""
        if len(rankings) == 1:
            return collapse_duplicates(rankings[0], self.top_k)
        weights = [self.dense_weight, 1.0 - self.dense_weight, self.sentence_weight][:len(rankings)]
        return collapse_duplicates(fuse_scores(rankings, weights), self.top_k)

    def _by_best_sentence(self, rankings: list[list[Hit]], vector: np.ndarray) -> list[Hit]:
        """Every candidate of ``rankings``, ranked by the cosine of its best stored sentence to ``vector``."""
        candidates = list({hit.chunk.id: hit.chunk for ranking in rankings for hit in ranking}.values())
        sentences = self.store.chunk_sentences(candidates)
        best = []
        for chunk in candidates:
            cosines = [float(s.vector @ vector) for s in sentences.get(chunk.article_id, [])
                       if chunk.start <= s.start and s.end <= chunk.end and s.vector is not None]
            best.append(Hit(chunk, max(cosines, default=-1.0)))
        return sorted(best, key=lambda hit: -hit.score)

    def _bm25_search(self, question: str) -> list[Hit]:
        index = self._lexical_index()
        with self._lock:  # the stemmer is not safe to share between threads
            tokens = tokenize([question], self._stemmer, query=True)[0]
            heads = noun_stems(question, self._stemmer)
        hits = index.search(tokens, self.candidates, heads)
        scores = dict(hits)
        return [Hit(chunk, scores[chunk.id]) for chunk in self.store.chunks([cid for cid, _ in hits])]

    def known(self, words: list[str]) -> list[bool]:
        """For each of ``words``, whether the index holds it (stemmed; BM25's compound rule counts), or it is a
        word the index never holds: a stop word is not indexed at all, the name „Gegen“ (a Yuan emperor)
        neither, so there is no evidence either way, for the word, its stem or its genitive („Gegens“).
        (``Decision.unknown_name`` asks it about the words of a name.)"""
        stop = _index_stop_words()
        index = self._lexical_index()
        with self._lock:
            stems = self._stemmer.stemWords([word.lower() for word in words])
        return [index.knows(stem) or bool({stem, word.lower(), word.lower().removesuffix("s")} & stop)
                for word, stem in zip(words, stems)]

    def _lexical_index(self):
        """The BM25 index, brought up to date with the index's lexical log whenever the index's generation
        stamp (changed by every write, in any process) differs from the last time."""
        with self._lock:
            generation = self.store.generation
            if generation != self._bm25_state:
                self._bm25.follow(self.store.lexical_collection)
                size = self.store.count()
                if self._bm25.size < size:  # written before the lexical log existed: index the chunks here
                    nodes = self.store.all_nodes()
                    MetadataMode = llama_index("core.schema").MetadataMode  # noqa: N806
                    self._bm25.load_chunks([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes],
                                           [n.node_id for n in nodes], [n.metadata["article"] for n in nodes],
                                           self._stemmer)
                self._bm25_state = generation
            return self._bm25


@functools.cache
def _index_stop_words() -> frozenset[str]:
    """The German stop words BM25 never indexes."""
    from bm25s.stopwords import STOPWORDS_GERMAN

    return frozenset(STOPWORDS_GERMAN)


def fuse_scores(rankings: list[list[Hit]], weights: list[float]) -> list[Hit]:
    """Every chunk of ``rankings`` (each a list of ``Hit``s), by the weighted sum of its min-max scaled scores,
    best first.

    Each ranking's scores are scaled to 0..1 over its own candidates (all equal: 1); a chunk a ranking did
    not return counts 0 there, as its worst. A score of -1 from the best-sentence ranking (a chunk without
    stored sentence vectors) counts as not returned.
    """
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        ranking = [Hit(chunk, score) for chunk, score in ranking if score > -1.0]
        for hit in ranking:
            chunks[hit.chunk.id] = hit.chunk
            scores.setdefault(hit.chunk.id, 0.0)
        if not ranking or weight == 0:
            continue
        high, low = max(hit.score for hit in ranking), min(hit.score for hit in ranking)
        for hit in ranking:
            scaled = (hit.score - low) / (high - low) if high > low else 1.0
            scores[hit.chunk.id] += weight * scaled
    return [Hit(chunks[cid], score) for cid, score in sorted(scores.items(), key=lambda kv: -kv[1])]


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + 3]) for i in range(max(len(words) - 2, 1))}


def collapse_duplicates(ranked: list[Hit], top_k: int) -> list[Passage]:
    """Fold each chunk into a better-ranked one that contains most of it; keep the first ``top_k`` passages."""
    kept: list[tuple[Hit, set, list[Chunk]]] = []
    for hit in ranked:
        sh = _shingles(hit.chunk.text)
        for _, kept_sh, duplicates in kept:
            if len(sh & kept_sh) >= DUPLICATE_CONTAINMENT * min(len(sh), len(kept_sh)):
                duplicates.append(hit.chunk)
                break
        else:
            if len(kept) < top_k:
                kept.append((hit, sh, []))
    return [Passage(hit.chunk, hit.score, tuple(dups)) for hit, _, dups in kept]
