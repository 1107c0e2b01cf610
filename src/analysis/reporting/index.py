"""The index of runs (reports/index.html): every run with its headline metrics and a trend figure."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["collect_runs", "write_index"]

log = logging.getLogger("analysis")


#: Headline figures followed across periods in the index: (study, metric key, label).
TREND_FIGURES = (
    ("grading", "gini", "Gini of 12-month value"),
    ("grading", "kept_grade", "share keeping their grade"),
    ("grading", "capture_rate", "A grade's capture rate"),
    ("churn", "churn_rate", "churn rate"),
    ("churn", "alert_precision", "alert precision at K"),
    ("value", "mean_p_alive", "mean probability alive"),
)


def collect_runs(reports: str | Path) -> pd.DataFrame:
    """One row per finished run under ``reports``: folder, status, dates and headline metrics."""
    rows = []
    for manifest in sorted(Path(reports).glob("*/manifest.json")):
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s left out of the index: unreadable manifest (%s)", manifest, exc)
            continue
        row: dict[str, Any] = {
            "run": manifest.parent.name,
            "as_of": recorded.get("as_of"),
            "status": recorded.get("status"),
            "started": recorded.get("started"),
        }
        for study, outcome in recorded.get("studies", {}).items():
            if "metrics" not in outcome:  # a study skipped for a too short history
                continue
            path = manifest.parent / outcome["metrics"]
            metrics = json.loads(path.read_text()) if path.exists() else {}
            for name, key, _ in TREND_FIGURES:
                if name == study and key in metrics:
                    row[f"{study}.{key}"] = metrics[key]
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["run", "as_of", "status", "started"])


def write_index(reports: str | Path) -> Path:
    """Write ``reports/index.html``: every run with its headline metrics, and a trend figure.

    The index is a view of the runs, rebuilt from their manifests each time
    (written to a temporary file and renamed into place).
    """
    import base64
    import html
    import io
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = Path(reports)
    runs = collect_runs(reports)
    figure = ""
    trend_columns = [f"{s}.{k}" for s, k, _ in TREND_FIGURES if f"{s}.{k}" in runs]
    if len(runs) > 1 and trend_columns:
        ordered = runs.sort_values("as_of")
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        labels = {f"{s}.{k}": label for s, k, label in TREND_FIGURES}
        for column in trend_columns:
            ax.plot(pd.to_datetime(ordered["as_of"]), ordered[column], marker="o", label=labels[column])
        ax.set(xlabel="analysis date of the run", ylabel="share", title="Key figures across runs")
        ax.legend(loc="best", fontsize="small")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        encoded = base64.b64encode(buffer.getvalue()).decode()
        figure = f'<img alt="Key figures across runs" src="data:image/png;base64,{encoded}">'
    rows = []
    for values in runs.sort_values("as_of").to_dict("records"):
        name = html.escape(str(values["run"]))
        cells = [f'<a href="{name}/">{name}</a>', html.escape(str(values["as_of"])), html.escape(str(values["status"]))]
        cells += [
            f"{values[c]:.3f}" if isinstance(values.get(c), float) and values[c] == values[c] else ""
            for c in trend_columns
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in ["run", "as of", "status", *trend_columns])
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer analytics reports</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:4px 10px;border-bottom:1px solid #ddd}}</style>
</head><body><h1>Customer analytics reports</h1>
<p>{len(runs)} run(s). Each run folder holds the studies as HTML reports, their metrics and a manifest.</p>
<table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{figure}
</body></html>
"""
    target = reports / "index.html"
    staging = reports / f".index-{os.getpid()}.html"
    try:
        staging.write_text(page, encoding="utf-8")
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target
