"""The systems the eval compares, run over the pairs on one index of the seed articles in a temporary folder.

* ``extractive`` and ``llm``: the product's two modes, through ``Pipeline.ask``;
* ``bm25`` and ``dense``: its retriever with one half only, answered by the same extractive answerer;
* ``llamaindex``: llama-index's stock pipeline (``eval/baselines.py``).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from eval.baselines import LlamaIndexStock, Result, local_llamacpp, stock_generate_kwargs
from eval.checks import language_matches, unsupported
from eval.dataset import Pair, unquoted
from eval.scoring import K, score
from qa.config import Settings
from qa.questions import language_of
from qa.relevance import QuestionPart

SYSTEMS = {
    "extractive": "this pipeline, extractive answers (hybrid retrieval)",
    "llm": "this pipeline, LLM answers checked against their citations",
    "bm25": "BM25 retrieval only, same extractive answerer",
    "dense": "dense (e5) retrieval only, same extractive answerer",
    "llamaindex": "llama-index stock: VectorStoreIndex + CitationQueryEngine, same e5 and LLM",
}
FAST = ("extractive", "bm25", "dense", "llamaindex")  # llamaindex without an LLM: retrieval only


def run_systems(pairs: list[Pair], systems: list[str], settings: Settings, *, progress: bool, with_llm: bool,
                distractors: Sequence[Path] = ()
                ) -> tuple[dict[str, list[tuple[Pair, Result]]], set[str] | None, list[str]]:
    """Each of ``systems`` over ``pairs``, on an index of the seed articles (and of ``distractors``, beside
    them) in a temporary folder: the answers by system, the seed articles' ids where distractors share the
    index (else None), and notes for the report on how the systems ran."""
    from qa.pipeline import Pipeline

    notes: list[str] = []
    with tempfile.TemporaryDirectory() as index:
        settings = settings.with_(index_dir=Path(index), chroma_host=None, chroma_port=None)
        pipeline = Pipeline(settings)
        pipeline.ingest(progress=False)
        own = None
        if distractors:
            own = set(pipeline.store.article_states())
            added = pipeline.ingest(distractors, progress=progress, add=True)
            notes.append(f"Distractors: {added.added} articles ({added.chunks} chunks in the index with the "
                         f"seeds) from {', '.join(map(str, distractors))}; `unrelated`: the number of answers "
                         "citing an article that is not a seed article.")
        texts = [p.read_text(encoding="utf-8") for p in sorted(settings.seeds_dir.glob("*.txt"))]
        problems = unquoted(pairs, texts)
        if problems:
            print("qa eval: some supporting quotes are in no article (edited articles?); those pairs can't "
                  "score on retrieval:\n  " + "\n  ".join(problems), file=sys.stderr)
            notes += ["Quotes no article holds: " + "; ".join(problems)]
        stock = None
        if "llamaindex" in systems:
            llm = None
            if with_llm:
                pipeline.warm_up_llm()
                llm = local_llamacpp(pipeline)
                if llm is None:
                    notes.append("llamaindex ran retrieval only: its answers need the local model "
                                 "(QA_LLM_URL points at a server).")
            stock = LlamaIndexStock(settings.seeds_dir, pipeline.embedder, llm, top_k=K,
                                    generate_kwargs=stock_generate_kwargs())
        if "llm" in systems:
            pipeline.warm_up_llm()
        contestants = Contestants(pipeline, stock)
        rows_by_system = {name: run_system(name, pairs, contestants, progress) for name in systems}
    return rows_by_system, own, notes


def run_system(name: str, pairs: list[Pair], contestants: Contestants, progress: bool) -> list[tuple[Pair, Result]]:
    """Every pair through one system, in order, with a progress bar that counts the correct answers."""
    from tqdm import tqdm

    rows = []
    bar = tqdm(pairs, desc=f"{name:>10}", unit="q", disable=not progress, file=sys.stderr, leave=True)
    right = 0
    for pair in bar:
        result = contestants.ask(name, pair)
        rows.append((pair, result))
        right += score(pair, result).get("correct", 0.0) or 0.0
        bar.set_postfix_str(f"correct {right:.0f}/{len(rows)}")
    return rows


class Contestants:
    """The systems over one pipeline's index: ``ask(name, pair)`` is that system's ``Result`` for the pair.
    ``stock`` is llama-index's pipeline over the same articles (None where it is not run)."""

    def __init__(self, pipeline, stock: LlamaIndexStock | None) -> None:
        self.pipeline, self.stock = pipeline, stock
        self._retrievers: dict = {}  # bm25 and dense, made at their first question

    def ask(self, name: str, pair: Pair) -> Result:
        pipeline = self.pipeline
        if name in ("extractive", "llm"):
            started = time.perf_counter()
            answer = pipeline.ask(pair.question, mode=name, history=list(pair.history))
            seconds = time.perf_counter() - started
            passages = pipeline.retrieve(answer.question).passages  # what the answer was drawn from
            return Result(retrieved=[passage_text(p) for p in passages], answer=answer.text,
                          cited=[c.text for c in answer.citations], abstained=answer.abstained,
                          answerer=answer.answerer, question=answer.question, seconds=seconds,
                          markers_valid=markers_valid(answer), unsupported=tuple(unsupported(answer, pair.question)),
                          language_ok=language_matches(answer, pair.question), short=answer.short,
                          cited_articles=tuple(c.article for c in answer.citations), generated=answer.generated,
                          fallback_reason=answer.fallback_reason, confidence=answer.confidence)
        if name in ("bm25", "dense"):
            # A retriever a user would build has no follow-up handling: the question goes in as asked.
            started = time.perf_counter()
            vector = pipeline.embedder.embed_query(pair.question)
            passages = self._retriever(name).retrieve(pair.question, vector)
            answer = pipeline.extractive.answer(QuestionPart(pair.question, vector, passages),
                                                language_of(pair.question))
            return Result(retrieved=[passage_text(p) for p in passages], answer=answer.text,
                          cited=[c.text for c in answer.citations], abstained=answer.abstained, answerer=name,
                          question=pair.question, seconds=time.perf_counter() - started,
                          markers_valid=markers_valid(answer))
        if name == "llamaindex":
            return self.stock.run(pair.question)
        raise ValueError(f"unknown system {name!r}")

    def _retriever(self, method: str):
        from qa.retrieval import Retriever

        if method not in self._retrievers:
            self._retrievers[method] = Retriever(self.pipeline.store, self.pipeline.embedder, method=method,
                                                 top_k=max(K, self.pipeline.settings.top_k))
        return self._retrievers[method]


def markers_valid(answer) -> bool:
    """Every [n] in the text names one of the answer's citations, and every citation is named."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.number for c in answer.citations}


def passage_text(passage) -> str:
    """A retrieved passage with the near-duplicate chunks folded into it (other articles' copies)."""
    return "\n".join(chunk.text for chunk in passage.chunks)
