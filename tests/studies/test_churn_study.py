"""Study 2: parameters, horizon sweep, the synthetic check, notebook runs."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from analysis.errors import ParameterError
from analysis.studies import churn as study
from analysis.studies.dates import dated
from analysis.synthetic.effects import SIGNALS
from analysis.synthetic.generate import generate_b2b

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_churn_signals.ipynb"


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"as_of": "1997-09-30", "validation_as_of": "1997-09-01"}, "'validation_as_of'.*after as_of"),
        ({"horizon_days": -1}, "'horizon_days' = -1"),
        ({"horizons": [30, -1]}, "'horizons'"),
        ({"drop_size": 1.5}, "'drop_size' = 1.5"),
        ({"pseudonym_key_file": "key.txt"}, "'pseudonym_key_file'"),
        ({"capacity": "500"}, "'capacity' = '500'"),
        ({"as_of": "soon"}, "'as_of' = 'soon'"),
    ],
)
def test_invalid_parameters_are_refused(changes, pattern):
    with pytest.raises(ParameterError, match=pattern):
        study.ChurnParameters(**changes)


def test_horizon_sweep_skips_horizons_beyond_the_data_and_churn_falls_with_h(cdnow):
    given = study.ChurnParameters(
        as_of="1998-03-31", validation_as_of="1998-04-30", horizon_days=30, horizons=[30, 60, 90, 180]
    )
    params = dated(given, cdnow)
    table = study.churn_by_horizon(cdnow, params)
    assert table["horizon_days"].tolist() == [30, 60, 90]  # 180 days would run past 1998-06-30
    # A longer horizon leaves more time to buy again: the churn rate cannot rise.
    assert table["churn_rate"].is_monotonic_decreasing


def test_planted_effects_check_reports_truth_and_coverage():
    params = study.ChurnParameters(synthetic_customers=3000, random_seed=5)
    planted = study.planted_effects_check(params)
    truth = generate_b2b(50, seed=0).true_effects.set_index("signal")["ratio"]
    assert planted["true_odds_ratio"].tolist() == [truth[s] for s in planted["signal"]]
    assert (planted["lower_95"] < planted["odds_ratio"]).all() and (planted["odds_ratio"] < planted["upper_95"]).all()
    assert (planted["odds_ratio"] > 1).all()  # every planted effect raises churn, and is found to
    assert f"{int(planted['covered'].sum())} of {len(SIGNALS)}" in study.describe_planted(planted)


@pytest.mark.e2e
@pytest.mark.slow
def test_notebook_runs_on_the_synthetic_source(tmp_path):
    metrics_path = tmp_path / "metrics.json"
    key_file = tmp_path / "key.txt"
    key_file.write_text("a key only this test knows\n")
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        parameters={
            "data_source": "synthetic_b2b",
            "as_of": "2024-06-30",
            "validation_as_of": "2024-07-31",
            "horizon_days": 90,
            "horizons": [30, 90],
            "synthetic_customers": 1500,
            "capacity": 100,
            "capacities": [50, 100, 200],
            "alerts_path": str(tmp_path / "alerts.csv"),
            "pseudonymise": True,
            "pseudonym_key_file": str(key_file),
            "metrics_path": str(metrics_path),
        },
        kernel_name="python3",
        progress_bar=False,
    )
    metrics = json.loads(metrics_path.read_text())
    assert metrics["data_source"] == "synthetic_b2b" and metrics["capacity"] == 100
    assert 0 < metrics["churn_rate"] < 1
    exported = (tmp_path / "alerts.csv").read_text()
    assert "C0" not in exported  # pseudonymised ids only
