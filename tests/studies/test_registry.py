"""The study registry: one parameter declaration read by the runner and the notebook."""

from __future__ import annotations

import ast
import dataclasses
import datetime
from pathlib import Path

import papermill
import pytest
import yaml

from analysis.cli import main
from analysis.errors import ParameterError
from analysis.studies.registry import STUDIES, parameter_table, resolve_parameters


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_parameter_table_is_what_papermill_shows(study):
    table = parameter_table(study)
    shown = papermill.inspect_notebook(str(STUDIES[study].path))
    assert table["parameter"].tolist() == list(shown)
    assert table["description"].tolist() == [info["help"] for info in shown.values()]
    assert table["description"].str.len().gt(0).all()


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_declaration_and_notebook_agree_on_names_types_and_defaults(study):
    """One declaration: the notebook's parameters cell and the study's dataclass must not drift apart."""
    declaration = STUDIES[study].parameters
    declared = {f.name: f for f in dataclasses.fields(declaration)}
    shown = papermill.inspect_notebook(str(STUDIES[study].path))
    assert sorted(shown) == sorted(declared)
    defaults = declaration()
    for name, info in shown.items():
        assert ast.literal_eval(info["default"]) == getattr(defaults, name), name
        assert info["inferred_type_name"] == declared[name].type, name
        assert info["help"] == declared[name].metadata["help"], name


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_the_parameters_cell_is_generated_from_the_declaration(study):
    import nbformat

    from analysis.studies.parameters import parameters_cell

    notebook = nbformat.read(STUDIES[study].path, as_version=4)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.source == parameters_cell(STUDIES[study].parameters), "run make notebooks"
    assert notebook.cells.index(cell) == next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")


def test_a_notebook_missing_a_declared_parameter_is_refused():
    from analysis.studies.parameters import GradingParameters

    namespace = {f.name: getattr(GradingParameters(), f.name) for f in dataclasses.fields(GradingParameters)}
    assert GradingParameters.from_namespace(namespace | {"unrelated": 1}) == GradingParameters()
    del namespace["history_start"]
    with pytest.raises(ParameterError, match=r"'history_start'.*parameters cell"):
        GradingParameters.from_namespace(namespace)


def test_shared_parameters_are_declared_once():
    from analysis.studies.parameters import ChurnParameters, StudyParameters, ValueParameters

    shared = {f.name for f in dataclasses.fields(StudyParameters)}
    for declaration in (ChurnParameters, ValueParameters):
        assert shared <= {f.name for f in dataclasses.fields(declaration)}
    assert ChurnParameters().synthetic_customers == 4000 and ValueParameters().synthetic_customers == 2000


def test_resolve_fills_defaults_and_refuses_unknown_or_bad_values():
    resolved = resolve_parameters("grading", {"as_of": "1998-03-31"})
    assert resolved["as_of"] == "1998-03-31" and resolved["scheme"] == "value_share_75_20_5"
    with pytest.raises(ParameterError, match=r"'shceme'.*a parameter of study 'grading'"):
        resolve_parameters("grading", {"shceme": "rank_share_5_15_80"})
    with pytest.raises(ParameterError, match="'min_tenure_months' = 'six'"):
        resolve_parameters("grading", {"min_tenure_months": "six"})
    with pytest.raises(ParameterError, match="'study' = 'pricing'"):
        resolve_parameters("pricing", {})


def test_params_command_lists_every_parameter(capsys):
    assert main(["params", "grading"]) == 0
    out = capsys.readouterr().out
    for name in parameter_table("grading")["parameter"]:
        assert name in out


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "params").glob("*.yaml")))
def test_shipped_parameter_files_are_valid(path):
    loaded = yaml.safe_load(path.read_text())
    assert set(loaded) <= set(STUDIES)
    for study, values in loaded.items():
        plain = {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in values.items()}
        resolved = resolve_parameters(study, plain)
        assert all(resolved[k] == v for k, v in plain.items())


def test_default_parameter_file_matches_the_defaults():
    loaded = yaml.safe_load((Path(__file__).resolve().parents[2] / "params" / "default.yaml").read_text())
    for study, values in loaded.items():
        defaults = resolve_parameters(study, {})
        assert {k: defaults[k] for k in values} == values
