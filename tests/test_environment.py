"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's.
CONDA_TO_PYPI = {
    "python-duckdb": "duckdb",
    "ibis-duckdb": "ibis-framework[duckdb]",
    "ibis-pyspark": "ibis-framework[pyspark]",
    "ibis-postgres": "ibis-framework[postgres]",
}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[a-z0-9,]+\])?)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith("analysis")]
    return dict(_split(r) for r in requirements)


def conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            name, spec = _split(item)
            if name not in {"python", "pip"}:
                out[CONDA_TO_PYPI.get(name, name)] = spec
    return out


def test_conda_and_pip_list_the_same_packages_and_bounds():
    assert conda_requirements() == pip_requirements()


def test_python_floor_agrees():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "python>=3.11" in env["dependencies"]
    assert project["requires-python"] == ">=3.11"


def test_core_stack_is_declared():
    names = set(pip_requirements())
    required = {
        "pandas",
        "numpy",
        "scipy",
        "statsmodels",
        "seaborn",
        "matplotlib",
        "papermill",
        "nbval",
        "jupyterlab",
        "ipykernel",
        "duckdb",
        "ibis-framework[duckdb]",
        "pyarrow",
    }
    assert required <= names
    assert pip_requirements()["pandas"] == ">=3.0"
    # Abandoned or pandas<3-pinning packages must not creep in.
    assert not names & {"lifelines", "lifetimes", "scrapbook"}
