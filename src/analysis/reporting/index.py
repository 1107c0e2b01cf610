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
        command = recorded.get("command") or {}
        reproduced = "reproduced" in manifest.parent.name
        series = "periodic" if command.get("period") else "reproduced" if reproduced else "main"
        row: dict[str, Any] = {
            "run": manifest.parent.name,
            "series": series,
            "as_of": recorded.get("as_of"),
            "status": recorded.get("status"),
            "started": recorded.get("started"),
            "summary": recorded.get("summary"),
            "reports": {study: o.get("html") for study, o in recorded.get("studies", {}).items() if o.get("html")},
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
    return pd.DataFrame(rows, columns=None if rows else ["run", "series", "as_of", "status", "started"])


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
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import PercentFormatter

    from analysis.presentation.numbers import percent_text

    labels = {f"{s}.{k}": label for s, k, label in TREND_FIGURES}
    trend_columns = [f"{s}.{k}" for s, k, _ in TREND_FIGURES if f"{s}.{k}" in runs]
    sections = []
    for series in ("main", "periodic", "reproduced"):
        chosen = runs[runs["series"] == series].sort_values("as_of") if len(runs) else runs
        if not len(chosen):
            continue
        figure = ""
        if len(chosen) > 1 and trend_columns:
            fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
            for column in trend_columns:
                ax.plot(pd.to_datetime(chosen["as_of"]), chosen[column], marker="o", label=labels[column])
            locator = AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            ax.yaxis.set_major_formatter(PercentFormatter(1))
            ax.set(xlabel="analysis date of the run", ylabel="share", title=f"Key figures across {series} runs")
            fig.legend(loc="outside right upper", fontsize="small")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110)
            plt.close(fig)
            encoded = base64.b64encode(buffer.getvalue()).decode()
            alt = f"Key figures across {series} runs: " + ", ".join(labels[c] for c in trend_columns)
            figure = f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'
        rows = []
        for values in chosen.to_dict("records"):
            name = html.escape(str(values["run"]))
            links = []
            if values.get("summary"):
                links.append(f'<a href="{name}/{html.escape(str(values["summary"]))}">summary</a>')
            for study, page in (values.get("reports") or {}).items():
                links.append(f'<a href="{name}/{html.escape(str(page))}">{html.escape(study)}</a>')
            cells = [name, " · ".join(links), html.escape(str(values["as_of"])), html.escape(str(values["status"]))]
            cells += [
                percent_text(values[c]) if isinstance(values.get(c), float) and values[c] == values[c] else "–"
                for c in trend_columns
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        head = ["run", "reports", "analysis date", "status", *(labels[c] for c in trend_columns)]
        header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        sections.append(
            f"<h2>{html.escape(series.capitalize())} runs</h2>\n"
            f'<div style="overflow-x:auto"><table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f"</table></div>\n{figure}"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer analytics reports</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}} td,th{{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:left}} img{{max-width:100%}}</style>
</head><body><h1>Customer analytics reports</h1>
<p>{len(runs)} run(s). Each run links its summary page and its study reports.</p>
{"".join(sections)}
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
