"""Study 2, churn signals: parameters, steps and sentences of the notebook.

``notebooks/02_churn_signals.ipynb`` calls these one step at a time; the
statistics live in :mod:`analysis.churn` and :mod:`analysis.churn`.
:class:`ChurnParameters` is the single declaration of the study's parameters
(the notebook's parameters cell holds the same names, types and defaults and
the description of each).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.churn.alerts import AlertList
from analysis.churn.crm import churn_frame, unmeasured_signs
from analysis.churn.frames import transaction_churn_frame
from analysis.churn.measures import signal_table
from analysis.churn.models import LogisticModel
from analysis.churn.signals import B2B_SIGNALS, TRANSACTION_SIGNALS
from analysis.churn.validation import Validation
from analysis.engines.summaries import customer_summary
from analysis.errors import DataError
from analysis.grading.grades import grade_customers
from analysis.privacy import pseudonymise, read_pseudonym_key
from analysis.studies.churn_reference import describe_planted, planted_effects_check, reference_note
from analysis.studies.churn_subscriptions import (
    describe_subscriptions,
    retention_comparison,
    subscription_curves,
    subscription_models,
    subscription_table,
)
from analysis.studies.churn_telco import (
    TelcoClassifier,
    describe_telco_classifier,
    telco_classifier,
    telco_classifier_metrics,
    telco_comparison,
    telco_odds_ratios,
)
from analysis.studies.churn_text import (
    HOSMER_LEMESHOW_ALPHA,
    capacity_covers_base,
    describe_alerts,
    describe_cox,
    describe_model,
    describe_strongest,
    describe_validation,
    separation_auc,
)
from analysis.studies.parameters import ChurnParameters
from analysis.studies.text import censoring_text, p_value_text, percent

__all__ = [
    "capacity_covers_base",
    "churn_by_horizon",
    "current_grades",
    "describe_alerts",
    "describe_cox",
    "describe_horizons",
    "describe_left_censored",
    "describe_model",
    "describe_planted",
    "describe_signals",
    "describe_strongest",
    "describe_subscriptions",
    "describe_survival",
    "describe_telco_classifier",
    "describe_unmeasured",
    "describe_validation",
    "frame_signals",
    "headline_metrics",
    "planted_effects_check",
    "pseudonym_key",
    "reference_note",
    "retention_comparison",
    "score",
    "separation_auc",
    "shown_alerts",
    "study_frame",
    "subscription_curves",
    "subscription_models",
    "subscription_table",
    "survival_signal",
    "telco_classifier",
    "telco_comparison",
    "telco_odds_ratios",
    "transaction_formula",
    "with_grade_flags",
    "with_left_censoring",
]


#: Terms of the transaction study's logistic model (column, term): flags as
#: they are, skewed continuous signals on a log scale. The trailing value is
#: net of returns and can be negative: it enters as sign(v) log(1 + |v|)
#: (:func:`analysis.churn.fit_checks.signed_log1p`, log1p for v >= 0), so that
#: no customer leaves the model through the log of a negative number.
TRANSACTION_TERMS = (
    ("beyond_usual_gap", "beyond_usual_gap"),
    ("dormant", "dormant"),
    ("frequency_drop", "frequency_drop"),
    ("value_drop", "value_drop"),
    ("recency_days", "np.log1p(recency_days)"),
    ("tenure_days", "np.log1p(tenure_days)"),
    ("occasions", "np.log1p(occasions)"),
    ("trailing_value", "signed_log1p(trailing_value)"),
    ("grade_a", "grade_a"),
    ("late_payments", "late_payments"),
    ("overdue_receivables", "overdue_receivables"),
    ("collections_imbalance", "collections_imbalance"),
    ("over_credit_limit", "over_credit_limit"),
    ("complaint", "complaint"),
    ("repeated_complaints", "repeated_complaints"),
    ("unresolved_complaint", "unresolved_complaint"),
    ("contact_gap", "contact_gap"),
    ("single_owner", "single_owner"),
    ("owner_change", "owner_change"),
)

#: The tenure term of :data:`TRANSACTION_TERMS`.
TENURE_TERM = "np.log1p(tenure_days)"


def study_frame(
    tables: Mapping[str, pd.DataFrame], params: ChurnParameters, as_of: str | pd.Timestamp, *, outcomes: bool = True
) -> pd.DataFrame:
    """The study's churn frame at ``as_of``: transaction signals, the B2B signs its tables allow, grade flags.

    ``outcomes=False`` scores today (``as_of`` the last day of data): signals only.
    """
    transactions = tables["transactions"]
    grades = current_grades(transactions, as_of, params.engine, params.return_window_days)
    options = params.frame_options() | {"grades": grades, "outcomes": outcomes}
    if not outcomes:
        options["data_end"] = as_of
    return with_left_censoring(with_grade_flags(churn_frame(tables, as_of=as_of, **options)), params)


def with_left_censoring(frame: pd.DataFrame, params: ChurnParameters) -> pd.DataFrame:
    """``frame`` with a 0/1 ``left_censored`` column; their ``tenure_days`` is unknown (NaN).

    A customer first seen before ``params.left_censored_until`` may have
    bought before the data began (:mod:`analysis.engines.censoring`): the
    observed tenure is only a lower bound, so the signal table measures
    ``tenure_days`` without them and the model gives them their own term
    (:func:`transaction_formula`).
    """
    if not params.left_censored_until:
        return frame.assign(left_censored=0)
    flagged = (frame["first_purchase"] < pd.Timestamp(params.left_censored_until)).to_numpy()
    return frame.assign(
        left_censored=flagged.astype("int64"), tenure_days=frame["tenure_days"].where(~flagged).to_numpy()
    )


def describe_left_censored(frame: pd.DataFrame, params: ChurnParameters) -> str:
    """The sentence on customers whose history may start before the data, and how the churn study treats them."""
    return censoring_text(
        frame["left_censored"].astype(bool),
        frame["first_purchase"],
        params.left_censored_until,
        "are left out of the tenure_days signal (its row counts the others); the model gives them a term of their "
        "own (left_censored) instead of a tenure",
    )


def frame_signals(frame: pd.DataFrame) -> list[str]:
    """The signals of a study frame measured in the signal table (transaction, B2B where present, grade)."""
    return [*TRANSACTION_SIGNALS, *(s for s in B2B_SIGNALS if s in frame), "grade_a", "ungraded"]


def describe_unmeasured(tables: Mapping[str, pd.DataFrame]) -> str:
    """Which of the domain notes' B2B warning signs the data cannot measure, and the table that would enable each."""
    missing = unmeasured_signs(tables)
    if missing.empty:
        return ""
    listed = "\n".join(f"- {row.meaning} (needs {row.needs})" for row in missing.itertuples())
    return f"Not measured with this data (add the table or column to the source file to measure them):\n{listed}"


def churn_by_horizon(transactions: pd.DataFrame, params: ChurnParameters) -> pd.DataFrame:
    """How the churn rate and the strongest signal move with the horizon H.

    Returns
    -------
    pandas.DataFrame
        One row per horizon that fits in the data: ``horizon_days``,
        ``customers`` (active in the lookback window), ``churn_rate``,
        ``strongest_signal``, its ``auc`` and ``direction``.
    """
    end = transactions["date"].max()
    rows = []
    for horizon in params.horizons:
        if pd.Timestamp(params.as_of) + pd.Timedelta(days=horizon) > end:
            continue
        options = params.frame_options() | {"horizon_days": horizon}
        frame = with_left_censoring(transaction_churn_frame(transactions, as_of=params.as_of, **options), params)
        table = signal_table(frame, TRANSACTION_SIGNALS)
        top = table.iloc[0]
        rows.append(
            {
                "horizon_days": horizon,
                "customers": len(frame),
                "churn_rate": frame["churned"].mean(),
                "strongest_signal": top["signal"],
                "auc": top["auc"],
                "direction": top["direction"],
            }
        )
    return pd.DataFrame(rows)


def current_grades(
    transactions: pd.DataFrame, as_of: str | pd.Timestamp, engine: str = "duckdb", return_window_days: int = 30
) -> pd.DataFrame:
    """Each customer's grade at ``as_of`` under the default value-share scheme (75/20/5 of trailing 12-month value).

    Computed from data up to ``as_of`` only (the grading study's engine), for
    use as a signal; customers with no value in the window get no grade. The
    summary runs on ``engine`` (:mod:`analysis.engines`).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` and ``grade`` (``A``, ``B``, ``C`` or missing).
    """
    summary = customer_summary(transactions, as_of, engine=engine, return_window_days=return_window_days)
    grading = grade_customers(summary, "value_share_75_20_5")
    grades = grading.customers[["customer_id", "grade"]].assign(grade=lambda t: t["grade"].astype("object"))
    return grades


def with_grade_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with 0/1 columns ``grade_a`` and ``ungraded`` (no value in the grading window)."""
    grade = frame["grade"].astype("object")
    return frame.assign(grade_a=(grade == "A").astype("int64"), ungraded=grade.isna().astype("int64"))


def transaction_formula(frame: pd.DataFrame) -> str:
    """The logistic formula of the transaction study for this frame.

    The terms of :data:`TRANSACTION_TERMS` whose column varies in ``frame``
    (a constant signal, e.g. no dormant customer at all, cannot be estimated).
    With left-censored customers (:func:`with_left_censoring`), their unknown
    tenure counts 0 in the tenure term and ``left_censored`` is a term of
    its own (the missing-indicator method), so no customer leaves the model.
    """
    terms = [term for column, term in TRANSACTION_TERMS if column in frame and frame[column].nunique(dropna=True) > 1]
    if "left_censored" in frame and frame["left_censored"].nunique() > 1 and TENURE_TERM in terms:
        # unknown tenure (left-censored): 0 in the tenure term, and a term of their own
        terms[terms.index(TENURE_TERM)] = "np.log1p(tenure_days.fillna(0))"
        terms.append("left_censored")
    if not terms:
        raise DataError("no signal varies among the customers", column="signal")
    return "churned ~ " + " + ".join(terms)


def survival_signal(signals: pd.DataFrame) -> str:
    """The strongest binary signal that splits the customers (for the survival curves).

    Raises
    ------
    DataError
        If no binary signal has customers on both sides.
    """
    binary = signals[(signals["kind"] == "binary") & (signals["prevalence"] > 0) & (signals["prevalence"] < 1)]
    if binary.empty:
        raise DataError("no binary signal splits the customers into two groups", column="signal")
    return str(binary.iloc[0]["signal"])


def pseudonym_key(params: ChurnParameters) -> bytes | None:
    """The pseudonymisation key when ``params.pseudonymise`` is on (else ``None``); never shown or recorded.

    Read from ``params.pseudonym_key_file`` or ``$ANALYSIS_PSEUDONYM_KEY``
    (:func:`analysis.privacy.read_pseudonym_key`); missing: ``ParameterError``.
    """
    if not params.pseudonymise:
        return None
    return read_pseudonym_key(params.pseudonym_key_file)


def shown_alerts(alerts: AlertList, key: bytes | None, rows: int = 10) -> pd.DataFrame:
    """The first ``rows`` of the alert list as the report shows them: ids pseudonymised when ``key`` is given."""
    table = alerts.alerts.head(rows)
    return (table if key is None else pseudonymise(table, key)).round(3)


def score(model: LogisticModel, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the model's ``churn_probability`` (a new frame)."""
    return frame.assign(churn_probability=model.predict(frame).to_numpy())


def describe_signals(table: pd.DataFrame, frame: pd.DataFrame, params: ChurnParameters) -> str:
    """Sentences on the churn definition and the strongest signals, from the numbers."""
    rate = frame["churned"].mean()
    top = table.iloc[0]
    parts = [
        f"{len(frame):,} customers bought in the {params.lookback_days} days up to {params.as_of}; "
        f"{percent(rate)} of them made no purchase in the next {params.horizon_days} days (churned).",
        f"The strongest signal is {top['signal']}: {top['direction']} values go with more churn (AUC "
        "{:.2f}, {:.2f}-{:.2f}).".format(*separation_auc(top["auc"], top["auc_lower_95"], top["auc_upper_95"])),
    ]
    binary = table[table["kind"] == "binary"].dropna(subset=["relative_risk"])
    flags = []  # one line per flag: each starts with the signal's (lower-case) name, so it is a list item
    for row in binary.itertuples():
        effect = (
            "raises" if row.relative_risk_lower_95 > 1 else "lowers" if row.relative_risk_upper_95 < 1 else "leaves"
        )
        flags.append(
            f"- {row.signal} ({percent(row.prevalence)} of customers) {effect} the churn rate: "
            f"{percent(row.churn_rate_with)} with it vs {percent(row.churn_rate_without)} without "
            f"(relative risk {row.relative_risk:.2f}, "
            f"{row.relative_risk_lower_95:.2f}-{row.relative_risk_upper_95:.2f})."
        )
    return " ".join(parts) + ("\n\n" + "\n".join(flags) if flags else "")


def describe_survival(curves: pd.DataFrame, test: Any, *, group: str, at: float, unit: str, what: str) -> str:
    """One sentence comparing Kaplan-Meier curves at one time, with the log-rank test."""
    parts = []
    for name, part in curves.groupby(group, observed=True, sort=True):
        label = name[0] if isinstance(name, tuple) else name
        survival = part.loc[part["time"] <= at, "survival"].iloc[-1]
        parts.append(f"{label}: {percent(survival)}")
    return (
        f"Share {what} after {at:g} {unit}, by {group}: " + ", ".join(parts) + f" (log-rank chi-square "
        f"{test.statistic:,.1f} on {test.degrees_of_freedom:g} degrees of freedom, {p_value_text(test.p_value)})."
    )


def describe_horizons(table: pd.DataFrame) -> str:
    """One sentence on how churn moves with the horizon."""
    first, last = table.iloc[0], table.iloc[-1]
    same = table["strongest_signal"].nunique() == 1
    return (
        f"With H = {first['horizon_days']} days, {percent(first['churn_rate'])} of active customers count as churned; "
        f"with H = {last['horizon_days']} days, {percent(last['churn_rate'])}: the churn rate is a property of the "
        f"definition as much as of the customers. The strongest signal "
        + ("is the same at every horizon." if same else "changes with the horizon, so state H with every conclusion.")
    )


def headline_metrics(
    params: ChurnParameters,
    frame: pd.DataFrame,
    table: pd.DataFrame,
    validation: Validation,
    coverage: pd.Series,
    telco: pd.DataFrame | None = None,
    planted: pd.DataFrame | None = None,
    model: LogisticModel | None = None,
    telco_model: TelcoClassifier | None = None,
) -> dict[str, Any]:
    """Machine-readable headline numbers for the report runner (rounded, JSON-ready).

    ``telco`` and ``planted`` are ``None`` when the reference sections did not run.
    ``strongest_signal_auc`` is oriented as in the text (:func:`separation_auc`:
    0.5 chance, 1 perfect); ``strongest_signal_auc_raw`` is the AUC of the raw
    values (below 0.5 when ``strongest_signal_direction`` is ``"lower"``).
    ``alert_recall`` is ``None`` when the capacity reaches the whole base
    (``alert_capacity_covers_base``): calling everybody finds every churner by
    construction. ``calibration_fails`` is whether Hosmer-Lemeshow rejects
    calibration at 5%; ``model_customers_left_out`` counts the customers the
    model could not use. ``telco_model`` (the Telco classifier of
    :func:`analysis.studies.churn_telco.telco_classifier`) adds its hold-out
    AUC, cross-validated AUC, Brier score, calibration slope and intercept,
    the Cox model's hold-out C and the aliased columns left out
    (:func:`analysis.studies.churn_telco.telco_classifier_metrics`; ``None``
    each when it did not run).
    """

    def r(x: Any) -> float | None:
        return None if x is None or pd.isna(x) else round(float(x), 6)

    covers_base = capacity_covers_base(coverage)

    return {
        "study": "churn_signals",
        "data_source": params.data_source,
        "as_of": params.as_of,
        "horizon_days": params.horizon_days,
        "customers": len(frame),
        "churn_rate": r(frame["churned"].mean()),
        "strongest_signal": str(table.iloc[0]["signal"]),
        "strongest_signal_direction": str(table.iloc[0]["direction"]),
        "strongest_signal_auc": r(separation_auc(table.iloc[0]["auc"])[0]),
        "strongest_signal_auc_raw": r(table.iloc[0]["auc"]),
        "out_of_time_auc": r(validation.auc),
        "brier": r(validation.brier),
        "brier_no_skill": r(validation.brier_no_skill),
        "hosmer_lemeshow_p_value": r(validation.hosmer_lemeshow.p_value),
        "calibration_fails": bool(validation.hosmer_lemeshow.p_value < HOSMER_LEMESHOW_ALPHA),
        "capacity": params.capacity,
        "alert_precision": r(coverage.get("precision")),
        "alert_recall": None if covers_base else r(coverage.get("recall")),
        "alert_capacity_covers_base": covers_base,
        "alert_share_of_value_at_risk": r(coverage.get("expected_value_at_risk_share")),
        "telco_churn_rate": None if telco is None else r(telco["churned"].mean()),
        "synthetic_planted_effects_covered": None if planted is None else int(planted["covered"].sum()),
        "synthetic_planted_effects": None if planted is None else len(planted),
        "model_customers_left_out": None if model is None else len(model.left_out),
        "model_terms_not_estimable": None if model is None else model.separated["term"].tolist(),
        "model_converged": None if model is None else model.converged,
        **telco_classifier_metrics(telco_model),
    }
