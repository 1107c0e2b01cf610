"""The studies of a run side by side: order, concurrency, errors, progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from analysis.errors import ParameterError
from analysis.reporting.schedule import default_jobs, run_studies


class Recorder:
    """A stand-in for ``run_study`` that records how many studies ran at once."""

    def __init__(self, seconds: float = 0.2, fail: str | None = None) -> None:
        self.seconds, self.fail = seconds, fail
        self.running = self.most = 0
        self.lock = threading.Lock()
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, study: str, folder: Path, values: dict[str, Any], *, progress_bar: Any) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.calls.append((study, progress_bar))
        try:
            time.sleep(self.seconds)
            if study == self.fail:
                raise OSError(28, "No space left on device")
            return {"status": "ok", "study": study, "values": values}
        finally:
            with self.lock:
                self.running -= 1


PLANS = {"grading": {"a": 1}, "churn": {"a": 2}, "value": {"a": 3}}


def test_results_come_in_the_runs_order_with_each_studys_parameters(tmp_path):
    recorder = Recorder(seconds=0.05)
    results = run_studies(PLANS, tmp_path, recorder, jobs=3, progress=False)
    assert list(results) == list(PLANS)
    assert {study: r["values"] for study, r in results.items()} == PLANS


def test_jobs_bounds_how_many_studies_run_at_once(tmp_path):
    one_at_a_time = Recorder()
    run_studies(PLANS, tmp_path, one_at_a_time, jobs=1, progress=False)
    assert one_at_a_time.most == 1
    side_by_side = Recorder()
    run_studies(PLANS, tmp_path, side_by_side, jobs=3, progress=False)
    assert side_by_side.most >= 2  # sleeping studies overlap (3 if the machine starts them promptly)


def test_a_folder_error_is_raised_after_the_running_studies_finish(tmp_path):
    recorder = Recorder(seconds=0.1, fail="grading")
    with pytest.raises(OSError, match="No space"):
        run_studies(PLANS, tmp_path, recorder, jobs=2, progress=False)
    assert recorder.running == 0  # nothing left running when the error reaches the caller


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_whole_number_of_one_or_more(tmp_path, jobs):
    with pytest.raises(ParameterError, match="jobs"):
        run_studies(PLANS, tmp_path, Recorder(), jobs=jobs, progress=False)


def test_no_progress_means_no_bars_and_nothing_printed(tmp_path, capsys):
    recorder = Recorder(seconds=0.01)
    run_studies(PLANS, tmp_path, recorder, jobs=2, progress=False)
    assert all(bar is False for _, bar in recorder.calls)
    assert capsys.readouterr() == ("", "")


def test_progress_gives_each_study_its_own_line_of_the_terminal(tmp_path):
    recorder = Recorder(seconds=0.01)
    run_studies(PLANS, tmp_path, recorder, jobs=3, progress=True)
    bars = {study: bar for study, bar in recorder.calls}
    assert sorted(bar["position"] for bar in bars.values()) == [1, 2, 3]  # line 0 is the run's bar
    assert {bar["desc"] for bar in bars.values()} == set(PLANS)


def test_default_jobs_is_one_per_core_and_at_most_one_per_study(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert default_jobs(3) == 3
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_jobs(3) == 2
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert default_jobs(3) == 1
    assert default_jobs(0) == 1
