"""Tests of analysis.churn.design: reference levels, units, aliased columns found and named, variance inflation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.outliers_influence import variance_inflation_factor

from analysis.churn.design import aliased_columns, one_hot_design, variance_inflation
from analysis.errors import DataError, ParameterError
from telco_like import TRUTH, telco_like


def test_no_internet_and_no_phone_levels_are_found_aliased_and_named():
    frame, design = telco_like(800, seed=1)
    aliased = design.aliased.set_index("column")["aliased_with"]
    assert aliased.to_dict() == {
        "multiple_lines__no_phone_service": "1 - has_phone_service",
        "online_security__no_internet_service": "internet_service__no",
        "tech_support__no_internet_service": "internet_service__no",
        "streaming_tv__no_internet_service": "internet_service__no",
    }
    assert design.columns == list(TRUTH)[1:]
    full = np.column_stack([np.ones(len(frame)), design.matrix.to_numpy()])
    assert np.linalg.matrix_rank(full) == full.shape[1]  # what is kept is identified
    every = one_hot_design(frame, {"internet_service": "DSL", "online_security": "No"}, {}, drop_aliased=False)
    assert np.linalg.matrix_rank(np.column_stack([np.ones(len(frame)), every.matrix])) == every.matrix.shape[1]
    assert every.terms["kept"].all()  # drop_aliased=False keeps the singular design


def test_reference_levels_and_units():
    frame = pd.DataFrame(
        {
            "plan": ["a", "b", "c", "b", "a", "c", "b", "a"],
            "months": [12.0, 24.0, np.nan, 6.0, 3.0, 36.0, 18.0, 30.0],
            "flag": [0, 1, 1, 0, 1, 0, 0, 1],
        }
    )
    design = one_hot_design(frame, {"plan": "b"}, {"months": ("years", 12.0)}, ("flag",))
    assert design.columns == ["flag", "plan__a", "plan__c", "years"]
    np.testing.assert_array_equal(design.matrix["plan__a"], [1, 0, 0, 0, 1, 0, 0, 1])
    np.testing.assert_allclose(design.matrix["years"], frame["months"] / 12)
    terms = design.terms.set_index("column")
    assert terms.loc["plan__c", "reference"] == "b" and terms.loc["years", "level"] == "per 12"
    assert design.matrix.index.equals(frame.index)
    with pytest.raises(ParameterError, match="reference of plan"):
        one_hot_design(frame, {"plan": "z"}, {})
    with pytest.raises(DataError, match="flag must be 0/1"):
        one_hot_design(frame.assign(flag=2), {}, {}, ("flag",))
    with pytest.raises(DataError, match="missing categories"):
        one_hot_design(frame.assign(plan=frame["plan"].where(frame["flag"] == 0)), {"plan": "a"}, {})
    with pytest.raises(ParameterError, match="unit of months"):
        one_hot_design(frame, {}, {"months": ("years", 0.0)})


def test_aliased_columns_names_a_general_combination():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50), rng.normal(size=50)
    matrix = pd.DataFrame(
        {"a": a, "b": b, "sum": 2 * a - b + 3, "constant": np.ones(50), "near": a + 1e-3 * rng.normal(size=50)}
    )
    found = aliased_columns(matrix)
    assert found.to_dict() == {"sum": "3 + 2 a - b", "constant": "1"}


def test_variance_inflation_matches_statsmodels():
    _, design = telco_like(600, seed=2)
    x = design.matrix
    with_constant = np.column_stack([np.ones(len(x)), x.to_numpy()])
    expected = [variance_inflation_factor(with_constant, j + 1) for j in range(x.shape[1])]
    np.testing.assert_allclose(variance_inflation(x).to_numpy(), expected, rtol=1e-6)
    assert variance_inflation(x)["gender__male"] < 1.1  # unrelated to the rest
