"""The periodic report end to end: two consecutive periods, the index, reruns, bad periods."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from analysis.cli import main
from analysis.errors import ParameterError
from analysis.reporting.reproduce import compare_metrics
from analysis.studies.dates import dated
from analysis.studies.parameters import ChurnParameters
from analysis.studies.periods import period_end, period_parameters


def test_period_dates_use_only_data_up_to_the_period_end(cdnow):
    end = period_end("1998-05")
    assert end == pd.Timestamp("1998-05-31")
    grading = period_parameters("grading", end)
    assert grading["as_of"] == "1998-05-31"
    upto = cdnow[cdnow["date"] <= end]
    churn = dataclasses.asdict(dated(ChurnParameters(**period_parameters("churn", end)), upto))
    # The churn model is scored where the outcome is known by the period end.
    assert pd.Timestamp(churn["validation_as_of"]) + pd.Timedelta(days=churn["horizon_days"]) <= end
    assert churn["data_end"] == "1998-05-31"
    value = period_parameters("value", end, {"clv_horizon_weeks": 26})
    assert value["as_of"] == "1998-05-31" and value["clv_horizon_weeks"] == 26
    with pytest.raises(ParameterError, match="'period' = '1998-13'"):
        period_end("1998-13")
    with pytest.raises(ParameterError, match="YYYY-MM"):
        period_end("1998-5")
    with pytest.raises(ParameterError, match=r"'data_end'.*come from its period"):
        period_parameters("churn", end, {"data_end": "1998-06-30"})


def test_compare_metrics_lists_every_difference():
    assert compare_metrics({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 2}}) == []
    assert compare_metrics({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}, "d": 4}) == [("b.c", 2, 3), ("d", None, 4)]


@pytest.mark.e2e
@pytest.mark.slow
def test_two_consecutive_periods_then_a_rerun(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert main(["report", "--from", "1998-05", "--to", "1998-06", "--reports", str(reports)]) == 0
    assert sorted(p.name for p in reports.iterdir()) == ["1998-05", "1998-06", "index.html"]
    for period in ("1998-05", "1998-06"):
        run = reports / period
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["status"] == "ok" and manifest["as_of"] == str(period_end(period).date())
        assert manifest["studies"]["grading"]["parameters"]["as_of"] == manifest["as_of"]
        for outcome in manifest["studies"].values():
            metrics = json.loads((run / outcome["metrics"]).read_text())
            assert metrics["study"] in {"grading_thresholds", "churn_signals", "value_tiers"}
            page = (run / outcome["html"]).read_text()
            assert "<img" in page and "import matplotlib" not in page  # figures, no code
    index = (reports / "index.html").read_text()
    assert "1998-05/" in index and "1998-06/" in index and "data:image/png;base64," in index
    may = json.loads((reports / "1998-05" / "metrics" / "02_churn_signals.json").read_text())
    june = json.loads((reports / "1998-06" / "metrics" / "02_churn_signals.json").read_text())
    assert may["as_of"] < june["as_of"]
    # The same period again: a new folder, never the old one overwritten, identical metrics.
    first = (reports / "1998-06" / "metrics" / "01_grading_thresholds.json").read_bytes()
    assert main(["report", "--period", "1998-06", "grading", "--reports", str(reports)]) == 0
    assert (reports / "1998-06-2" / "metrics" / "01_grading_thresholds.json").read_bytes() == first
    assert (reports / "1998-06" / "metrics" / "01_grading_thresholds.json").read_bytes() == first


def test_bad_report_requests_write_nothing(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert main(["report", "--period", "1998-13", "--reports", str(reports)]) == 2
    assert main(["report", "--from", "1998-06", "--to", "1998-01", "--reports", str(reports)]) == 2
    assert main(["report", "--reports", str(reports)]) == 2
    assert main(["report", "--period", "1998-06", "-p", "grading.shceme=x", "--reports", str(reports)]) == 2
    # A given date would let data after the period end into the report: refused.
    assert main(["report", "--period", "1998-01", "-p", "as_of=1998-06-30", "--reports", str(reports)]) == 2
    assert main(["report", "--period", "1998-01", "-p", "churn.horizon_days=ninety", "--reports", str(reports)]) == 2
    assert not reports.exists()


def test_runs_started_at_once_get_separate_complete_folders(tmp_path):
    import threading

    from analysis.reporting.folders import atomic_run_folder

    barrier = threading.Barrier(6)
    finals = []

    def one_run(number: int) -> None:
        with atomic_run_folder(tmp_path, "1998-06") as run:
            (run.staging / "who.txt").write_text(str(number))
            barrier.wait(timeout=120)  # every run is staged before any is renamed into place
        finals.append((number, run.final))

    threads = [threading.Thread(target=one_run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["1998-06", *(f"1998-06-{i}" for i in range(2, 7))])  # nothing half-written left
    for number, final in finals:
        assert (final / "who.txt").read_text() == str(number)  # each run kept its own files
