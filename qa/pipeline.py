"""The parts of the pipeline for one ``Settings``, built once and reused by every call."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Iterable, NamedTuple

from qa.answer import Answer
from qa.calibration import Calibration
from qa.chat import (REFERENCE_WORDS, Exchange, attach_context, check_history, condense, condense_prefix,
                     follows_up)
from qa.config import MODES, Settings
from qa.decision import Decision, Evidence, gather
from qa.embedding import Embedder
from qa.errors import EmptyIndex, QuestionError
from qa.extractive import ExtractiveAnswerer, combine, declined
from qa.llm import LocalLLM, OpenAICompatibleLLM, available_threads
from qa.llm_answer import LLMAnswerer, fixed_prefix
from qa.questions import clean_question, language_of, split_question
from qa.relevance import QuestionPart, SentenceRanker
from qa.retrieval import Retriever
from qa.store import ArticleInfo, ChunkStore
from qa.stream import Steps, StreamingAnswer
from qa.sync import IngestReport, Progress, ingest_paths


class Form(NamedTuple):
    """One form of a question (a part, a follow-up with words attached), retrieved, and whether it is found."""

    part: QuestionPart
    found: bool


class Pipeline:
    """Holds the embedder and the store; models and clients load on first use, not here."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, llm=None,
                 calibration: Calibration | None = None) -> None:
        self.settings = settings
        self.calibration = calibration or Calibration.load(settings.calibration_path)
        self.decision = Decision(self.calibration)
        if embedder is not None:
            self.__dict__["embedder"] = embedder  # a model already loaded elsewhere (tests, benchmarks)
        if llm is not None:
            self.__dict__["llm"] = llm  # any object with the ``qa.llm.LLM`` methods
        self._ingest_lock = threading.Lock()
        self._indexed = False

    @cached_property
    def embedder(self) -> Embedder:
        return _shared_embedder(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        return ChunkStore(self.settings)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, method="hybrid", top_k=self.settings.top_k,
                         dense_weight=self.calibration.w_dense, sentence_weight=self.calibration.w_sentences)

    @cached_property
    def ranker(self) -> SentenceRanker:
        return SentenceRanker(self.store, self.calibration, embed=self.embedder.embed_passages)

    @cached_property
    def extractive(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.ranker, self.decision)

    @cached_property
    def llm(self):
        return _shared_llm(self.settings)

    @cached_property
    def llm_answerer(self) -> LLMAnswerer:
        return LLMAnswerer(self.llm, self.ranker, self.extractive, self.ranker.checker, self.decision,
                            candidates=self.settings.llm_sentences or self.calibration.llm_candidates,
                            # QA_LLM_SENTENCES asks for that many sentences, whatever their scores
                            margin=math.inf if self.settings.llm_sentences else self.calibration.llm_margin,
                            max_tokens=self.settings.llm_max_tokens)

    def warm_up(self) -> None:
        """Load the embedding model and open the index for questions (llama-index's view of it, which an
        ingest never builds), so that the first question waits for neither."""
        self.embedder.warm_up()
        self.store.vector_store

    def warm_up_llm(self) -> None:
        """Load the language model and evaluate the fixed parts of its two prompts, once."""
        self.warm_up()
        self.llm.warm_up(condense_prefix())
        self.llm.warm_up(fixed_prefix())

    def ask(self, question: str, *, mode: str | None = None,
            history: list[tuple[str, str]] | None = None) -> Answer:
        """Retrieve passages for ``question`` and answer it with the answerer of ``mode``."""
        with self.ask_stream(question, mode=mode, history=history) as stream:  # closed: it holds the read lock
            return stream.result()

    def ask_stream(self, question: str, *, mode: str | None = None,
                   history: list[tuple[str, str]] | None = None) -> StreamingAnswer:
        """The answer as it is written (``StreamingAnswer``); bad input raises here, before anything streams."""
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QuestionError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        question = clean_question(question, self.settings.max_question_chars)
        language = language_of(question)  # the user's words, not a rewrite's, decide the answer's language
        turns = check_history(history)
        self.ensure_index()
        return StreamingAnswer(self._answer_steps(question, language, mode, turns))

    def _answer_steps(self, question: str, language: str, mode: str, turns: list[Exchange]) -> Steps:
        with self.store.reading():  # one current state of the index, even while another process syncs
            if turns:
                parts = [self.standalone(question, turns, language)]
                question = parts[0].question
            if language == "de":
                unknown = self.decision.unknown_name(question, self.retriever.known)
                if unknown is not None:  # a person, place or thing no article mentions: the passages are not about it
                    answer = declined(question, language, mode, name=unknown.detail)
                    yield answer.text
                    return answer
            if not turns:
                parts = self.parts(question, language)
            if mode == "llm":
                return (yield from self.llm_answerer.stream_parts(question, parts, language))
            answer = combine(question, [self.extractive.answer(part, language) for part in parts], language)
            yield answer.text
            return answer

    def parts(self, question: str, language: str) -> list[QuestionPart]:
        """Each question that ``question`` asks, with its query vector and passages.

        "Wann begann die Videokonferenz, und über welche Leitung lief sie?" asks two things that stand in
        different passages; retrieved as one, the second is ranked below the first's neighbours. A part is
        retrieved as asked, or with the other parts' words attached when it cannot be answered alone ("In
        welcher Form wollte er das zugesichert bekommen?").
        """
        terms = self.ranker.terms
        whole = self.retrieve(question)
        asked = split_question(question)
        if len(asked) == 1 or any(not terms(part) for part in asked):  # "…, und wo?" is one question
            return [whole]
        if not self.decision.covers(self.evidence(whole, language)):
            # The articles do not cover the question as a whole. A part alone is shorter and scores
            # higher: "Wann findet der nächste G20-Gipfel statt?" finds the Putin–Biden summit.
            return [whole]
        out = []
        for i, part in enumerate(asked):
            others = [Exchange(" ".join(other for j, other in enumerate(asked) if j != i), "")]
            for candidate in (part, attach_context(part, others)):
                form = self.try_form(candidate, terms(part), language)
                if form.found:
                    break
            out.append(form.part._replace(question=part))   # the last form tried, asked as the part
        return out

    def try_form(self, candidate: str, own: set[str], language: str) -> Form:
        """``candidate`` retrieved, and whether its passages hold a sentence that answers it (``Decision.found``:
        words attached from elsewhere alone can make a sentence look relevant, so the best one must also hold
        enough of ``own``, the stemmed words of what is asked itself)."""
        part = self.retrieve(candidate)
        ranked = self.ranker.rank(part.question, part.vector, part.passages)
        found = self.decision.found(lambda: gather(candidate, ranked, language, self.ranker), own,
                                    lambda: self.ranker.terms(ranked[0].text))
        return Form(part, found)

    def evidence(self, part: QuestionPart, language: str) -> Evidence:
        """What the best sentence of ``part``'s passages says about whether they answer it."""
        ranked = self.ranker.rank(part.question, part.vector, part.passages)
        return gather(part.question, ranked, language, self.ranker)

    def retrieve(self, question: str) -> QuestionPart:
        vector = self.embedder.embed_query(question)
        return QuestionPart(question, vector, self.retriever.retrieve(question, vector))

    def standalone(self, question: str, history: list[Exchange], language: str) -> QuestionPart:
        """The follow-up ``question`` made standalone, with its query vector and passages.

        A question that does not point back (``follows_up``) is asked as it is. Otherwise cheap forms first:
        the question with the earlier question's topic attached, then, when it has no word that points
        back („Und wer unterstützt die Separatisten?“), the question as asked. The language model rewrites
        it only when neither finds a sentence to answer from, since its rewrite costs a second or two on 2
        cores before the answer can start. A follow-up that none of these resolves gets no passages.
        """
        if not follows_up(question):
            return self.retrieve(question)

        def within_limit(text: str) -> str:  # a long question's rewrite may not grow past the limit
            text = " ".join(text.split())
            return text if len(text) <= self.settings.max_question_chars else question

        terms = self.ranker.terms
        own = terms(question) - terms(" ".join(REFERENCE_WORDS))
        refers_back = bool(set(re.findall(r"\w+", question.lower())) & REFERENCE_WORDS)
        candidates = [within_limit(attach_context(question, history))]
        if not refers_back and candidates[0] != question:
            candidates.append(question)
        for candidate in candidates:
            form = self.try_form(candidate, own, language)
            if form.found:
                return form.part
        rewritten = condense(self.llm, question, history)
        if rewritten is None or within_limit(rewritten) != " ".join(rewritten.split()):
            # The model wrote an answer, not a question ("Sein Amt ist seit dem 15. Dezember 2019."), or one
            # too long, and no form found a sentence holding what the follow-up asks: answering from the
            # closest passages would state what was not asked. No passages, so both answerers decline at once.
            return QuestionPart(candidates[0], self.embedder.embed_query(candidates[0]), [])
        return self.retrieve(within_limit(rewritten))

    def ingest(self, paths: Iterable[Path | str] | Path | str | None = None, *, progress: Progress = None,
               prune: bool = False, only_if_empty: bool = False, add: bool = False,
               namespace: str = "") -> IngestReport:
        with self._ingest_lock:
            paths = [self.settings.seeds_dir] if paths is None else paths
            # The retriever sees the index's new generation stamp and rebuilds its BM25 on the next question.
            return ingest_paths(paths, self.store, self.embedder, self.settings, progress=progress, prune=prune,
                                only_if_empty=only_if_empty, add=add, namespace=namespace)

    def remove(self, article_ids: Iterable[str] | str) -> list[str]:
        """Remove articles from the index by id (one, or several); the ids it held, in order (unknown ones are
        left out)."""
        article_ids = [article_ids] if isinstance(article_ids, str) else article_ids   # one id, not its characters
        with self._ingest_lock, self.store.writing():
            held = set(self.store.article_states()) | self.store.sentence_articles()
            gone = [a for a in dict.fromkeys(article_ids) if a in held]
            self.store.remove(gone)
            return gone

    def articles(self) -> list[ArticleInfo]:
        self.ensure_index()
        with self.store.reading():
            return self.store.articles()

    def article(self, article_id: str) -> ArticleInfo | None:
        self.ensure_index()
        with self.store.reading():
            return self.store.article(article_id)

    def ensure_index(self) -> None:
        """On a fresh checkout, build the default index from the seed articles; any other must be filled.

        Only the default index (nothing configured) is seeded: an index a user pointed us at, or one that
        an ingest is filling right now, gets no seed articles mixed into it.
        """
        if self._indexed:
            return
        if self.store.count() == 0:
            if not self.settings.default_index:
                raise EmptyIndex(f"the index at {self.store.location} holds no articles yet; add them with "
                                 "`qa ingest FOLDER` (in Python: qa.ingest(['FOLDER'])) and ask again")
            self.ingest(only_if_empty=True)  # under the writer lock: an ingest already running wins
        self._indexed = True


_pipelines: OrderedDict[Settings, Pipeline] = OrderedDict()
_MAX_PIPELINES = 4  # each holds a Chroma client and a BM25 index
_embedders: dict[tuple, Embedder] = {}
_lock = threading.Lock()


def _shared_embedder(settings: Settings) -> Embedder:
    """Pipelines that differ only in index or chunking share one loaded model (~0.5 GB each)."""
    key = (settings.embed_model, settings.cache_dir, settings.embed_batch, settings.embed_backend)
    with _lock:
        if key not in _embedders:
            _embedders[key] = Embedder(settings.embed_model, cache_dir=settings.cache_dir,
                                       batch_size=settings.embed_batch, backend=settings.embed_backend)
        return _embedders[key]


_llms: dict[tuple, object] = {}


def _shared_llm(settings: Settings):
    """One language model per process and configuration: the local one holds 1.2 GB and a llama.cpp context."""
    if settings.llm_url:
        return OpenAICompatibleLLM(settings.llm_url, settings.llm_model, api_key=settings.llm_api_key)
    threads = settings.llm_threads or available_threads()
    key = (settings.llm_model_path, settings.cache_dir, threads, settings.llm_context)
    with _lock:
        if key not in _llms:
            if settings.llm_model_path:
                path = settings.llm_model_path
            else:
                from qa.llm_model import ensure_llm_model

                path = ensure_llm_model(settings.cache_dir)
            _llms[key] = LocalLLM(path, threads=threads, context=settings.llm_context)
        return _llms[key]


def pipeline_for(settings: Settings | None = None) -> Pipeline:
    """The shared pipeline for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    with _lock:
        if settings not in _pipelines:
            _pipelines[settings] = Pipeline(settings)
            while len(_pipelines) > _MAX_PIPELINES:
                _pipelines.popitem(last=False)
        _pipelines.move_to_end(settings)
        return _pipelines[settings]
