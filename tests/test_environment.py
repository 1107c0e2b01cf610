"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest
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


@pytest.mark.e2e
def test_a_wheel_runs_a_study_from_outside_the_checkout(tmp_path):
    """Build the wheel, install it into a fresh venv outside the checkout, run one study from another folder.

    The fresh venv borrows the test environment's third-party packages (a path
    entry, not its .pth files, so not the editable checkout) and installs the
    wheel without dependencies: what runs is the wheel's code, notebooks and data.
    """
    import site
    import subprocess
    import sys
    import sysconfig

    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("analysis-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The wheel first: with the borrowed packages visible, pip would see the editable checkout as installed.
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    borrowed = [p for p in [sysconfig.get_paths()["purelib"], *site.getsitepackages()] if Path(p).is_dir()]
    (Path(purelib) / "borrowed.pth").write_text("\n".join(dict.fromkeys(borrowed)) + "\n")
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # the borrowed packages' data (templates)
    where = tmp_path / "somewhere"
    where.mkdir()
    located = subprocess.run(
        [str(python), "-c", "import analysis; print(analysis.__file__)"],
        cwd=where,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert str(venv) in located and str(ROOT) not in located
    done = subprocess.run(
        [str(venv / "bin" / "analysis"), "run", "grading", "--name", "w"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    run = where / "reports" / "w"
    assert (run / "01_grading_thresholds.html").exists()
    assert json.loads((run / "metrics" / "01_grading_thresholds.json").read_text())["study"] == "grading_thresholds"
