"""What a user would assemble by hand, run on the same articles, embedding model and LLM as the product.

* ``bm25`` and ``dense``: the product's own retriever with one of its two halves only, answered by the
  same extractive answerer, so the rows show what hybrid retrieval adds.
* ``llamaindex``: llama-index's stock pipeline for the job, as its documentation builds it:
  ``SimpleDirectoryReader`` → ``VectorStoreIndex`` (default ``SentenceSplitter``, in-memory store) →
  ``CitationQueryEngine`` with its default prompt, default retrieval depth and citation chunks. Only the
  embedding model (e5-small, wrapped) and the LLM (the same local Qwen, through llama-index's ``LlamaCPP``)
  are the product's, so the comparison is about the pipeline, not the models.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.embedding import Embedder
from qa.verify import is_abstention

# How the stock prompt's "If none of the sources are helpful, you should indicate that" comes out.
_DECLINES = re.compile(
    r"(none of the (provided )?sources|sources? (do|does) not|not (explicitly |directly )?(provided|mentioned|specified|stated|available|given)"
    r"|no (information|mention)|cannot (be )?(answer|determine)|unable to|keine (informationen|angaben)"
    r"|nicht (erwähnt|angegeben|genannt|enthalten)|geht (aus den quellen )?nicht hervor)", re.I)


@dataclass(frozen=True, kw_only=True)
class Result:
    """One question through one system: what it retrieved, answered and cited, and how long it took.
    Built by keyword: fifteen fields, most of them optional, are too many to tell apart by position."""
    retrieved: list[str]                  # passage texts, best first
    answer: str | None = None             # None: the system only retrieves
    cited: list[str] = field(default_factory=list)
    abstained: bool = False
    answerer: str = ""
    question: str = ""                    # the question as the system asked it (a follow-up's rewrite)
    seconds: float = 0.0
    markers_valid: bool | None = None     # every [n] names a source and every citation is named
    unsupported: tuple[str, ...] = ()     # names, numbers, dates stated that no cited passage holds
    language_ok: bool | None = None       # the answer is in the question's language
    short: str = ""                       # the short answer (LLM mode)
    cited_articles: tuple[str, ...] = ()  # the article ids of the cited passages (the product's systems)
    generated: str = ""                   # what the model wrote (LLM mode)
    fallback_reason: str = ""             # why the model's first answer was not used (LLM mode)
    confidence: float | None = None       # the calibrated probability that the articles answer it


def declines(text: str) -> bool:
    return is_abstention(text) or bool(_DECLINES.search(text)) or not text.strip()


def e5_embedding(embedder: Embedder):
    """The product's e5 model as a llama-index embedding (its "query: "/"passage: " prefixes included)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class E5Embedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, embedder: Embedder) -> None:
            super().__init__(model_name="intfloat/multilingual-e5-small", embed_batch_size=32)
            self._embedder = embedder

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed_passages(texts).tolist()

    return E5Embedding(embedder)


class LlamaIndexStock:
    """llama-index's default RAG with citations over ``seeds_dir``; ``llm`` None: retrieval only."""

    def __init__(self, seeds_dir: Path, embedder: Embedder, llm=None, *, top_k: int = 5,
                 generate_kwargs: dict | None = None) -> None:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

        # Only the file's name as metadata: by default each node also carries the file's absolute path and its
        # dates, which llama-index embeds with the text, so its ranking moved with the folder a checkout was
        # cloned into and the day it was cloned (hit@3 0.847 in /tmp/fresh-base, 0.875 in /tmp/fresh-head).
        documents = SimpleDirectoryReader(str(seeds_dir), required_exts=[".txt"],
                                          file_metadata=lambda path: {"file_name": Path(path).name}).load_data()
        self.index = VectorStoreIndex.from_documents(documents, embed_model=e5_embedding(embedder))
        self.retriever = self.index.as_retriever(similarity_top_k=top_k)  # for hit@k; the engine keeps its 2
        self.llm = llm
        self.generate_kwargs = generate_kwargs or {}
        self.engine = None
        if llm is not None:
            from llama_index.core.query_engine import CitationQueryEngine

            self.engine = CitationQueryEngine.from_args(self.index, llm=llm)

    def run(self, question: str) -> Result:
        started = time.perf_counter()
        retrieved = [n.node.get_content() for n in self.retriever.retrieve(question)]
        if self.engine is None:
            return Result(retrieved=retrieved, question=question, seconds=time.perf_counter() - started)
        started = time.perf_counter()
        # LlamaCPP reads its generate_kwargs at each call, and the product's own calls change them.
        self.llm.generate_kwargs.update(self.generate_kwargs)
        response = self.engine.query(question)
        text = str(response.response or "").strip()
        sources = [n.node.get_content() for n in response.source_nodes]
        numbers = {int(n) for n in re.findall(r"\[(?:Source\s*)?(\d+)\]", text)}  # "[2]", "[Source 2]"
        cited = [_strip_source_label(sources[n - 1]) for n in sorted(numbers) if 0 < n <= len(sources)]
        return Result(retrieved=retrieved, answer=text, cited=cited, abstained=declines(text), answerer="llamaindex",
                      question=question, seconds=time.perf_counter() - started,
                      markers_valid=all(0 < n <= len(sources) for n in numbers))


def _strip_source_label(text: str) -> str:
    return re.sub(r"^Source \d+:\s*", "", text)


def local_llamacpp(pipeline) -> object | None:
    """The pipeline's local model as the llama-index ``LlamaCPP`` it runs on; None for a server."""
    from qa.llm import LocalLLM

    return pipeline.llm._load() if isinstance(pipeline.llm, LocalLLM) else None


def stock_generate_kwargs(max_tokens: int = 256) -> dict:
    """Greedy decoding, as the product's answers use, with room for a stock answer."""
    from qa.llm import STOP

    return {"max_tokens": max_tokens, "stop": list(STOP), "top_k": 1, "repeat_penalty": 1.0}
