"""The return rule is a study parameter: ``return_window_days`` reaches every summary a study computes."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.studies import churn as study
from analysis.studies.dates import choose_from_data
from analysis.studies.parameters import ChurnParameters, GradingParameters, ValueParameters


def _returned_a_week_later() -> pd.DataFrame:
    """Customer "r" buys 500 and returns all of it 7 days later; "k" keeps a purchase; no order ids."""
    days = pd.to_datetime(["2024-01-05", "2024-03-01", "2024-03-08", "2024-01-05", "2024-03-01", "2024-07-20"])
    return pd.DataFrame(
        {
            "customer_id": ["r", "r", "r", "k", "k", "k"],
            "date": days,
            "amount": [100.0, 500.0, -500.0, 100.0, 500.0, 80.0],
        }
    )


@pytest.mark.parametrize("declaration", [GradingParameters, ChurnParameters, ValueParameters])
def test_every_study_has_the_return_rule_and_refuses_a_negative_window(declaration):
    assert declaration().return_window_days == 30
    assert declaration(return_window_days=0).summary_options() == {"engine": "duckdb", "return_window_days": 0}
    with pytest.raises(ParameterError, match="return_window_days"):
        declaration(return_window_days=-1)


def test_the_churn_frame_follows_the_study_s_return_window():
    tables = {"transactions": _returned_a_week_later()}
    frames = {}
    for window in (0, 30):
        given = ChurnParameters(
            as_of="2024-03-31", data_end="2024-07-31", horizon_days=60, lookback_days=120, return_window_days=window
        )
        params = choose_from_data(given, tables["transactions"])[0]
        frames[window] = study.study_frame(tables, params, params.as_of).set_index("customer_id")
    # a week later is outside a same-day rule: the 500 purchase stays an occasion; inside 30 days it is cancelled
    assert frames[0].loc["r", "occasions"] == 2 and frames[30].loc["r", "occasions"] == 1
    assert frames[0].loc["k", "occasions"] == frames[30].loc["k", "occasions"] == 2
    assert frames[0].loc["r", "trailing_value"] == frames[30].loc["r", "trailing_value"] == 100.0  # net unchanged
