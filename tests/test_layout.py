"""The package's shape: data flows one way, no private name crosses a module, the README's map is true.

Layers, lowest first (a module may import its own layer and the ones below,
never one above): foundations -> data -> engines -> the domain modules of the
three studies -> the studies -> reporting -> the command line.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"

LAYERS: dict[str, int] = {
    # 0 foundations: exceptions, checks, plain-data parameters, pseudonyms, single files, statistics, figures
    "errors": 0,
    "checks": 0,
    "parameters": 0,
    "privacy": 0,
    "files": 0,
    "stats": 0,
    "plots": 0,
    "presentation": 0,
    # 1 data: contract, shipped datasets, readers, validation, profile
    "data": 1,
    # 2 engines: where the summaries run, and the summaries (the only code aggregating raw rows)
    "engines": 2,
    # 3 domain: grading, churn and value statistics, the synthetic base
    "grading": 3,
    "churn": 3,
    "value": 3,
    "synthetic": 3,
    # 4 studies: data sources, each study's parameters and steps, the registry
    "studies": 4,
    # 5 reporting: run folders, runs, manifests, reproduction, periodic reports, the index
    "reporting": 5,
    # 6 the command line
    "cli": 6,
    "__main__": 6,
}

#: No module of the package is longer than this (lines).
MAX_LINES = 450


@functools.cache
def _modules() -> dict[str, ast.Module]:
    """Every module of the package by dotted name below ``analysis`` (a package as ``name.__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if name != "__init__":
            found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def _imports(tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """Every ``from analysis.X import names`` (at any depth): (X, names, line)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("analysis."):
            out.append((node.module.removeprefix("analysis."), [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("analysis."):
                    out.append((alias.name.removeprefix("analysis."), [], node.lineno))
    return out


def test_every_module_has_a_layer():
    assert {m.split(".")[0] for m in _modules()} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_never_go_up(module):
    upward = [
        f"{module}:{line} imports analysis.{target} (layer {_layer(target)} > {_layer(module)})"
        for target, _, line in _imports(_modules()[module])
        if _layer(target) > _layer(module)
    ]
    assert not upward


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_private_name_crosses_a_module(module):
    own = module.removesuffix(".__init__")
    crossing = [
        f"{module}:{line} imports {name} from analysis.{target}"
        for target, names, line in _imports(_modules()[module])
        for name in names
        if name.startswith("_") and target != own
    ]
    assert not crossing


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_module_is_too_long(module):
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_the_readme_names_every_module():
    readme = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    modules = {m.removesuffix(".__init__") for m in _modules()} - {"__main__"}
    missing = sorted(m for m in modules if f"`{m}`" not in readme)
    assert not missing
