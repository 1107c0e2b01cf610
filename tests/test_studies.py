"""The study registry: one parameter declaration read by the runner and the notebook."""

from __future__ import annotations

import dataclasses

import papermill
import pytest

from analysis.cli import main
from analysis.errors import ParameterError
from analysis.studies import STUDIES, parameter_table, resolve_parameters


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_parameter_table_is_what_papermill_shows(study):
    table = parameter_table(study)
    shown = papermill.inspect_notebook(str(STUDIES[study].path))
    assert table["parameter"].tolist() == list(shown)
    assert table["description"].tolist() == [info["help"] for info in shown.values()]
    assert table["description"].str.len().gt(0).all()


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_declaration_and_notebook_agree(study):
    declared = [f.name for f in dataclasses.fields(STUDIES[study].parameters)]
    assert parameter_table(study)["parameter"].tolist() == declared


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
