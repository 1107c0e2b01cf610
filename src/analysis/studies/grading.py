"""Study 1, grading thresholds: parameters, scheme comparison, recommendation, metrics.

The notebook ``notebooks/01_grading_thresholds.ipynb`` calls these functions
one step at a time. :class:`GradingParameters` is the single declaration of
the study's parameters: the notebook's first cell validates its papermill
parameters with it, and the report runner validates a run's parameters with
it before any notebook starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.engines.censoring import flag_left_censored
from analysis.errors import DataError
from analysis.grading.grades import Grading, cutoff_sweep, grade_customers, grade_table
from analysis.grading.policy import workload
from analysis.grading.schemes import Scheme
from analysis.grading.stability import grade_history, grade_retention, migration_matrix
from analysis.grading.validity import capture_gains, grade_separation
from analysis.studies.parameters import GradingParameters
from analysis.studies.text import censoring_text, p_value_text, percent

__all__ = [
    "active_values",
    "compare_schemes",
    "describe_concentration",
    "describe_grades",
    "describe_left_censored",
    "describe_stability",
    "describe_sweep",
    "describe_validity",
    "grade",
    "headline_metrics",
    "history",
    "rank_schemes",
    "recommendation",
    "sweep",
]


def compare_schemes(
    summary: pd.DataFrame,
    backtest: pd.DataFrame,
    periods: pd.DataFrame,
    params: GradingParameters,
    score_inputs: Callable[[pd.Timestamp], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Compare grading schemes on concentration, stability, prediction and workload.

    Parameters
    ----------
    summary : DataFrame
        Customer summary at ``params.as_of`` (current grades and workload).
    backtest : DataFrame
        :func:`analysis.engines.summaries.calibration_holdout` from
        ``params.validation_date`` to ``params.as_of`` (predictive columns).
    periods : DataFrame
        Dense monthly period table up to ``params.as_of``.
    params : GradingParameters
        The study's parameters.
    score_inputs : callable, optional
        The quota score's B2B inputs at a regrading date
        (:func:`analysis.studies.grading_b2b.history_inputs`), for the stability column.

    Returns
    -------
    pandas.DataFrame
        One row per scheme: ``scheme``, ``grades``, ``top_grade_customers``
        (share of graded customers in the best grade), ``top_grade_value``
        (its share of current value), ``kept_grade`` (share of graded
        customers keeping their grade from one regrading to the next),
        ``spearman_rho`` (backtest grade vs value in the following
        ``validation_horizon_days``), ``capture_rate`` (share of that value
        held by the backtest's best grade), ``capture_gain`` (capture rate
        minus the best grade's share of all customers: how much more value
        than headcount it holds) with its 95% interval and ``gain_vs_leader``
        (its difference from the scheme with the highest capture gain) with
        a paired bootstrap interval over customers
        (:func:`analysis.grading.validity.capture_gains`, seed
        ``params.random_seed``), ``calls_per_month`` and ``visits_per_month``
        (workload of today's graded and provisional base).
    """
    rows = []
    schemes = params.schemes()
    pasts = {}
    for name in params.compare:
        scheme = schemes[name]
        grading = _grade(summary, scheme, params)
        table = grade_table(grading)
        top = table.iloc[0]
        counts, _ = migration_matrix(history(periods, params, name, score_inputs))
        retention = grade_retention(counts)
        pasts[name] = past = _grade(backtest, scheme, params.at(params.validation_date))
        tests = grade_separation(past, backtest)
        graded = grading.customers["status"].isin(["graded", "provisional"])
        load = workload(grading.customers.loc[graded, "grade"].value_counts(sort=False))
        rows.append(
            {
                "scheme": name,
                "grades": len(scheme.labels),
                "top_grade_customers": top["share_of_customers"],
                "top_grade_value": top["share_of_value"],
                "kept_grade": retention.loc["all", "kept"],
                "spearman_rho": tests["spearman"].statistic,
                "calls_per_month": load["calls_per_month"].iloc[-1],
                "visits_per_month": load["visits_per_month"].iloc[-1],
            }
        )
    # Same population for every scheme: the backtest's customers, resampled together (paired intervals).
    gains = capture_gains(pasts, backtest, seed=params.random_seed).drop(columns="best_grade_share")
    comparison = pd.DataFrame(rows).merge(gains, on="scheme", validate="one_to_one")
    order = [*comparison.columns[:6], *gains.columns[1:], "calls_per_month", "visits_per_month"]
    return comparison[order]


def _grade(summary: pd.DataFrame, scheme: Scheme, params: GradingParameters) -> Grading:
    if params.left_censored_until:  # an older customer's tenure is unknown: graded on observed value
        summary = flag_left_censored(summary, params.left_censored_until)
    return grade_customers(
        summary,
        scheme,
        value=params.value_column,
        as_of=params.as_of,
        min_tenure_days=params.min_tenure_days,
        score_weights=params.score_weights or None,
    )


def active_values(summary: pd.DataFrame, params: GradingParameters) -> pd.Series:
    """The value metric of customers with a positive value in the window (the active base).

    Concentration is measured on them: customers who bought nothing in the
    window would make any base look concentrated.
    """
    if params.value_column not in summary:
        raise DataError(
            f"value metric {params.value_metric!r} needs column {params.value_column!r}, which the data lacks",
            column=params.value_column,
            hint="Choose value_metric 'revenue' or 'occasions', or supply a margin column",
        )
    values = summary[params.value_column]
    if not (values > 0).any():
        raise DataError(
            f"no customer has a positive {params.value_metric} in the window ending {params.as_of}",
            column=params.value_column,
            hint="Check as_of against the dates in the data",
        )
    return values[values > 0]


def grade(summary: pd.DataFrame, params: GradingParameters, scheme: str | None = None) -> Grading:
    """Grade the customers under the study's scheme (or another of its schemes) at ``params.as_of``."""
    return _grade(summary, params.schemes()[scheme or params.scheme], params)


def history(
    periods: pd.DataFrame,
    params: GradingParameters,
    scheme: str | None = None,
    score_inputs: Callable[[pd.Timestamp], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Grades at every regrading month from ``history_start`` to ``as_of`` (see :func:`grade_history`).

    ``score_inputs`` gives the quota score's B2B inputs at each regrading date
    (:func:`analysis.studies.grading_b2b.history_inputs`).
    """
    return grade_history(
        periods,
        params.schemes()[scheme or params.scheme],
        metric=params.value_metric,
        window=params.value_window_months,
        min_tenure=params.min_tenure_months,
        start=params.history_start or None,
        end=params.as_of,
        every=params.regrade_every_months,
        score_weights=params.score_weights or None,
        score_inputs=score_inputs,
        left_censored_until=params.left_censored_until or None,
    )


def sweep(grading: Grading) -> pd.DataFrame:
    """Cut-off sweep of the best grade for the studied scheme's graded customers.

    Value-share schemes sweep the cumulative value share; every other scheme
    sweeps the share of customers.
    """
    graded = grading.customers[grading.customers["status"] == "graded"]
    kind = "value_share" if grading.scheme.kind == "value_share" else "rank_share"
    return cutoff_sweep(graded["value"], kind=kind)


def describe_left_censored(summary: pd.DataFrame, params: GradingParameters) -> str:
    """The data section's sentence on customers whose history may start before the data, and how grading treats them."""
    flagged = flag_left_censored(summary, params.left_censored_until)
    return censoring_text(
        flagged["left_censored"],
        summary["first_purchase"],
        params.left_censored_until,
        "are graded on their observed value, never provisional (the minimum tenure applies to customers known to be "
        "new; a known acquisition date counts instead of the first purchase)",
    )


def describe_concentration(concentration: pd.DataFrame) -> str:
    """One sentence on concentration, from :func:`analysis.grading.concentration.concentration_table`."""
    m = concentration.set_index("measure")
    top20 = m.loc["top 20% share of value"]
    gini_row = m.loc["Gini"]
    verdict = "more" if top20["estimate"] > 0.8 else "less"
    return (
        f"The top 20% of customers hold {percent(top20['estimate'])} of value (95% CI "
        f"{percent(top20['lower'])}-{percent(top20['upper'])}), {verdict} concentrated than the 80/20 rule; "
        f"Gini {gini_row['estimate']:.2f} ({gini_row['lower']:.2f}-{gini_row['upper']:.2f}); the top 1% "
        f"alone hold {percent(m.loc['top 1% share of value', 'estimate'])}."
    )


def describe_grades(table: pd.DataFrame) -> str:
    """One sentence on the grade table of :func:`analysis.grading.grades.grade_table`."""
    graded = table[table["share_of_customers"].notna()]
    parts = [
        f"{row.grade}: {percent(row.share_of_customers)} of customers, {percent(row.share_of_value)} of value "
        f"(lowest value {row.lowest_value:,.2f})"
        for row in graded.itertuples()
        if row.customers
    ]
    extra = table[table["share_of_customers"].isna()]
    aside = "; ".join(f"{int(r.customers):,} {r.grade}" for r in extra.itertuples())
    return "; ".join(parts) + (f". Not graded: {aside}." if aside else ".")


def describe_sweep(sweep_table: pd.DataFrame) -> str:
    """One sentence on where the cut-off curve bends."""
    bend = sweep_table[sweep_table["bend"]].iloc[0]
    return (
        f"The curve bends at a cut-off of {percent(bend['cut'])}: there, grade A is "
        f"{percent(bend['share_of_customers'])} of customers holding {percent(bend['share_of_value'])} of value "
        f"(customers worth at least {bend['cutoff_value']:,.2f}); beyond it each added A customer brings less "
        f"than an average customer."
    )


def describe_stability(retention: pd.DataFrame, params: GradingParameters | None = None) -> str:
    """Sentences on grade retention from :func:`analysis.grading.stability.grade_retention`."""
    grades = retention.drop(index="all")
    best = grades.index[0]
    overall = retention.loc["all"]
    return (
        f"From one regrading to the next, {percent(overall['kept'])} of graded customers keep their grade, "
        f"{percent(overall['moved_up'])} move up, {percent(overall['moved_down'])} move down and "
        f"{percent(overall['became_inactive'])} become inactive; {percent(grades.loc[best, 'kept'])} of {best} "
        f"customers stay {best}."
    ) + (
        f" Consecutive {params.value_window_months}-month windows regraded every {params.regrade_every_months} "
        f"month(s) share {params.value_window_months - params.regrade_every_months} months of data, so grades are "
        f"stable partly by construction, and no one becomes inactive within {params.value_window_months} months of a "
        f"purchase."
        if params is not None
        else ""
    )


def describe_validity(future: pd.DataFrame, tests: Mapping[str, Any], labels: Sequence[str]) -> str:
    """One sentence on predictive validity (``labels``: the scheme's grades, best first)."""
    graded = future[future["grade"].isin(labels) & (future["customers"] > 0)]
    if graded.empty:
        raise DataError(
            "no graded customers at the start of the backtest (validation_horizon_days before as_of)",
            hint="At that date no customer had both value in the window and min_tenure_months of tenure; "
            "use a later as_of, a shorter validation_horizon_days or a shorter min_tenure_months",
        )
    first, last = graded.iloc[0], graded.iloc[-1]
    ratio = first["mean_future_value"] / last["mean_future_value"] if last["mean_future_value"] > 0 else np.inf
    spearman = tests["spearman"]
    interval = (
        f"{first['mean_lower']:,.2f}-{first['mean_upper']:,.2f}"
        if not pd.isna(first["mean_lower"])
        else f"{first['customers']:,.0f} customer: no interval"
    )
    return (
        f"Customers graded {first['grade']} at the start of the backtest brought {first['mean_future_value']:,.2f} "
        f"each over the horizon ({interval}), {ratio:,.1f} times a "
        f"{last['grade']} customer, and held {percent(first['share_of_future_value'])} of all value in it (capture "
        f"rate); {_rank_correlation(spearman)}."
    )


def _rank_correlation(spearman: Any) -> str:
    """The rank correlation in words, or why it is undefined (one grade, or the same later value for all)."""
    if pd.isna(spearman.statistic):
        return (
            "the rank correlation of grade with later value is undefined (every graded customer in one grade, "
            "or the same later value for all)"
        )
    return f"rank correlation of grade with later value {spearman.statistic:.2f} ({p_value_text(spearman.p_value)})"


def rank_schemes(comparison: pd.DataFrame) -> pd.DataFrame:
    """Schemes ranked for the recommendation, best first.

    Rule: rank the schemes on stability (``kept_grade``), predictive
    separation (``spearman_rho``) and how much next-period value each
    than headcount the best grade holds (``capture_gain``), higher is better;
    order by the mean of the three ranks, ties to the lighter workload (calls
    plus visits a month).
    """
    criteria = ["kept_grade", "spearman_rho", "capture_gain"]
    ranks = comparison[criteria].rank(ascending=False, method="min")
    contacts = comparison["calls_per_month"] + comparison["visits_per_month"]
    return comparison.assign(mean_rank=ranks.mean(axis=1), contacts_per_month=contacts).sort_values(
        ["mean_rank", "contacts_per_month"], ignore_index=True
    )


#: A scheme whose best grade holds more than this share of graded customers does not tell customers apart.
DEGENERATE_TOP_SHARE = 0.9


def recommendation(comparison: pd.DataFrame) -> str:
    """A short recommendation computed from the scheme comparison (rule: :func:`rank_schemes`).

    A scheme that puts more than :data:`DEGENERATE_TOP_SHARE` of the graded
    customers in its best grade (absolute tiers on the wrong money scale) is
    not a grading: it is left out of the ranking and named, so that it is
    never called "most stable" for keeping everybody in one grade.
    """
    degenerate = comparison.get("top_grade_customers", pd.Series(0.0, index=comparison.index)) > DEGENERATE_TOP_SHARE
    left_out = ""
    if degenerate.any() and not degenerate.all():
        names = ", ".join(
            f"{row.scheme} ({row.top_grade_customers:.0%} in its best grade)"
            for row in comparison[degenerate].itertuples()
        )
        left_out = (
            f" Not ranked: {names}; a grade holding nearly everybody tells no customer apart "
            "(for absolute tiers, check currency and absolute_scale)."
        )
        comparison = comparison[~degenerate]
    ranked = rank_schemes(comparison)
    best = ranked.iloc[0]
    tied = ranked[(ranked["mean_rank"] == best["mean_rank"]) & (ranked["scheme"] != best["scheme"])]
    tie = f" It ties on mean rank with {', '.join(tied['scheme'])} and has the lighter workload." if len(tied) else ""
    stable = comparison.loc[comparison["kept_grade"].idxmax()]
    separating = comparison.loc[comparison["spearman_rho"].idxmax()]
    light = ranked.loc[ranked["contacts_per_month"].idxmin()]
    return (
        f"Recommended: {best['scheme']} (best mean rank over stability, predictive separation and "
        f"next-period value beyond headcount).{tie} Its best grade holds "
        f"{best['top_grade_customers']:.0%} of graded customers and {best['top_grade_value']:.0%} of "
        f"their value; {best['kept_grade']:.0%} of customers keep their grade from one regrading to the "
        f"next; in the backtest its best grade held {best['capture_rate']:.0%} of the value that followed (rank "
        f"correlation {best['spearman_rho']:.2f}).{_gain_difference(comparison, best['scheme'])} Most stable: "
        f"{stable['scheme']} "
        f"({stable['kept_grade']:.0%} kept); best separation: {separating['scheme']} (rho "
        f"{separating['spearman_rho']:.2f}); lightest workload: {light['scheme']} "
        f"({light['calls_per_month']:,.0f} calls and {light['visits_per_month']:,.0f} visits a month). Schemes with "
        f"more grades tend to score higher rank correlations and lower retention, so read close calls with care."
        f"{left_out}"
    )


def _gain_difference(comparison: pd.DataFrame, scheme: str) -> str:
    """How the recommended scheme's capture gain differs from the leader's (or the runner-up's), with its interval."""
    if "gain_vs_leader_lower_95" not in comparison or len(comparison) < 2:
        return ""
    table = comparison.set_index("scheme")
    row = table.loc[scheme]
    if row["gain_vs_leader"] == 0:  # the recommended scheme leads: against the runner-up
        other = table.drop(index=scheme)["capture_gain"].idxmax()
        low, high = -table.loc[other, "gain_vs_leader_upper_95"], -table.loc[other, "gain_vs_leader_lower_95"]
        difference, verb = -table.loc[other, "gain_vs_leader"], "exceeds"
    else:
        other = table["capture_gain"].idxmax()
        low, high = -row["gain_vs_leader_upper_95"], -row["gain_vs_leader_lower_95"]
        difference, verb = -row["gain_vs_leader"], "falls short of"
    noise = " (within sampling noise)" if low <= 0 <= high else ""
    return (
        f" Its capture gain {verb} {other}'s by {difference * 100:.1f} points (95% paired bootstrap interval "
        f"{low * 100:.1f} to {high * 100:.1f}){noise}."
    )


def headline_metrics(
    params: GradingParameters,
    concentration: pd.DataFrame,
    table: pd.DataFrame,
    retention: pd.DataFrame,
    future: pd.DataFrame,
    comparison: pd.DataFrame,
) -> dict[str, Any]:
    """Machine-readable headline numbers for the report runner (rounded, JSON-ready)."""
    measures = concentration.set_index("measure")["estimate"]
    graded = table[table["share_of_customers"].notna()]

    def r(x: float) -> float:
        return round(float(x), 6)

    scored = comparison.set_index("scheme")
    return {
        "study": "grading_thresholds",
        "data_source": params.data_source,
        "as_of": params.as_of,
        "scheme": params.scheme,
        "value_metric": params.value_metric,
        "gini": r(measures["Gini"]),
        "top_20_percent_share_of_value": r(measures["top 20% share of value"]),
        "grade_share_of_customers": {
            g: r(s) for g, s in zip(graded["grade"], graded["share_of_customers"], strict=True)
        },
        "grade_share_of_value": {g: r(s) for g, s in zip(graded["grade"], graded["share_of_value"], strict=True)},
        "top_grade_cutoff": r(graded["cutoff"].iloc[0]),
        "kept_grade": r(retention.loc["all", "kept"]),
        "capture_rate": r(future["share_of_future_value"].iloc[0]),
        "spearman_rho": {s: r(v) for s, v in scored["spearman_rho"].items()},
        "recommended_scheme": str(rank_schemes(comparison)["scheme"].iloc[0]),
    }


def customer_grades(grading: Any, params: GradingParameters) -> pd.DataFrame:
    """One row per customer for the run's customer table: ``customer_id``, ``grade``, ``grade_status``, ``as_of``."""
    table = grading.customers[["customer_id", "grade", "status"]].rename(columns={"status": "grade_status"})
    return table.assign(grade=table["grade"].astype("object"), as_of=params.as_of).reset_index(drop=True)
