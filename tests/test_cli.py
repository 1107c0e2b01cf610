"""The command line: exit codes, clear errors, atomic and non-overwriting outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.data.datasets import DATASETS, dataset_path, sha256_file


@pytest.mark.e2e
def test_run_writes_a_complete_run_and_never_overwrites(tmp_path, capsys):
    before = {name: sha256_file(dataset_path(name)) for name in DATASETS}
    assert main(["run", "--reports", str(tmp_path)]) == 0
    first = tmp_path / "main-1998-06-30"
    assert main(["run", "--reports", str(tmp_path), "--no-studies"]) == 0
    second = tmp_path / "main-1998-06-30-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name]  # no leftovers
    for run in (first, second):
        names = {p.name for p in run.iterdir()}
        assert {"metrics.json", "manifest.json", "data"} <= names
        assert {p.name for p in (run / "data").iterdir()} == {"cdnow_profile.csv", "cdnow_customer_summary.parquet"}
    # Same parameters and data: byte-identical metrics.
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["data"]["cdnow"]["customers"] == 23_570
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["inputs"]["cdnow"]["sha256"] == DATASETS["cdnow"].sha256
    assert set(manifest["studies"]) == {"grading", "churn", "value"}
    assert manifest["inputs_unchanged_after_run"] is True
    assert all(outcome["status"] == "ok" for outcome in manifest["studies"].values())
    assert manifest["studies"]["grading"]["status"] == "ok"
    study_metrics = json.loads((first / "metrics" / "01_grading_thresholds.json").read_text())
    assert study_metrics["study"] == "grading_thresholds"
    html = (first / "01_grading_thresholds.html").read_text()
    assert "Grading thresholds" in html and "<img" in html and "import matplotlib" not in html
    summary = pd.read_parquet(first / "data" / "cdnow_customer_summary.parquet")
    assert len(summary) == 23_570
    # Shipped data unchanged by the run.
    assert before == {name: sha256_file(dataset_path(name)) for name in DATASETS}
    assert "purchase occasions" in (first / "data" / "cdnow_profile.csv").read_text()  # printed only with -v


@pytest.mark.e2e
def test_reproduce_reports_identical_or_differences_and_refuses_changed_inputs(tmp_path, capsys):
    data = tmp_path / "sales.csv"
    rng = np.random.default_rng(3)
    rows = 4000
    pd.DataFrame(
        {
            "customer_id": rng.integers(0, 400, rows).astype(str),
            "date": (pd.Timestamp("1997-01-01") + pd.to_timedelta(rng.integers(0, 540, rows), unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "amount": np.round(rng.lognormal(3, 1, rows), 2),
        }
    ).to_csv(data, index=False)
    reports = tmp_path / "reports"
    assert main(["run", "grading", "--reports", str(reports), "-p", f"data_source={data}", "--name", "r"]) == 0
    manifest = reports / "r" / "manifest.json"
    recorded = json.loads(manifest.read_text())
    assert recorded["inputs"][str(data)]["rows"] == rows
    assert main(["reproduce", str(manifest)]) == 0
    assert "identical" in capsys.readouterr().out
    assert (reports / "r-reproduced" / "manifest.json").exists()
    # A recorded metric that no longer matches is reported, with a non-zero exit.
    metrics = reports / "r" / "metrics" / "01_grading_thresholds.json"
    changed = json.loads(metrics.read_text()) | {"gini": 0.1}
    metrics.write_text(json.dumps(changed))
    assert main(["reproduce", str(manifest)]) == 5
    assert "gini: recorded 0.1" in capsys.readouterr().out
    # Changed input data: refused before anything runs.
    with open(data, "a") as handle:
        handle.write("1,1998-01-01,5\n")
    before = sorted(p.name for p in reports.iterdir())
    assert main(["reproduce", str(manifest)]) == 1
    assert "changed since the recorded run" in capsys.readouterr().err
    assert sorted(p.name for p in reports.iterdir()) == before


def test_failed_run_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    from analysis.reporting import run as runner

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(runner, "write_json", broken)
    assert main(["run", "--reports", str(tmp_path), "--no-studies"]) == 3
    assert "disk full" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_file_exits_1_with_the_message(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-01,x\n")
    assert main(["profile", str(path)]) == 1
    err = capsys.readouterr().err
    assert "sales.csv, column 'amount': non-numeric values in 1 row of 1; first: line 2: 'x'" in err


def test_summarize_maps_columns_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("Kunde,Datum,Umsatz\n1,2024-01-01,5\n1,2024-01-09,7\n2,2024-01-03,1\n")
    out = tmp_path / "summary.csv"
    args = [
        "summarize",
        str(path),
        "-c",
        "customer_id=Kunde",
        "-c",
        "date=Datum",
        "-c",
        "amount=Umsatz",
        "--as-of",
        "2024-01-31",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    summary = pd.read_csv(out, dtype={"customer_id": str})
    assert summary["frequency"].tolist() == [1, 0]
    stamp = out.stat().st_mtime_ns
    assert main(args) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert out.stat().st_mtime_ns == stamp


def test_bad_parameter_exits_2(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("customer_id,date,amount\nA,2024-01-01,1\n")
    assert main(["summarize", str(path), "--as-of", "someday", "--out", str(tmp_path / "o.csv")]) == 2
    assert "'as_of' = 'someday'" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_module_entry_point_runs_as_a_process():
    done = subprocess.run([sys.executable, "-m", "analysis", "profile", "cdnow"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "23570" in done.stdout


def test_run_refuses_bad_parameters_before_writing_anything(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert main(["run", "grading", "--reports", str(reports), "-p", "shceme=rank_share_5_15_80"]) == 2
    assert "'shceme'" in capsys.readouterr().err
    assert main(["run", "grading", "--reports", str(reports), "-p", "quota_shares=[0.5, 0.5, 0.5, 0.1]"]) == 2
    assert "'quota_shares'" in capsys.readouterr().err
    params = tmp_path / "params.yaml"
    params.write_text("grading:\n  min_tenure_months: six\n")
    assert main(["run", "--reports", str(reports), "--params", str(params)]) == 2
    assert main(["run", "pricing", "--reports", str(reports)]) == 2
    assert not reports.exists()  # nothing written


@pytest.mark.e2e  # executes the grading notebook
def test_run_with_yaml_and_overrides_records_resolved_parameters(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("grading:\n  as_of: 1998-03-31\n  later_rows: drop\n  validation_horizon_days: 90\n")
    argv = ["run", "grading", "--reports", str(tmp_path), "--params", str(params), "-p", "grading.scheme=computed_abc"]
    assert main([*argv, "-p", "rank_share_cuts=[0.1, 0.3]", "--name", "custom"]) == 0
    manifest = json.loads((tmp_path / "custom" / "manifest.json").read_text())
    resolved = manifest["studies"]["grading"]["parameters"]
    assert resolved["as_of"] == "1998-03-31"  # a YAML date stays the text the notebook expects
    assert resolved["scheme"] == "computed_abc" and resolved["rank_share_cuts"] == [0.1, 0.3]
    metrics = json.loads((tmp_path / "custom" / "metrics" / "01_grading_thresholds.json").read_text())
    assert metrics["as_of"] == "1998-03-31" and metrics["scheme"] == "computed_abc"


@pytest.mark.e2e
def test_a_failing_study_is_kept_and_reported(tmp_path, monkeypatch):
    """A notebook that fails mid-way: partial notebook kept, manifest names cell and error, exit 4."""
    from test_safety import _echo_study

    _echo_study(tmp_path, monkeypatch, "raise ValueError('the study broke here')")
    assert main(["run", "echo", "--reports", str(tmp_path / "r"), "--name", "x"]) == 4
    run = tmp_path / "r" / "x"
    manifest = json.loads((run / "manifest.json").read_text())
    outcome = manifest["studies"]["echo"]
    assert manifest["status"] == "failed" and outcome["status"] == "failed"
    assert "the study broke here" in outcome["error"]
    assert outcome["cell"] is not None
    assert (run / "echo.ipynb").exists()


def test_an_engine_that_cannot_be_opened_stops_the_run_before_anything_is_written(tmp_path):
    engine = f"engine=duckdb://{tmp_path / 'no-such-folder' / 'x.ddb'}"
    assert main(["run", "grading", "--reports", str(tmp_path / "r"), "-p", engine]) == 2
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_summarize_refuses_missing_folder_and_empty_result_without_leftovers(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("customer_id,date,amount\n1,2024-01-01,5\n")
    assert main(["summarize", str(path), "--as-of", "2024-01-31", "--out", str(tmp_path / "no" / "s.csv")]) == 2
    argv = ["summarize", str(path), "--as-of", "2023-01-31", "--out", str(tmp_path / "s.csv"), "--drop-later-rows"]
    assert main(argv) == 1
    assert "no rows dated on or before 2023-01-31 (1 after it left out)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv"]


def test_publish_file_never_replaces_and_cleans_up(tmp_path):
    from analysis.errors import ParameterError
    from analysis.files import publish_file
    from analysis.reporting.folders import write_metrics

    target = tmp_path / "metrics.json"
    write_metrics(target, {"a": 1})
    with pytest.raises(ParameterError, match="never overwritten"):
        write_metrics(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}

    def broken(staging):
        staging.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish_file(tmp_path / "other.csv", broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_run_refuses_two_analysis_dates(tmp_path, capsys):
    argv = ["run", "grading", "--reports", str(tmp_path / "r"), "--as-of", "1998-06-30", "-p", "as_of=1998-03-31"]
    assert main(argv) == 2
    assert "'as_of'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_as_of_sets_every_study_dates_including_churn(tmp_path):
    from analysis.cli import _parser, _study_parameters

    args = _parser().parse_args(["run", "--as-of", "1998-06-30", "--reports", str(tmp_path)])
    resolved = _study_parameters(args)
    assert resolved["grading"]["as_of"] == "1998-06-30" and resolved["value"]["as_of"] == "1998-06-30"
    churn = resolved["churn"]
    assert churn["data_end"] == "1998-06-30" and churn["validation_as_of"] < "1998-06-30"


def test_engine_option_runs_the_summaries_there_with_the_same_numbers(tmp_path):
    reports = tmp_path / "r"
    assert main(["run", "--reports", str(reports), "--no-studies", "--name", "embedded"]) == 0
    # Another Ibis backend by URL (an in-memory DuckDB opened through ibis.connect).
    assert main(["run", "--reports", str(reports), "--no-studies", "--name", "url", "--engine", "duckdb://"]) == 0
    assert (reports / "embedded" / "metrics.json").read_bytes() == (reports / "url" / "metrics.json").read_bytes()
    manifest = json.loads((reports / "url" / "manifest.json").read_text())
    assert manifest["engine"] == "duckdb://"
    out = tmp_path / "s.parquet"
    argv = ["summarize", "cdnow", "--as-of", "1997-12-31", "--out", str(out), "--engine", "duckdb://"]
    assert main([*argv, "--drop-later-rows"]) == 0
    assert len(pd.read_parquet(out)) > 0


def test_bad_engine_exits_2_before_writing_anything(tmp_path, capsys):
    reports = tmp_path / "r"
    assert main(["run", "grading", "--reports", str(reports), "--engine", "oracle"]) == 2
    assert main(["run", "grading", "--reports", str(reports), "-p", "engine=oracle"]) == 2
    assert main(["run", "--reports", str(reports), "--engine", "spark", "-p", "grading.engine=duckdb"]) == 2
    assert not reports.exists()
    assert "engine" in capsys.readouterr().err


def test_summarize_scans_a_parquet_folder_in_place_within_a_memory_limit(tmp_path, cdnow):
    folder = tmp_path / "sales"
    for year, rows in cdnow.groupby(cdnow["date"].dt.year):
        (folder / f"year={year}").mkdir(parents=True)
        rows.drop(columns=[c for c in rows.columns if c not in ("customer_id", "date", "amount")]).to_parquet(
            folder / f"year={year}" / "part-0.parquet", index=False
        )
    out_folder, out_frame = tmp_path / "from_folder.parquet", tmp_path / "from_frame.parquet"
    argv = ["summarize", str(folder), "--as-of", "1998-06-30", "--memory-limit", "200MB", "--out", str(out_folder)]
    assert main(argv) == 0
    assert main(["summarize", "cdnow", "--as-of", "1998-06-30", "--out", str(out_frame)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out_folder), pd.read_parquet(out_frame))
    bad_limit = ["summarize", str(folder), "--as-of", "1998-06-30", "--memory-limit", "lots"]
    assert main([*bad_limit, "--out", str(tmp_path / "y.parquet")]) == 2
    assert not (tmp_path / "y.parquet").exists()


@pytest.mark.parametrize("jobs", ["0", "two", "-1"])
def test_bad_jobs_is_a_usage_error_before_writing_anything(tmp_path, capsys, jobs):
    reports = tmp_path / "r"
    with pytest.raises(SystemExit) as stop:
        main(["run", "grading", "--reports", str(reports), "--jobs", jobs])
    assert stop.value.code == 2  # argparse's usage error, the code of a bad parameter
    assert not reports.exists()
    assert "--jobs" in capsys.readouterr().err
