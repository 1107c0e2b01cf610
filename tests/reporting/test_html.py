"""A study's HTML report loads in headless Chromium without errors and shows its figures.

Chromium is Debian's package (installed by .ci/run). The screenshot is kept
under reports/_test_artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest

from analysis.cli import main

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "_test_artifacts"


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_study_report_loads_in_headless_chromium_and_shows_its_figures(tmp_path):
    assert main(["run", "grading", "--reports", str(tmp_path), "--name", "html"]) == 0
    page = (tmp_path / "html" / "01_grading_thresholds.html").resolve()
    url = page.as_uri()

    dom = chromium(url, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Study 1" in dom.stdout and "Grading thresholds" in dom.stdout
    assert dom.stdout.count('src="data:image/png;base64,') >= 4  # the figures are embedded
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert console_errors == []
    assert "Uncaught" not in dom.stderr

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "01_grading_thresholds.png"
    taken = chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,3000")
    assert taken.returncode == 0, taken.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 3000 and pixels.shape[1] >= 1200
    assert pixels.std() > 0.05  # not a blank page: text and figures drawn
