"""Study 1 on B2B tables: the score's B2B inputs, the payment-terms downgrade, actual contact against the policy.

The notebook ``notebooks/01_grading_thresholds.ipynb`` calls these one step
at a time, with the tables of the source (:func:`analysis.studies.sources.load_tables`).
Every step works without the CRM tables: it returns an empty table and its
sentence says which table would enable it. Everything is as known at
``params.as_of`` (the B2B modules cut every table there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from analysis.grading.b2b import b2b_inputs, has_invoices, with_b2b_inputs
from analysis.grading.contacts import contact_rates, contact_table, contact_vs_policy
from analysis.grading.grades import Grading
from analysis.grading.payments import QUARTER_DAYS, downgrade_table, payment_terms_downgrades
from analysis.grading.score import COMPONENT_SOURCES, DEFAULT_SCORE_COMPONENTS, score_components
from analysis.studies.parameters import GradingParameters
from analysis.studies.text import percent

__all__ = [
    "b2b_metrics",
    "contact_check",
    "contacts_by_grade",
    "describe_contacts",
    "describe_payment_terms",
    "describe_score_inputs",
    "downgrades_by_grade",
    "history_inputs",
    "payment_terms",
    "score_inputs",
]

#: What each B2B step needs, in words for the report.
NEEDS = {
    "invoices": "an invoices table (invoice_date, due_date, paid_date, amount)",
    "contacts": "a contacts table (customer_id, date, channel: calls and visits)",
    "acquisition_date": "an acquisition_date column in the customers table (first contract)",
}


def score_inputs(
    summary: pd.DataFrame, tables: Mapping[str, pd.DataFrame], params: GradingParameters, as_of: Any = None
) -> pd.DataFrame:
    """The customer summary with the B2B score inputs as known at ``as_of`` (default ``params.as_of``).

    See :func:`analysis.grading.b2b.with_b2b_inputs`: payment reliability over
    the value window, years of dealing, quantity in the window.
    """
    day = params.as_of if as_of is None else as_of
    return with_b2b_inputs(summary, tables, as_of=day, window_days=params.window_days)


def history_inputs(tables: Mapping[str, pd.DataFrame], params: GradingParameters) -> Callable[[pd.Timestamp], Any]:
    """The B2B score inputs at any regrading date, for :func:`analysis.grading.stability.grade_history`."""

    def at(day: pd.Timestamp) -> pd.DataFrame:
        return b2b_inputs(tables, as_of=day, window_days=params.window_days)

    return at


#: The score's components in words.
COMPONENT_WORDS = {
    "value": "value",
    "frequency": "purchase frequency",
    "margin": "margin",
    "quantity": "order quantity",
    "tenure": "years of dealing",
    "payment_reliability": "payment reliability",
    "recency": "recency",
}


def describe_score_inputs(summary: pd.DataFrame, tables: Mapping[str, pd.DataFrame], params: GradingParameters) -> str:
    """Which components the quota scheme's score uses, and which the data lacks (with what would enable them)."""
    used = list(params.score_weights) if params.score_weights else score_components(summary)
    weights = "the weights of score_weights" if params.score_weights else "equal weights"
    missing = [name for name in DEFAULT_SCORE_COMPONENTS if name not in score_components(summary)]
    words = ", ".join(COMPONENT_WORDS[name] for name in used)
    text = f"The quota scheme's 100-point score uses {words}, with {weights}."
    if "dealing_since" in summary:
        share = (summary["dealing_since"] == "acquisition_date").mean()
        if share == 0:
            text += (
                f" Years of dealing count from the first purchase ({NEEDS['acquisition_date']} would count them "
                "from the first contract)."
            )
        else:
            text += f" Years of dealing count from the acquisition date for {percent(share)} of customers"
            text += ", from the first purchase for the others." if share < 1 else "."
    if "on_time_share" in summary:
        judged = summary["invoices_due"] > 0
        text += (
            f" Payment reliability: on average {percent(summary.loc[judged, 'on_time_share'].mean())} of a "
            f"customer's invoices due in the {params.value_window_months} months up to {params.as_of} were paid on "
            f"time ({int(judged.sum()):,} customers with invoices due; the others are scored on the other components)."
        )
    if missing:
        text += " Not measured: " + "; ".join(
            f"{COMPONENT_WORDS[name]} (needs {COMPONENT_SOURCES.get(name, 'its column')})" for name in missing
        )
        text += "."
    return text


def _graded(grading: Grading) -> pd.DataFrame:
    rows = grading.customers["status"].isin(["graded", "provisional"])
    return grading.customers.loc[rows, ["customer_id", "grade"]].reset_index(drop=True)


def payment_terms(grading: Grading, summary: pd.DataFrame, params: GradingParameters) -> pd.DataFrame:
    """The downgrade rule per graded customer (:func:`analysis.grading.payments.payment_terms_downgrades`).

    ``summary`` is the summary of :func:`score_inputs` (its ``late_last_quarter``
    counts late payments due in the 90 days up to ``as_of``). Empty without
    an invoices table.
    """
    if "late_last_quarter" not in summary:
        return payment_terms_downgrades(
            pd.DataFrame({"customer_id": [], "grade": []}),
            pd.DataFrame({"customer_id": [], "late_last_quarter": []}),
            min_late=params.min_late_payments,
        )
    record = summary[["customer_id", "late_last_quarter"]]
    return payment_terms_downgrades(_graded(grading), record, min_late=params.min_late_payments)


def downgrades_by_grade(moves: pd.DataFrame, grading: Grading) -> pd.DataFrame:
    """Per grade: customers, late payers, moved, terms before and after.

    See :func:`analysis.grading.payments.downgrade_table`.
    """
    return downgrade_table(moves, [g for g in grading.scheme.labels if (moves["grade"] == g).any()] or None)


def describe_payment_terms(table: pd.DataFrame, tables: Mapping[str, pd.DataFrame], params: GradingParameters) -> str:
    """Sentences on the downgrade rule from :func:`downgrades_by_grade`: whom it moves, who cannot drop."""
    if not has_invoices(tables):
        return (
            "The data has no invoices table, so payment reliability and the rule '2 or more late payments in a "
            f"quarter drop one level of payment terms' cannot be measured; {NEEDS['invoices']} would enable them."
        )
    grades = table[table["grade"] != "total"]
    total = table[table["grade"] == "total"].iloc[0]
    n, moved, payers, floor = (int(total[c]) for c in ("customers", "moved", "late_payers", "at_floor"))
    text = (
        f"{params.min_late_payments} or more late payments in the {QUARTER_DAYS} days up to {params.as_of} (invoices "
        f"due then and paid late, or unpaid past due) drop one level of payment terms: the rule moves {moved:,} of "
        f"{n:,} customers with a grade ({percent(moved / n) if n else '0%'}"
    )
    by_grade = [f"{row.grade} {int(row.moved):,} of {int(row.customers):,}" for row in grades.itertuples()]
    text += f"; {', '.join(by_grade)})." if by_grade else ")."
    if floor:
        text += (
            f" {floor:,} late payer(s) already on D's terms (pay before shipment) cannot drop further: "
            f"{payers:,} customers break the rule, {moved:,} move."
        )
    elif payers:
        text += " No late payer is on D's terms already (which cannot drop further), so every late payer moves."
    return text


def contact_check(
    grading: Grading, summary: pd.DataFrame, tables: Mapping[str, pd.DataFrame], params: GradingParameters
) -> pd.DataFrame:
    """Each graded customer's actual calls and visits a month over the value window against the grade's cadence.

    :func:`analysis.grading.contacts.contact_vs_policy`; a customer's months
    count from the start of dealing (acquisition date or first purchase,
    whichever is earlier) when that falls inside the window. Empty without a
    contacts table.
    """
    graded = _graded(grading)
    contacts = tables.get("contacts")
    if contacts is None:
        graded = graded.iloc[:0]
        contacts = pd.DataFrame({"customer_id": [], "date": pd.to_datetime([])})
    known = summary.set_index("customer_id")
    since = known["first_purchase"].reindex(graded["customer_id"])
    if "dealing_start" in known:
        since = pd.concat([since, known["dealing_start"].reindex(graded["customer_id"])], axis=1).min(axis=1)
    rates = contact_rates(contacts, since, as_of=params.as_of, window_days=params.window_days)
    return contact_vs_policy(graded, rates, over_factor=params.over_served_factor)


def contacts_by_grade(served: pd.DataFrame, grading: Grading) -> pd.DataFrame:
    """Per grade: policy and actual contacts a month, shares under- and over-served.

    See :func:`analysis.grading.contacts.contact_table`.
    """
    return contact_table(served, [g for g in grading.scheme.labels if (served["grade"] == g).any()] or None)


def describe_contacts(table: pd.DataFrame, tables: Mapping[str, pd.DataFrame], params: GradingParameters) -> str:
    """Sentences on actual against policy contact per grade, from :func:`contacts_by_grade`."""
    if "contacts" not in tables:
        return (
            "The data has no contacts table, so actual contact frequency cannot be compared with the policy's "
            f"cadence; {NEEDS['contacts']} would enable it."
        )
    grades = table[table["grade"] != "all"]
    everyone = table[table["grade"] == "all"].iloc[0]
    parts = [
        f"{row.grade} customers get {row.actual_median:.1f} contacts a month (median; policy "
        f"{row.policy_contacts_per_month:.1f}), "
        f"{percent(row.under_served)} under-served, {percent(row.over_served)} over-served"
        for row in grades.itertuples()
    ]
    return (
        f"Over the {params.value_window_months} months up to {params.as_of}: " + "; ".join(parts) + ". "
        f"Overall {percent(everyone['under_served'])} of graded customers are contacted less than their grade's "
        f"policy and {percent(everyone['over_served'])} more than {params.over_served_factor:g} times it."
    )


def b2b_metrics(moves: pd.DataFrame, served: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of the B2B steps (none when the tables are missing), JSON-ready."""
    out: dict[str, Any] = {}
    if len(moves):
        out["payment_terms_moved"] = int(moves["moved"].sum())
    if len(served):
        out["under_served_share"] = round(float((served["served"] == "under").mean()), 6)
        out["over_served_share"] = round(float((served["served"] == "over").mean()), 6)
    return out
