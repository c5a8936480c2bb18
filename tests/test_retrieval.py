"""The fusion of the rankings, without an index (the real retrieval is tested in tests/test_ask.py)."""

import pytest

from qa.chunking import Chunk
from qa.retrieval import Retriever, _reciprocal_rank_fusion


def _chunk(name: str) -> Chunk:
    return Chunk(id=f"{name}.txt#0", article_id=f"{name}.txt", n=0, text=name, start=0, end=len(name),
                 title=name, date="2021-12-07")


A, B, C = _chunk("a"), _chunk("b"), _chunk("c")


def test_each_ranking_votes_by_its_weight():
    dense, bm25, sentences = [(A, .9), (B, .8), (C, .7)], [(A, 3.0), (B, 2.0)], [(B, .9), (C, .8), (A, .7)]
    assert [c.id for c, _ in _reciprocal_rank_fusion([dense, bm25, sentences])][0] == A.id
    # The best-sentence ranking weighing twice as much as each search outvotes them for B.
    assert [c.id for c, _ in _reciprocal_rank_fusion([dense, bm25, sentences], [1.0, 1.0, 3.0])][0] == B.id
    # Weight 0: as if the ranking were not there.
    assert (_reciprocal_rank_fusion([dense, bm25, sentences], [1.0, 1.0, 0.0])
            == _reciprocal_rank_fusion([dense, bm25]))


def test_a_weight_for_each_ranking():
    with pytest.raises(ValueError):
        _reciprocal_rank_fusion([[(A, 1.0)], [(B, 1.0)]], [1.0])


def test_a_negative_sentence_weight_is_refused():
    with pytest.raises(ValueError, match="sentence_weight"):
        Retriever(store=None, embedder=None, sentence_weight=-0.5)


def test_the_single_method_baselines_have_no_sentence_ranking():
    assert Retriever(store=None, embedder=None, method="dense", sentence_weight=2.0).sentence_weight == 0.0
