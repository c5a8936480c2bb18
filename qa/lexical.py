"""German BM25 whose index lives in Chroma, beside the chunks, and grows with each write.

Chroma 1.5's sparse (BM25) indexes and its ``search()`` with rank fusion are served by Chroma's distributed
deployment (Chroma Cloud) only, not by the embedded client or ``chroma run``; so the lexical index is kept
in a collection of its own (``<chunks>-lexical``), as an append-only log that every process reads:

* each batch a sync writes adds one *segment*: the postings (stemmed term -> chunks, term counts) and the
  lengths of that batch's chunks, compressed into one record, written before the chunks themselves (the
  chunks mark an article complete, so a killed sync rewrites an article whose chunks are missing);
* removing articles (and rewriting them) adds a *removal* record first.

A process loads the records it has not seen when the index's generation stamp changes (after any write, by
any process), applies them in order, and scores BM25 (Lucene's variant, as ``bm25s``) in memory over the
live chunks: start-up reads compact postings instead of tokenising every chunk, and a second process sees
another's ingest at its next question. Tokens are those of ``bm25s`` with the Snowball German stemmer,
German stop words and the pattern that keeps „120.000“ and „21:30“ whole (``qa.tokens``).
"""

from __future__ import annotations

import base64
import bisect
import functools
import io
import json
import re
import threading
import zlib
from dataclasses import dataclass
from itertools import chain

import numpy as np

from qa.tokens import TOKEN_PATTERN, tokenize

K1, B = 1.5, 0.75          # bm25s's defaults, as llama-index's BM25Retriever used them
HEAD_CHARS, MODIFIER_CHARS = 5, 4   # a question's word matches the compounds it ends (chosen, not fitted)
MERGE_AT = 8               # segments in memory; more are merged (a question looks up each term in each one)
_ADD, _REMOVE = "add", "remove"
_PLACEHOLDER = [0.0]       # Chroma wants a vector for every record; these records are never searched by one


def noun_stems(text: str, stemmer) -> set[str]:
    """The stems of the words written with a capital letter: German nouns (and names), the words that end
    compounds („Berater“ in „Außenberater“); a verb („stellten“) does not find „festgestellt“."""
    return set(stemmer.stemWords([w.lower() for w in re.findall(TOKEN_PATTERN, text) if w[:1].isupper()]))


def indexed_text(title: str, text: str) -> str:
    """What BM25 reads of a chunk: its title and its text (as llama-index's EMBED metadata mode renders it)."""
    return f"title: {title}\n\n{text}"


def encode_segment(chunk_ids: list[str], articles: list[str], tokens: list[list[str]]) -> str:
    """One batch's postings as a compressed record: term -> (chunk numbers, counts), plus chunk lengths."""
    postings: dict[str, dict[int, int]] = {}
    for doc, words in enumerate(tokens):
        for word in words:
            counts = postings.setdefault(word, {})
            counts[doc] = counts.get(doc, 0) + 1
    terms = sorted(postings)
    ptr = np.zeros(len(terms) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(postings[t]) for t in terms])
    docs = np.fromiter((d for t in terms for d in postings[t]), dtype=np.int32, count=int(ptr[-1]))
    tfs = np.fromiter((c for t in terms for c in postings[t].values()), dtype=np.int32, count=int(ptr[-1]))
    buffer = io.BytesIO()
    np.savez(buffer, ptr=ptr, docs=docs, tfs=tfs, lengths=np.array([len(t) for t in tokens], dtype=np.int32))
    head = json.dumps({"ids": chunk_ids, "articles": articles, "terms": terms}, ensure_ascii=False).encode()
    blob = len(head).to_bytes(8, "little") + head + buffer.getvalue()
    return base64.b64encode(zlib.compress(blob, 3)).decode("ascii")


@dataclass
class _Segment:
    base: int                    # the number of its first chunk among all loaded chunks
    ids: list[str]
    articles: list[str]
    terms: list[str]             # in the order of ptr
    ptr: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray

    @functools.cached_property
    def where(self) -> dict[str, int]:
        """term -> its position in ptr; built when first searched (most segments are merged before)."""
        return {term: i for i, term in enumerate(self.terms)}

    @functools.cached_property
    def heads(self) -> tuple[list[str], list[int]]:
        """The compound-looking terms reversed and sorted, with their positions in ptr: the terms that end
        with a given word are one range of it (``compounds``). Built when first searched."""
        pairs = sorted((term[::-1], i) for i, term in enumerate(self.terms)
                       if len(term) >= HEAD_CHARS + MODIFIER_CHARS and term.isalpha())
        return [r for r, _ in pairs], [i for _, i in pairs]

    def compounds(self, term: str) -> list[int]:
        """Positions of the terms that are ``term`` with a word of ``MODIFIER_CHARS`` letters or more before it
        („aussenberat“ for „berat“, „hauptstadt“ for „stadt“)."""
        reversed_terms, positions = self.heads
        key = term[::-1]
        at = bisect.bisect_left(reversed_terms, key)
        found = []
        while at < len(reversed_terms) and reversed_terms[at].startswith(key):
            if len(reversed_terms[at]) - len(key) >= MODIFIER_CHARS:
                found.append(positions[at])
            at += 1
        return found

    @property
    def postings(self) -> int:
        return len(self.docs)


def merge_segments(segments: list[_Segment], alive: np.ndarray) -> _Segment:
    """Several segments as one (base 0, chunk numbers absolute), without the postings of removed chunks."""
    number = {term: i for i, term in enumerate(dict.fromkeys(chain.from_iterable(s.terms for s in segments)))}
    owners, docs, tfs = [], [], []
    for s in segments:
        own = np.fromiter(map(number.__getitem__, s.terms), dtype=np.int32, count=len(s.terms))
        owners.append(np.repeat(own, np.diff(s.ptr)))
        docs.append(s.docs + np.int32(s.base))
        tfs.append(s.tfs)
    owner, doc, tf = np.concatenate(owners), np.concatenate(docs), np.concatenate(tfs)
    keep = alive[doc]
    owner, doc, tf = owner[keep], doc[keep], tf[keep]
    order = np.argsort(owner, kind="stable")   # a term's postings together, in chunk order
    ptr = np.zeros(len(number) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(owner, minlength=len(number)))
    merged = _Segment(0, [], [], list(number), ptr, doc[order], tf[order])
    merged.where = number
    return merged


def _positions(segment: _Segment, term: str, compounds: bool) -> list[int]:
    """Where ``term``'s postings lie in ``segment``: its own, and those of the compounds it is the last word
    of. German writes „Außenberater“ and „Hauptstadt“ as one word; the Snowball stemmer keeps them whole,
    so without this a question about the „Berater“ or the „Stadt“ would not find them."""
    own = segment.where.get(term)
    found = [] if own is None else [own]
    if compounds and len(term) >= HEAD_CHARS and term.isalpha():
        found += [i for i in segment.compounds(term) if i != own]
    return found


def decode_segment(payload: str, base: int) -> tuple[_Segment, np.ndarray]:
    blob = zlib.decompress(base64.b64decode(payload))
    size = int.from_bytes(blob[:8], "little")
    head = json.loads(blob[8:8 + size])
    arrays = np.load(io.BytesIO(blob[8 + size:]))
    segment = _Segment(base, head["ids"], head["articles"], head["terms"], arrays["ptr"], arrays["docs"],
                       arrays["tfs"])
    return segment, arrays["lengths"]


class LexicalLog:
    """The writer's side: appends segments and removals to the lexical collection."""

    def __init__(self, collection) -> None:
        self.collection = collection
        self._seq: int | None = None

    def _next(self) -> int:
        if self._seq is None:
            ids = self.collection.get(include=[])["ids"]
            self._seq = max((int(i.split("-", 1)[1]) for i in ids), default=0)
        self._seq += 1
        return self._seq

    def add(self, chunk_ids: list[str], articles: list[str], tokens: list[list[str]]) -> None:
        if chunk_ids:
            self._append(_ADD, encode_segment(chunk_ids, articles, tokens))

    def remove(self, article_ids: list[str]) -> None:
        if article_ids:
            self._append(_REMOVE, json.dumps(sorted(article_ids), ensure_ascii=False))

    def _append(self, kind: str, payload: str) -> None:
        seq = self._next()
        self.collection.add(ids=[f"{kind}-{seq:010d}"], embeddings=[_PLACEHOLDER],
                            metadatas=[{"seq": seq, "kind": kind, "payload": payload}])

    def forget(self) -> None:
        """Another writer may have appended since: read the sequence again before the next record."""
        self._seq = None


class LexicalIndex:
    """The reader's side: every record of the log applied in order, and BM25 over the live chunks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.seen: set[str] = set()
        self.segments: list[_Segment] = []
        self.lengths = np.zeros(0, dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)
        self.where: dict[str, list[int]] = {}   # article -> its chunks' numbers
        self.ids: list[str] = []

    @property
    def size(self) -> int:
        return int(self.alive.sum())

    def follow(self, collection) -> None:
        """Apply the records of ``collection`` this index has not seen, in the order they were written."""
        ids = collection.get(include=[])["ids"]
        new = sorted((i for i in ids if i not in self.seen), key=lambda i: int(i.split("-", 1)[1]))
        if not new:
            return
        got = collection.get(ids=new, include=["metadatas"])
        records = sorted(zip(got["ids"], got["metadatas"]), key=lambda r: r[1]["seq"])
        with self._lock:
            for record_id, meta in records:
                if meta["kind"] == _ADD:
                    self._add(meta["payload"])
                else:
                    self._remove(json.loads(meta["payload"]))
                self.seen.add(record_id)
            self._compact()

    def _compact(self) -> None:
        """Keep at most ``MERGE_AT`` segments. A sync writes one per batch, so an index of 100,000 chunks
        arrives as some 1,000, and a question looked each term up in every one (18 of a fast answer's
        70 ms). The recent segments are merged into one; all of them, when the recent ones have grown to a
        quarter of the first (so a small sync does not rewrite the whole index in memory)."""
        if len(self.segments) <= MERGE_AT:
            return
        first, recent = self.segments[0], self.segments[1:]
        if sum(s.postings for s in recent) * 4 >= first.postings:
            self.segments = [merge_segments(self.segments, self.alive)]
        else:
            self.segments = [first, merge_segments(recent, self.alive)]

    def load_chunks(self, texts: list[str], chunk_ids: list[str], articles: list[str], stemmer) -> None:
        """Index chunks directly (an index written before the lexical log existed)."""
        with self._lock:
            self.clear()
            self._add(encode_segment(chunk_ids, articles, tokenize(texts, stemmer)))

    def _add(self, payload: str) -> None:
        segment, lengths = decode_segment(payload, len(self.ids))
        self._remove(sorted(set(segment.articles)))   # a rewritten article replaces its older chunks
        self.segments.append(segment)
        self.ids.extend(segment.ids)
        self.lengths = np.concatenate([self.lengths, lengths.astype(np.float32)])
        self.alive = np.concatenate([self.alive, np.ones(len(lengths), dtype=bool)])
        for n, article in enumerate(segment.articles):
            self.where.setdefault(article, []).append(segment.base + n)

    def _remove(self, article_ids: list[str]) -> None:
        for article in article_ids:
            numbers = self.where.pop(article, None)
            if numbers:
                self.alive[numbers] = False

    def knows(self, term: str) -> bool:
        """Whether some chunk holds ``term`` or a compound that ends in it (chunks removed since the last
        merge may still count)."""
        with self._lock:
            return any(_positions(s, term, True) for s in self.segments)

    def search(self, tokens: list[str], k: int, heads: set[str] | frozenset = frozenset()) -> list[tuple[str, float]]:
        """The ``k`` best live chunks for the question's tokens, (chunk id, BM25 score > 0). A token in
        ``heads`` (``noun_stems``) also finds the compounds it ends."""
        with self._lock:
            live = self.alive
            n = int(live.sum())
            if not n or not tokens:
                return []
            average = float(self.lengths[live].mean())
            norm = K1 * (1 - B + B * self.lengths / average)
            scores = np.zeros(len(self.ids), dtype=np.float32)
            for term in tokens:
                hits = [(s.base + s.docs[s.ptr[i]:s.ptr[i + 1]], s.tfs[s.ptr[i]:s.ptr[i + 1]])
                        for s in self.segments for i in _positions(s, term, term in heads)]
                if not hits:
                    continue
                docs = np.concatenate([d for d, _ in hits])
                tfs = np.concatenate([t for _, t in hits]).astype(np.float32)
                if len(hits) > 1:   # a chunk with the word and a compound of it counts both once
                    docs, where = np.unique(docs, return_inverse=True)
                    tfs = np.bincount(where, weights=tfs).astype(np.float32)
                keep = live[docs]
                docs, tfs = docs[keep], tfs[keep]
                df = len(docs)
                if not df:
                    continue
                idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
                scores[docs] += idf * tfs / (tfs + norm[docs])
            top = min(k, int((scores > 0).sum()))
            if not top:
                return []
            best = np.argpartition(-scores, top - 1)[:top]
            best = best[np.argsort(-scores[best], kind="stable")]
            return [(self.ids[i], float(scores[i])) for i in best]
