"""The chunk records an ingest writes: what llama-index reads back, written without importing llama-index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from qa.articles import read_articles
from qa.chunking import chunk_article
from qa.store import _BOOKKEEPING, ArticleVectors, node_metadata
from tests.conftest import ROOT, SEEDS


def _seed_chunks():
    articles, problems = read_articles([SEEDS])
    assert articles and not problems
    return [(article, chunk_article(article)) for article in articles]


def test_chunk_metadata_is_what_llama_index_writes_for_the_node_and_reads_back():
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

    checked = 0
    for article, chunks in _seed_chunks():
        item = ArticleVectors(article.id, article.sha256, chunks, np.zeros((len(chunks), 4)), file=article.path.name)
        for chunk in chunks:
            node = TextNode(
                id_=chunk.id, text=chunk.text,
                metadata={"article": item.article_id, "title": chunk.title, "date": chunk.date, "n": chunk.n,
                          "start": chunk.start, "end": chunk.end, "fingerprint": item.fingerprint,
                          "n_chunks": len(chunks), "url": chunk.url, "source": chunk.source, "file": item.file},
                excluded_embed_metadata_keys=_BOOKKEEPING, excluded_llm_metadata_keys=_BOOKKEEPING,
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=item.article_id)})
            ours = node_metadata(chunk, item)
            assert ours == node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            back = metadata_dict_to_node(ours, text=chunk.text)
            assert (back.node_id, back.ref_doc_id, back.get_content()) == (chunk.id, article.id, chunk.text)
            # What BM25 and the LLM see: the title with the text, no bookkeeping.
            assert back.get_content(metadata_mode="llm") == f"title: {chunk.title}\n\n{chunk.text}"
            checked += 1
    assert checked >= 30 and any("ß" in c.text or "„" in c.text for _, cs in _seed_chunks() for c in cs)


def test_an_ingest_does_not_import_llama_index(tmp_path: Path):
    """``qa ingest`` writes Chroma directly; llama-index is imported by the first search only."""
    folder = tmp_path / "artikel"
    folder.mkdir()
    (folder / "a.txt").write_text(
        " date 2026-11 „Wir erwarten 120.000 Gäste“, sagte die Stadt über das Straßenfest in Köln. "
        "Das Feuerwerk beginnt um 21:30 Uhr am Rheinufer.\n", encoding="utf-8")
    code = ("import sys, qa\n"
            f"report = qa.ingest([{str(folder)!r}])\n"
            "assert report.chunks == 1, report\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'llama_index'))\n")
    env = {**os.environ, "QA_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_threads_that_import_llama_index_at_once_all_get_it():
    """The chat page's warm-up and its first question import llama-index at the same time. Four threads
    importing four of its modules directly failed with ``_DeadlockError`` / "partially initialized module" in
    4 of 4 fresh interpreters (2026-12-03); through ``qa.imports.llama_index`` none may."""
    code = ("import threading\n"
            "from qa.imports import llama_index\n"
            "errors = []\n"
            "def go(name):\n"
            "    try:\n"
            "        llama_index(name)\n"
            "    except Exception as exc:\n"
            "        errors.append(repr(exc))\n"
            "names = ['vector_stores.chroma', 'core.vector_stores.utils', 'core.schema', 'core.vector_stores.types']\n"
            "threads = [threading.Thread(target=go, args=(n,)) for n in names]\n"
            "[t.start() for t in threads]\n"
            "[t.join() for t in threads]\n"
            "print(errors)\n")
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
