"""Each study's findings in a few sentences: the headline numbers, the recommendation, what to do this period.

The findings are written from the study's headline metrics (the JSON each
study writes, :func:`analysis.studies.grading.headline_metrics` and its
neighbours) and a few extra numbers the notebooks add (intervals, the
call list's size): the same function writes the summary at the top of a
study report and the run's ``summary.html``, so both say the same. The
sentences are English; :func:`analysis.presentation.translate_text` gives
them in the report's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.presentation.messages import translate
from analysis.presentation.numbers import count_text, money_text, number_text, percent_text

__all__ = ["Findings", "concentration_extras", "metrics_table", "study_findings"]


@dataclass(frozen=True)
class Findings:
    """``headline`` sentences (numbers with intervals), the ``recommendation`` and this period's ``actions``."""

    headline: list[str] = field(default_factory=list)
    recommendation: str = ""
    actions: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The findings as Markdown: a list of findings, the recommendation, the actions (English)."""
        parts = ["**Findings**", "\n".join(f"- {line}" for line in self.headline)]
        if self.recommendation:
            parts += ["**Recommendation**", self.recommendation]
        if self.actions:
            parts += ["**This period**", "\n".join(f"- {line}" for line in self.actions)]
        return "\n\n".join(parts)


def label(name: str) -> str:
    """A scheme, signal, tier or band name in words (the catalogue's English label, else the name)."""
    return translate(name, "en", "label")


def _interval(metrics: Mapping[str, Any], key: str, show: Any) -> str:
    bounds = metrics.get(f"{key}_95")
    if not bounds or any(b is None for b in bounds):
        return ""
    return f" (95% CI {show(bounds[0])}–{show(bounds[1])})"  # translated as its own template


def concentration_extras(concentration: pd.DataFrame) -> dict[str, list[float]]:
    """The interval of the top 20%'s share of value, for the findings (``top_20_percent_share_of_value_95``)."""
    row = concentration.set_index("measure").loc["top 20% share of value"]
    return {"top_20_percent_share_of_value_95": [round(float(row["lower"]), 6), round(float(row["upper"]), 6)]}


def _grading(metrics: Mapping[str, Any], currency: str) -> Findings:
    metric = metrics.get("value_metric", "revenue")
    money = metric != "occasions"
    top = metrics["top_20_percent_share_of_value"]
    customers, value = metrics.get("grade_share_of_customers", {}), metrics.get("grade_share_of_value", {})
    headline = [
        f"The top 20% of active customers hold {percent_text(top)} of {metric}"
        f"{_interval(metrics, 'top_20_percent_share_of_value', percent_text)}; the Gini coefficient is "
        f"{number_text(metrics['gini'])}."
    ]
    if customers:
        best = next(iter(customers))
        cutoff = (
            money_text(metrics["top_grade_cutoff"], currency) if money else number_text(metrics["top_grade_cutoff"])
        )
        headline.append(
            f"Under {label(metrics['scheme'])}, grade {best} is {percent_text(customers[best])} of graded "
            f"customers and holds {percent_text(value[best])} of {metric}; it starts at {cutoff}."
        )
    headline.append(
        f"{percent_text(metrics['kept_grade'])} of customers keep their grade from one regrading to the next."
    )
    if metrics.get("capture_rate") is not None:
        headline.append(
            f"Backtest: the customers graded best brought {percent_text(metrics['capture_rate'])} of the value "
            "of the following period."
        )
    actions = []
    moved = metrics.get("payment_terms_moved")
    if moved:
        actions.append(f"Move {count_text(moved)} customers down one level of payment terms (late payments).")
    under = metrics.get("under_served_share")
    if under:
        actions.append(f"{percent_text(under)} of graded customers get fewer contacts than their grade's policy.")
    if customers:
        actions.append(f"Serve grade {next(iter(customers))} by its policy (see the service policy table).")
    return Findings(
        headline, f"Use {metrics['recommended_scheme']} (best mean rank over the compared schemes).", actions
    )


def _churn(metrics: Mapping[str, Any], currency: str) -> Findings:
    headline = [
        f"{percent_text(metrics['churn_rate'])} of the {count_text(metrics['customers'])} customers active at "
        f"{metrics['as_of']} did not buy in the next {metrics['horizon_days']} days."
    ]
    headline.append(
        f"The strongest single signal is {label(metrics['strongest_signal'])} (AUC "
        f"{number_text(metrics['strongest_signal_auc'])})."
    )
    auc = metrics.get("out_of_time_auc")
    if auc is not None:
        calibration = "fails" if metrics.get("calibration_fails") else "passes"
        headline.append(
            f"Out of time, the model ranks churners with AUC {number_text(auc)}"
            f"{_interval(metrics, 'out_of_time_auc', number_text)}; its calibration check {calibration}."
        )
    share = metrics.get("alert_share_of_value_at_risk")
    if share is not None:
        headline.append(
            f"Calling the {count_text(metrics['capacity'])} customers of highest value at risk reaches "
            f"{percent_text(share)} of the value at risk (precision {percent_text(metrics['alert_precision'])})."
        )
    calls = metrics.get("call_list_customers")
    actions = []
    if calls:
        actions.append(f"Call the {count_text(calls)} customers of the call list, highest value at risk first.")
    return Findings(headline, "Rank whom to call by value at risk, not by churn probability alone.", actions)


def _value(metrics: Mapping[str, Any], currency: str) -> Findings:
    models = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}
    model = models.get(metrics.get("transaction_model", ""), metrics.get("transaction_model", ""))
    headline = [
        f"Predicted customer lifetime value of the {count_text(metrics['customers'])} customers: "
        f"{money_text(metrics['total_clv'], currency)}; the top tier holds "
        f"{percent_text(metrics['top_tier_share_of_clv'])}.",
        f"Purchases are predicted with {model} ({metrics.get('transaction_model_rule', '')}).",
        f"On average a customer is still active with probability {percent_text(metrics['mean_p_alive'])}.",
    ]
    cell = metrics.get("largest_value_at_risk_cell")
    if cell:
        cell = " x ".join(label(part) for part in cell.split(" x "))
        headline.append(f"The largest value at risk is in the cell {cell} (value tier x risk band).")
    actions = []
    if metrics.get("largest_value_at_risk_action"):
        actions.append(f"For {cell}: {metrics['largest_value_at_risk_action']}")
    recommendation = "Act on value at risk: the value x risk grid names the action for each cell."
    return Findings(headline, recommendation, actions)


_STUDIES = {"grading_thresholds": _grading, "churn_signals": _churn, "value_tiers": _value}


def study_findings(metrics: Mapping[str, Any], currency: str = "") -> Findings:
    """The findings of the study whose headline ``metrics`` these are (its ``study`` key names it)."""
    return _STUDIES[metrics["study"]](metrics, currency)


def metrics_table(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """The headline metrics as a two-column table for the appendix (nested keys joined: ``spearman_rho · A``)."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix} · {key}" if prefix else str(key), inner)
        elif isinstance(value, float):
            rows.append((prefix, number_text(value, digits=4 if abs(value) < 100 else 0)))
        else:
            rows.append((prefix, "–" if value is None or value == [] else str(value)))

    walk("", metrics)
    return pd.DataFrame(rows, columns=["metric", "value"])
