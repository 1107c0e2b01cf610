"""One page across a run's studies (``summary.html``), and the short page of a study that failed.

The summary page gives, per study, its findings, recommendation and actions
(:func:`analysis.studies.findings.study_findings`, from the metrics the
study wrote), a link to its report and to the run's exports; a failed or
skipped study says why in one sentence and links its executed notebook.
Both pages use the reports' style and language.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.presentation.messages import translate, translate_text
from analysis.reporting.report_html import report_css
from analysis.studies.findings import study_findings

__all__ = ["failure_page", "write_summary_page"]

_TITLES = {
    "grading": "Study 1 — Grading thresholds",
    "churn": "Study 2 — Churn signals",
    "value": "Study 3 — Value tiers and customer lifetime value",
}


def _markdown(text: str, language: str) -> str:
    from nbconvert.filters import markdown2html

    return markdown2html(translate_text(text, language))


def _page(title: str, body: str, language: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n<title>{html.escape(title)}</title>\n'
        f'<style>{report_css()}</style>\n</head>\n<body>\n<main class="report jp-RenderedHTMLCommon">\n{body}\n'
        "</main>\n</body>\n</html>\n"
    )


def failure_page(study: str, error: str, notebook: str, language: str = "en") -> str:
    """The page of a study that failed: what failed, why (the package's message), what to change, the notebook.

    ``error`` is the recorded ``Type: message``; the package's messages name
    the file, column or parameter to change, so the page shows them as they
    are, after saying which study failed.
    """
    title = translate(_TITLES.get(study, study), language)
    kind, _, message = error.partition(": ")
    advice = (
        "The message above names the file, column or parameter to change; correct it and run again."
        if kind in {"DataError", "ParameterError", "AnalysisError", "HistoryTooShort"}
        else "This is not a data or parameter problem the package recognised: the executed notebook shows "
        "where it stopped."
    )
    body = (
        f'<h1>{html.escape(title)}</h1>\n<div class="report-failure">\n'
        f"<p><strong>{html.escape(translate('This study did not finish.', language))}</strong></p>\n"
        f"<p>{html.escape(message or error)}</p>\n<p>{html.escape(translate_text(advice, language))}</p>\n"
        f'<p><a href="{html.escape(notebook)}">{html.escape(translate("The executed notebook", language))}</a> '
        f"({html.escape(kind)})</p>\n</div>"
    )
    return _page(title, body, language)


def _study_section(study: str, record: Mapping[str, Any], folder: Path, language: str, currency: str) -> str:
    title = translate(_TITLES.get(study, study), language)
    head = f"<h2>{html.escape(title)}</h2>\n"
    if record.get("status") == "skipped":
        return (
            head + f'<p class="report-failure">{html.escape(translate("Not run:", language))} '
            f"{html.escape(str(record.get('error', '')))}</p>"
        )
    link = f'<p><a href="{html.escape(record.get("html", ""))}">{html.escape(translate("Full report", language))}</a>'
    if record.get("status") != "ok":
        error = html.escape(str(record.get("error") or record.get("html_error") or ""))
        return head + f'<p class="report-failure">{html.escape(translate("Failed:", language))} {error}</p>' + link
    metrics_path = folder / record.get("metrics", "")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        findings = _markdown(study_findings(metrics, currency).markdown(), language)
    except (OSError, ValueError, KeyError) as exc:  # a study that wrote no metrics still gets its link
        findings = f"<p>{html.escape(translate('No findings recorded:', language))} {html.escape(str(exc))}</p>"
    return head + f'<div class="report-summary">{findings}</div>\n' + link + "</p>"


def write_summary_page(folder: Path, manifest: Mapping[str, Any], language: str = "en", currency: str = "") -> Path:
    """Write ``summary.html`` of a run into ``folder`` (its staging folder) from its ``manifest``; returns its path."""
    title = f"{translate('Summary of the run', language)} ({manifest.get('as_of') or ''})"
    data = manifest.get("data", {})
    facts = []
    for label, fact in data.items():
        customers = fact.get("customers")
        facts.append(
            f"{html.escape(str(label))}: {fact.get('first_day', '')} – {fact.get('last_day', '')}"
            + (f", {customers:,} {translate('customers', language, 'label')}" if customers else "")
        )
    sections = [
        _study_section(study, record, folder, language, currency) for study, record in manifest["studies"].items()
    ]
    exports = "".join(
        f'<li><a href="{html.escape(path)}">{html.escape(path)}</a></li>' for path in manifest.get("exports", [])
    )
    for record in manifest["studies"].values():
        exports += "".join(
            f'<li><a href="{html.escape(path)}">{html.escape(path)}</a></li>' for path in record.get("exports", [])
        )
    body = (
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="report-meta">{"<br>".join(facts)}</p>\n'
        + "\n".join(sections)
        + (f"\n<h2>{html.escape(translate('Exports', language))}</h2>\n<ul>{exports}</ul>" if exports else "")
    )
    target = folder / "summary.html"
    target.write_text(_page(title, body, language), encoding="utf-8")
    return target
