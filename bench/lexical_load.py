"""The BM25 index of an existing index folder: reading its lexical log, merging the segments, and a question's
search with the segments apart and merged (docs/measurements.md, "At scale").

    QA_INDEX_DIR=bench/out/scale-17000/index .venv/bin/python bench/lexical_load.py

Prints one JSON line: seconds to read the log (no merge), seconds to merge, segments, postings, terms, the
first search after the merge (it builds the reversed term list that finds compounds), and the p50 of a
BM25 search over the scale benchmark's questions (nouns finding their compounds) with the segments apart
and merged.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

import qa  # noqa: E402,F401  (sets the offline environment variables first)
import qa.lexical as lexical  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.tokens import german_stemmer, tokenize  # noqa: E402
from qa.store import ChunkStore  # noqa: E402
from scale import _questions  # noqa: E402


def main() -> None:
    store = ChunkStore(Settings.from_env())
    store.count()
    lexical.MERGE_AT = sys.maxsize            # read the log as it is written: one segment per ingest batch
    began = time.perf_counter()
    index = lexical.LexicalIndex()
    index.follow(store.lexical_collection)
    read = time.perf_counter() - began
    segments = len(index.segments)
    stemmer = german_stemmer()
    queries = [(tokenize([q], stemmer, query=True)[0], lexical.noun_stems(q, stemmer)) for q in _questions()]

    def timed() -> list[float]:
        times = []
        for tokens, heads in queries:
            began = time.perf_counter()
            index.search(tokens, 20, heads)
            times.append((time.perf_counter() - began) * 1000)
        return times

    def p50_ms() -> float:
        return float(np.percentile(timed(), 50))

    apart = p50_ms()
    began = time.perf_counter()
    index.segments = [lexical.merge_segments(index.segments, index.alive)]
    merge = time.perf_counter() - began
    first = timed()[0]   # builds the merged segment's reversed term list for compounds on the way
    print(json.dumps({"chunks": index.size, "read_s": round(read, 2), "merge_s": round(merge, 2),
                      "segments": segments, "postings": index.segments[0].postings,
                      "terms": len(index.segments[0].terms), "first_search_ms_merged": round(first, 1),
                      "search_p50_ms_apart": round(apart, 2), "search_p50_ms_merged": round(p50_ms(), 2)}))


if __name__ == "__main__":
    main()
