"""All settings in one place: defaults, overridden by ``QA_*`` environment variables.

Nothing else in the package reads the environment (but ``QA_DEBUG``, the CLI's traceback switch); a
``Settings`` is built once and passed down. A wrong value raises ``ConfigError`` naming the variable and
what it accepts; a ``QA_*`` name that is no setting (``QA_TOPK``) is logged, with the one it resembles.
"""

from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from qa.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed package has no checkout around it: its index goes to the user's data folder, not into
# site-packages, and it has no seed articles to build one from.
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()
DEFAULT_INDEX_DIR = (PROJECT_ROOT / ".index" if IN_CHECKOUT else    # built from seeds/ on first use
                     Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "qa-news" / "index")
MODES = ("extractive", "llm")
# QA_* names that are read but are not settings; QA_TEST_* belong to the test suite.
_NOT_SETTINGS = {"QA_DEBUG"}
_warned: set[str] = set()
log = logging.getLogger(__name__)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-news"


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Build it with ``Settings.from_env()``; change one with ``.with_(...)``."""

    seeds_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = DEFAULT_INDEX_DIR
    cache_dir: Path = field(default_factory=_default_cache_dir)
    chroma_host: str | None = None
    chroma_port: int | None = None
    collection: str = "articles"
    embed_model: str = "intfloat/multilingual-e5-small"
    embed_batch: int = 32            # the torch backend's batch; int8 ONNX embeds each text alone
    embed_backend: str = "onnx"          # "onnx" (int8, about 3x faster) or "torch" (float32 sentence-transformers)
    chunk_chars: int = 700
    chunk_min_chars: int = 250
    top_k: int = 5
    mode: str = "extractive"
    max_question_chars: int = 2000
    llm_model_path: Path | None = None   # a GGUF file; default: the bundled Qwen2.5-Coder-1.5B, assembled in cache_dir
    llm_url: str | None = None           # an OpenAI-compatible server (…/v1) to use instead of the local model
    llm_model: str | None = None         # the model name the server knows; needed with llm_url
    llm_api_key: str | None = field(default=None, repr=False)
    llm_threads: int = 0                 # 0: every core this process may use
    llm_context: int = 4096              # tokens
    llm_max_tokens: int = 80             # the picked line: a sentence number and a short answer
    llm_sentences: int = 0               # best sentences shown to the model to pick from; 0: the calibrated number
    calibration_path: Path | None = None  # fitted numbers (eval/calibrate.py); default: qa/calibration.json
    app_auth: str | None = field(default=None, repr=False)  # "user:password": the chat page asks for a login
    login_lockout_after: int = 10        # failed logins in a row from one address before it is locked out
    login_lockout_s: int = 120           # how long a lockout lasts (at most 300: the owner is back within 5 min)
    upload_dir: Path | None = None       # the chat page's uploaded article files; default: beside the index
    max_upload_mb: int = 20              # the largest article file the chat page takes

    def __post_init__(self) -> None:
        for f in fields(self):  # Settings().with_(index_dir="~/archiv") means a folder, not a string
            value = getattr(self, f.name)
            if "Path" in f.type and isinstance(value, str):
                if not value.strip():
                    raise ConfigError(f"QA_{f.name.upper()} is empty; give a folder or file")
                object.__setattr__(self, f.name, Path(value).expanduser())
        _positive("QA_EMBED_BATCH", self.embed_batch)
        if self.embed_backend not in ("onnx", "torch"):
            raise ConfigError(f"QA_EMBED_BACKEND must be onnx or torch, got {self.embed_backend!r}")
        _positive("QA_TOP_K", self.top_k)
        _positive("QA_MAX_QUESTION_CHARS", self.max_question_chars)
        if not 1 <= self.max_upload_mb <= 200:
            raise ConfigError(f"QA_MAX_UPLOAD_MB must be between 1 and 200, got {self.max_upload_mb}")
        if not 200 <= self.chunk_chars <= 1800:
            # e5 reads at most 512 tokens (~1,800 characters of German); below 200 a chunk loses its context.
            raise ConfigError(f"QA_CHUNK_CHARS must be between 200 and 1800, got {self.chunk_chars}")
        if not 0 <= self.chunk_min_chars <= self.chunk_chars:
            raise ConfigError(f"QA_CHUNK_MIN_CHARS must be between 0 and QA_CHUNK_CHARS ({self.chunk_chars}), "
                              f"got {self.chunk_min_chars}")
        if self.llm_threads < 0:
            raise ConfigError(f"QA_LLM_THREADS must be 0 (every core) or more, got {self.llm_threads}")
        if not 1024 <= self.llm_context <= 32768:
            raise ConfigError(f"QA_LLM_CONTEXT must be between 1024 and 32768 tokens, got {self.llm_context}")
        if not 16 <= self.llm_max_tokens <= 2048:
            raise ConfigError(f"QA_LLM_MAX_TOKENS must be between 16 and 2048, got {self.llm_max_tokens}")
        if not 0 <= self.llm_sentences <= 9:
            raise ConfigError(f"QA_LLM_SENTENCES must be between 1 and 9 (0: the calibrated number), "
                              f"got {self.llm_sentences}")
        if self.llm_url is not None:
            if not self.llm_url.startswith(("http://", "https://")):
                raise ConfigError(f"QA_LLM_URL must start with http:// or https://, got {self.llm_url!r}")
            if not self.llm_model:
                raise ConfigError("QA_LLM_URL is set but QA_LLM_MODEL is not; name the model the server serves, "
                                  "e.g. QA_LLM_MODEL=qwen2.5:1.5b")
        if self.app_auth is not None:
            user, _, password = self.app_auth.partition(":")
            if not user.strip() or not password:
                raise ConfigError("QA_APP_AUTH must be user:password (both non-empty), e.g. QA_APP_AUTH=anna:geheim")
        if not 1 <= self.login_lockout_after <= 1000:
            raise ConfigError(f"QA_LOGIN_LOCKOUT_AFTER must be between 1 and 1000 failed logins, "
                              f"got {self.login_lockout_after}")
        if not 1 <= self.login_lockout_s <= 300:
            raise ConfigError(f"QA_LOGIN_LOCKOUT_S must be between 1 and 300 seconds, got {self.login_lockout_s}")
        if self.mode not in MODES:
            raise ConfigError(f"QA_MODE must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.chroma_port is not None and not 1 <= self.chroma_port <= 65535:
            raise ConfigError(f"QA_CHROMA_PORT must be a port number between 1 and 65535, got {self.chroma_port}")
        if self.chroma_port is not None and not self.chroma_host:
            raise ConfigError("QA_CHROMA_PORT is set but QA_CHROMA_HOST is not; set both to use a Chroma server")
        if not self.collection.replace("-", "").replace("_", "").isalnum() or len(self.collection) < 3:
            raise ConfigError(f"QA_COLLECTION must be at least 3 letters, digits, '-' or '_', got {self.collection!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Defaults overridden by the ``QA_*`` variables of ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        _warn_unknown(env)
        values = {}
        for f in fields(cls):
            name = "QA_" + f.name.upper()
            raw = env.get(name)
            if raw is not None and not raw.strip() and "Path" in f.type:
                # An empty folder name would mean the current folder, or the default one: neither was asked for.
                raise ConfigError(f"{name} is set but empty; unset it (unset {name}) for the default, or give "
                                  "a folder")
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(name, raw.strip(), f.type)
        if values.get("chroma_host") and "chroma_port" not in values:
            values["chroma_port"] = 8000
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    @property
    def uploads(self) -> Path:
        """Where the chat page keeps uploaded files: QA_UPLOAD_DIR, or a folder beside the index folder
        (``.index`` → ``.index-uploads``); never inside it, which holds only Chroma's files."""
        return self.upload_dir or self.index_dir.with_name(self.index_dir.name + "-uploads")

    @property
    def default_index(self) -> bool:
        """The checkout's own index (nothing configured): the one that ``ask`` builds from seeds/ when empty."""
        return (IN_CHECKOUT and not self.server_mode and self.collection == "articles"
                and self.index_dir.resolve() == DEFAULT_INDEX_DIR.resolve())


def _warn_unknown(env: Mapping[str, str]) -> None:
    """Log, once each, the ``QA_*`` variables that are no setting: a typo would otherwise pass unnoticed."""
    known = {"QA_" + f.name.upper() for f in fields(Settings)}
    for name in env:
        if (not name.startswith("QA_") or name in known or name in _NOT_SETTINGS or name.startswith("QA_TEST_")
                or name in _warned):
            continue
        _warned.add(name)
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]}?" if close else "the settings are listed in docs/settings.md"
        log.warning("%s is not a setting and is ignored; %s", name, hint)


def _parse(name: str, raw: str, kind: str):
    if "Path" in kind:
        return Path(raw).expanduser()
    if "int" in kind:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    return raw


def _positive(name: str, value: int) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {value}")
