"""llama-index, imported lazily and by one thread at a time.

An ingest never needs llama-index, and importing it takes one to two seconds, so the modules that use it
import it when first needed. Two threads importing it at once (the chat page's warm-up and its first
question) can find one of its modules half initialised, since its packages import each other: Python then
raises ``ImportError: cannot import name … from partially initialized module``. Every lazy import of it
goes through ``llama_index`` below, under one lock.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_lock = threading.RLock()


def llama_index(module: str) -> ModuleType:
    """``llama_index.<module>``, imported under the process's one lock."""
    with _lock:
        return importlib.import_module(f"llama_index.{module}")
