"""The command line as a user runs it: ``python -m analysis ...`` from a folder outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_outside"]

SRC = Path(__file__).resolve().parents[1] / "src"


def run_outside(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m analysis *args`` in ``cwd`` with this checkout's package; output captured as text."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
