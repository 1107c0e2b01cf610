"""Tests of the shared argument checks (analysis.checks) not covered by their doctests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.checks import check_increasing, check_rows
from analysis.errors import DataError, ParameterError
from analysis.grading.schemes import Scheme
from analysis.value.tiers import risk_bands


@pytest.mark.parametrize(
    ("values", "strict", "expected"),
    [
        ([0.75, 0.95], True, (0.75, 0.95)),
        ((1, 2, 3), True, (1.0, 2.0, 3.0)),
        (np.array([0.1, 0.2]), True, (0.1, 0.2)),
        ([], True, ()),
        ([5.0], True, (5.0,)),
        ([0.2, 0.2, 0.3], False, (0.2, 0.2, 0.3)),
        (iter([1, 2]), True, (1.0, 2.0)),
    ],
)
def test_increasing_values_come_back_as_floats(values, strict, expected):
    got = check_increasing("cuts", values, strict=strict)
    assert got == expected
    assert all(type(v) is float for v in got)


@pytest.mark.parametrize(
    ("values", "strict", "pair"),
    [
        ([0.95, 0.75], True, "values 1 and 2 are 0.95 then 0.75"),
        ([0.1, 0.5, 0.5], True, "values 2 and 3 are 0.5 then 0.5"),
        ([0.1, 0.5, 0.4, 0.3], False, "values 2 and 3 are 0.5 then 0.4"),
        ([0.1, float("nan"), 0.3], True, "values 1 and 2 are 0.1 then nan"),
    ],
)
def test_the_first_pair_out_of_order_is_named(values, strict, pair):
    with pytest.raises(ParameterError, match="strictly increasing" if strict else "expected increasing") as caught:
        check_increasing("edges", values, strict=strict)
    error = caught.value
    assert error.parameter == "edges"
    assert error.value is values
    assert error.expected.endswith(pair)


@pytest.mark.parametrize("values", [[0.1, "0.2"], [True, 2], [0.1, None]])
def test_values_that_are_not_numbers_are_refused(values):
    with pytest.raises(ParameterError, match=r"parameter 'cuts'.*strictly increasing numbers$"):
        check_increasing("cuts", values)


def test_what_the_values_are_is_in_the_message():
    with pytest.raises(ParameterError, match=r"expected strictly increasing shares inside \(0, 1\); values 1 and 2"):
        check_increasing("cuts", [0.9, 0.1], what="shares inside (0, 1)")


def test_cut_offs_are_checked_in_order_where_they_are_used():
    with pytest.raises(ParameterError, match=r"'cuts'.*strictly increasing shares.*values 1 and 2 are 0.95 then 0.75"):
        Scheme("s", "value_share", cuts=(0.95, 0.75))
    p = pd.Series([0.1, 0.5, 0.9])
    with pytest.raises(ParameterError, match=r"'risk_cuts'.*values 1 and 2 are 0.6 then 0.3"):
        risk_bands(p, cuts=(0.6, 0.3))
    with pytest.raises(ParameterError, match=r"'risk_cuts'.*values 1 and 2 are 0.3 then 0.3"):
        risk_bands(p, cuts=(0.3, 0.3))
    assert list(risk_bands(p, cuts=(0.3, 0.6))) == ["low", "medium", "high"]


def test_check_rows_names_the_column_count_and_first_rows():
    frame = pd.DataFrame({"amount": [1.0, -2.0, 3.0, -4.0]}, index=[10, 11, 12, 13])
    check_rows(frame, "amount", frame["amount"] > 100, "too large")  # nothing bad: no error
    with pytest.raises(DataError) as caught:
        check_rows(frame, "amount", frame["amount"] < 0, "negative values", table="sales.csv", hint="Drop returns")
    error = caught.value
    assert (error.file, error.column, error.n_bad, error.n_rows) == ("sales.csv", "amount", 2, 4)
    assert error.examples[0] == (11, -2.0)
    assert "Drop returns" in str(error)
