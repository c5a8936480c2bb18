"""The module map of docs/design.md is the package as it is: every module of ``qa/`` listed once, each after
every module it imports, so the map's order is one the imports can be read in, and no module imports
``eval``."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

PACKAGE = ROOT / "qa"


def listed_modules() -> list[str]:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text.split("### The modules, in the order data passes them", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("|") and "`qa/" in line]
    return [name for cells in rows for name in re.findall(r"`qa/(\w+)\.py`", cells[2])]


def imported(module: str) -> set[str]:
    """The modules of ``qa`` and the top-level packages that ``module`` imports, wherever in the file."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.level == 0}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names


def test_the_module_map_lists_every_module_once_each_after_what_it_imports():
    listed = listed_modules()
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert sorted(listed) == modules, "docs/design.md's module map and qa/ differ: " \
        f"missing {sorted(set(modules) - set(listed))}, gone {sorted(set(listed) - set(modules))}"
    place = {name: i for i, name in enumerate(listed)}
    later = {module: sorted(name for name in imported(module) if name.startswith("qa.")
                            and place[name.split(".")[1]] > place[module]) for module in modules}
    assert not any(later.values()), f"imports of a module listed later: { {m: v for m, v in later.items() if v} }"


def test_the_package_never_imports_the_eval():
    users = [module.stem for module in PACKAGE.glob("*.py")
             if any(name == "eval" or name.startswith("eval.") for name in imported(module.stem))]
    assert users == []
