"""The studies the runner knows: notebook, parameter declaration, validation.

Each study's parameters are declared once, as a frozen dataclass in its
study module (e.g. :class:`analysis.studies.parameters.GradingParameters`). The
notebook's first cell checks its papermill parameters with it, and the runner
checks a run's parameters with it *before* any notebook starts, so an unknown
name, a wrong type or an out-of-range value stops the run with nothing
written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ParameterError, check_option
from analysis.studies.parameters import ChurnParameters, GradingParameters, ValueParameters

__all__ = ["STUDIES", "Study", "parameter_table", "resolve_parameters", "write_parameters_cells"]

#: The study notebooks, shipped inside the package (``notebooks/`` in a checkout links here).
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass(frozen=True)
class Study:
    """A study: its short name, notebook file and parameter declaration."""

    name: str
    notebook: str
    parameters: type

    @property
    def path(self) -> Path:
        """Path of the study's notebook."""
        return NOTEBOOKS / self.notebook


STUDIES: dict[str, Study] = {
    "grading": Study("grading", "01_grading_thresholds.ipynb", GradingParameters),
    "churn": Study("churn", "02_churn_signals.ipynb", ChurnParameters),
    "value": Study("value", "03_value_tiers.ipynb", ValueParameters),
}


def parameter_table(study: str) -> pd.DataFrame:
    """Name, type, default and meaning of each parameter of a study.

    Read from the notebook's parameters cell with papermill's own inspection,
    so it shows exactly what ``papermill --help-notebook`` shows.
    """
    import papermill

    notebook = STUDIES[check_option("study", study, STUDIES)].path
    found = papermill.inspect_notebook(str(notebook))
    return pd.DataFrame(
        [
            {
                "parameter": name,
                "type": info["inferred_type_name"],
                "default": info["default"],
                "description": info["help"],
            }
            for name, info in found.items()
        ]
    )


def resolve_parameters(study: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check a study's parameters and return them complete (defaults filled in).

    Raises
    ------
    ParameterError
        On an unknown name (listing the valid ones), a wrong type or an
        invalid value, before anything runs.
    """
    declaration = STUDIES[check_option("study", study, STUDIES)].parameters
    names = [f.name for f in dataclasses.fields(declaration)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ParameterError(unknown[0], values[unknown[0]], f"a parameter of study {study!r}: one of {names}")
    checked = declaration(**values)
    return {name: getattr(checked, name) for name in names}


def write_parameters_cells(studies: Sequence[str] | None = None) -> list[Path]:
    """Regenerate each study notebook's ``parameters`` cell from its declaration; return the notebooks changed.

    The declaration (:mod:`analysis.studies.parameters`) is the only place a
    parameter is written; ``make notebooks`` calls this before executing the
    notebooks, and a test fails when a cell differs from its declaration.
    """
    import nbformat

    from analysis.studies.parameters import parameters_cell

    changed = []
    for name in studies or list(STUDIES):
        study = STUDIES[check_option("study", name, STUDIES)]
        notebook = nbformat.read(study.path, as_version=4)
        cell = next(c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", []))
        source = parameters_cell(study.parameters)
        if cell.source != source:
            cell.source = source
            nbformat.write(notebook, study.path)
            changed.append(study.path)
    return changed
