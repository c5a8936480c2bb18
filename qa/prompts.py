"""Prompts are text files in ``prompts/``, loaded by name and rendered strictly: a missing variable is an error.

A checkout reads its top-level ``prompts/`` folder, the one people edit; an installed wheel reads the copy of
it that the build puts in the package as ``qa/prompt_files/`` (pyproject.toml). Never the current folder.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from qa.errors import QAError

_PACKAGE = Path(__file__).resolve().parent
# The packaged copy first: beside an installed package, ../prompts would be a folder of site-packages.
PROMPTS_DIR = _PACKAGE / "prompt_files" if (_PACKAGE / "prompt_files").is_dir() else _PACKAGE.parent / "prompts"


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        raise QAError(f"the prompt file {path} is missing; the checkout is incomplete") from None


def render(name: str, **variables: object) -> str:
    """``prompts/<name>.txt`` with ``$variables`` filled in; a variable not given raises ``QAError``."""
    try:
        return string.Template(load_prompt(name)).substitute(variables)
    except KeyError as exc:
        raise QAError(f"prompt {name!r} needs the variable {exc.args[0]!r}") from None
