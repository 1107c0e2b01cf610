"""Value tiers: RFM scores and segments, value pyramids, value x churn risk with actions.

Works on one row per customer (the customer summary, optionally joined with
model predictions such as ``clv`` and ``p_alive`` from :mod:`analysis.value.clv`
or a churn probability from :mod:`analysis.churn`). Pyramids and absolute
tiers reuse the grading engine (:mod:`analysis.grading`), so they share its
tie rule: equal values always share a tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import check_increasing, require_columns
from analysis.errors import DataError, ParameterError
from analysis.grading.grades import grade_frame
from analysis.grading.policy import VALUE_RISK_ACTIONS, tier_ranks
from analysis.grading.schemes import Scheme, make_scheme

__all__ = [
    "DEFAULT_SEGMENT_RULES",
    "TENURE_SEGMENTS",
    "absolute_tiers",
    "rfm_scores",
    "rfm_segments",
    "risk_bands",
    "tier_profile",
    "value_pyramid",
    "value_risk_matrix",
]


def _quantile_score(values: pd.Series, bins: int) -> pd.Series:
    """Scores 1..bins by rank (higher value, higher score); ties share the lower score.

    ``score = 1 + floor(bins * (min_rank - 1) / n)`` with ``min_rank`` the
    rank of the first of the tied values, so each score holds ``n / bins``
    customers up to ties, and customers with equal values always share a
    score.
    """
    rank = values.rank(method="min", ascending=True)
    return (1 + np.floor(bins * (rank - 1) / len(values))).astype("int64")


def rfm_scores(summary: pd.DataFrame, *, bins: int = 5, monetary: str = "total_value") -> pd.DataFrame:
    """Recency, frequency and monetary scores (quintiles by default).

    Parameters
    ----------
    summary : DataFrame
        Customer summary with ``customer_id``, ``T``, ``recency``,
        ``occasions`` and the ``monetary`` column.
    bins : int
        Number of score levels (5: quintiles).
    monetary : str
        Column used for M (``total_value``, ``trailing_value``,
        ``monetary_value``...; NaN counts as 0).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``time_since_last_purchase`` (``T - recency`` in the
        summary's time unit), ``r_score`` (recent = high), ``f_score``,
        ``m_score`` and ``rfm`` (e.g. ``"545"``). Tie rule: customers with
        equal values share the lower score (see :func:`_quantile_score`).
    """
    require_columns(summary, ["customer_id", "T", "recency", "occasions", monetary], "rfm_scores")
    if not isinstance(bins, int) or not 2 <= bins <= 10:
        raise ParameterError("bins", bins, "a whole number of score levels from 2 to 10")
    since = summary["T"] - summary["recency"]
    scores = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "time_since_last_purchase": since.to_numpy(),
            "r_score": _quantile_score(-since, bins).to_numpy(),
            "f_score": _quantile_score(summary["occasions"].astype(float), bins).to_numpy(),
            "m_score": _quantile_score(summary[monetary].fillna(0.0), bins).to_numpy(),
        }
    )
    return scores.assign(
        rfm=scores["r_score"].astype(str) + scores["f_score"].astype(str) + scores["m_score"].astype(str)
    )


#: Default segment rules after DOMAIN.md section 3 (first matching rule wins;
#: bounds inclusive, on 1-5 scores). Edit a copy to change the segments.
DEFAULT_SEGMENT_RULES = pd.DataFrame(
    [
        ("VIP", 4, 5, 4, 5, 4, 5, "buys recently, often and a lot: protect"),
        ("loyal", 3, 5, 4, 5, 1, 5, "buys often and still active"),
        ("growth", 4, 5, 2, 3, 3, 5, "recent, spends well, not yet frequent: develop"),
        ("new", 4, 5, 1, 1, 1, 5, "first purchase recently"),
        ("at risk", 2, 3, 3, 5, 1, 5, "used to buy often, now quiet"),
        ("dormant", 1, 1, 2, 5, 1, 5, "repeat buyer gone quiet for long"),
        ("lost", 1, 2, 1, 2, 1, 5, "bought once or twice, long ago"),
        ("regular", 1, 5, 1, 5, 1, 5, "everyone else"),
    ],
    columns=["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max", "description"],
)


#: Segments that say how long a customer has been buying: never given to a customer whose history may
#: start before the data (left-censored, :mod:`analysis.engines.censoring`).
TENURE_SEGMENTS = ("new",)


def rfm_segments(scores: pd.DataFrame, rules: pd.DataFrame | None = None, *, left_censored: Any = None) -> pd.DataFrame:
    """Assign each customer the first segment rule their R, F and M scores match.

    Parameters
    ----------
    scores : DataFrame
        Output of :func:`rfm_scores`.
    rules : DataFrame, optional
        Columns ``segment``, ``r_min``, ``r_max``, ``f_min``, ``f_max``,
        ``m_min``, ``m_max`` (inclusive bounds), in priority order. Default
        :data:`DEFAULT_SEGMENT_RULES`; the last rule should match everyone.
    left_censored : array of bool, optional
        Customers whose history may start before the data: the rules of
        :data:`TENURE_SEGMENTS` ("new": first purchase recently) are skipped
        for them, so they get the next rule they match.

    Returns
    -------
    pandas.DataFrame
        ``scores`` with a ``segment`` column (ordered categorical in rule
        order). Customers matching no rule raise :class:`DataError`.
    """
    rules = DEFAULT_SEGMENT_RULES if rules is None else rules
    require_columns(rules, ["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"], "segment rules")
    segment = pd.Series(pd.NA, index=scores.index, dtype="object")
    censored = np.zeros(len(scores), dtype=bool) if left_censored is None else np.asarray(left_censored, dtype=bool)
    for rule in rules.itertuples():
        allowed = ~censored if rule.segment in TENURE_SEGMENTS else np.ones(len(scores), dtype=bool)
        match = (
            allowed
            & scores["r_score"].between(rule.r_min, rule.r_max)
            & scores["f_score"].between(rule.f_min, rule.f_max)
            & scores["m_score"].between(rule.m_min, rule.m_max)
            & segment.isna()
        )
        segment = segment.mask(match, rule.segment)
    if segment.isna().any():
        unmatched = scores.loc[segment.isna(), "rfm"]
        raise DataError(
            "customers match no segment rule",
            column="rfm",
            n_bad=len(unmatched),
            n_rows=len(scores),
            examples=list(zip(unmatched.index[:5], unmatched.iloc[:5], strict=True)),
            hint="Add a final catch-all rule",
        )
    categories = list(dict.fromkeys(rules["segment"]))
    return scores.assign(segment=pd.Categorical(segment, categories=categories, ordered=True))


def value_pyramid(
    frame: pd.DataFrame,
    *,
    value: str = "clv",
    cuts: Sequence[float] = (0.01, 0.05, 0.20),
    labels: Sequence[str] | None = None,
) -> pd.Series:
    """Tier of each customer in a value pyramid (top 1% / next 4% / next 15% / rest by default).

    Parameters
    ----------
    frame : DataFrame
        One row per customer with the ``value`` column.
    value : str
        Column to rank on (predicted CLV by default).
    cuts : sequence of float
        Cumulative shares of customers closing each tier but the last.
    labels : sequence of str, optional
        Tier names, best first (default from the cuts: ``top 1%``, ``next 4%``...).

    Returns
    -------
    pandas.Series
        Ordered categorical aligned with ``frame``; customers with no
        positive value get the last tier. Ties share a tier (grading's rule).
    """
    require_columns(frame, [value], "value_pyramid")
    cuts = tuple(float(c) for c in cuts)
    if labels is None:
        edges = (0.0, *cuts)
        labels = [f"top {cuts[0]:.0%}"] + [f"next {b - a:.0%}" for a, b in zip(edges[1:], cuts[1:], strict=False)]
        labels = [*labels, "rest"]
    scheme = Scheme("pyramid", "rank_share", cuts=cuts, labels=tuple(labels))
    return _tiers(frame, value, scheme)


def _tiers(frame: pd.DataFrame, value: str, scheme: Scheme) -> pd.Series:
    table = pd.DataFrame({"customer_id": np.arange(len(frame)), "tier_value": frame[value].to_numpy(dtype=float)})
    grading = grade_frame(table, scheme, value="tier_value", young=np.zeros(len(frame), dtype=bool))
    tiers = grading.customers["grade"].fillna(scheme.labels[-1])
    return pd.Series(
        pd.Categorical(tiers, categories=list(scheme.labels), ordered=True), index=frame.index, name="tier"
    )


def absolute_tiers(
    frame: pd.DataFrame, *, value: str = "trailing_value", scale: float = 1.0, coefficient: float = 1.0
) -> pd.Series:
    """DOMAIN.md's Diamond/Platinum/Gold/VIP tiers on annual value (thresholds x scale x coefficient)."""
    require_columns(frame, [value], "absolute_tiers")
    return _tiers(frame, value, make_scheme("absolute_tiers", scale=scale, coefficient=coefficient))


def risk_bands(
    churn_probability: pd.Series,
    *,
    cuts: Sequence[float] = (0.3, 0.6),
    labels: Sequence[str] = ("low", "medium", "high"),
) -> pd.Series:
    """Churn-risk band of each customer.

    Parameters
    ----------
    churn_probability : Series
        Probability of churn (e.g. ``1 - p_alive``, or a churn model's score).
    cuts : sequence of float
        Increasing probabilities separating the bands (a customer at a cut
        goes to the higher band).
    labels : sequence of str
        Band names from lowest to highest risk.

    Returns
    -------
    pandas.Series
        Ordered categorical aligned with the input.
    """
    cuts = [float(c) for c in cuts]
    if len(labels) != len(cuts) + 1 or not all(0 < c < 1 for c in cuts):
        raise ParameterError("risk_cuts", cuts, f"{len(labels) - 1} increasing probabilities inside (0, 1)")
    check_increasing("risk_cuts", cuts, what="probabilities inside (0, 1)")
    p = churn_probability.astype(float)
    if ((p < 0) | (p > 1) | p.isna()).any():
        raise DataError("churn probabilities outside [0, 1] or missing", column=str(churn_probability.name))
    codes = np.searchsorted(np.asarray(cuts), p.to_numpy(), side="right")
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=list(labels), ordered=True),
        index=churn_probability.index,
        name="risk",
    )


def tier_profile(
    frame: pd.DataFrame, *, tier: str = "tier", current: str = "trailing_value", predicted: str = "clv"
) -> pd.DataFrame:
    """Profile of each tier: size, share of current and predicted value, activity.

    Parameters
    ----------
    frame : DataFrame
        One row per customer with the ``tier``, ``current`` and ``predicted``
        columns, plus ``p_alive`` and ``time_since_last_purchase`` when present.

    Returns
    -------
    pandas.DataFrame
        One row per tier: ``customers``, ``share_of_customers``,
        ``share_of_current_value``, ``share_of_predicted_value``,
        ``mean_predicted_value``, and ``mean_p_alive`` and
        ``median_time_since_last_purchase`` when available.
    """
    require_columns(frame, [tier, current, predicted], "tier_profile")
    grouped = frame.groupby(tier, observed=False)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "share_of_customers": grouped.size() / len(frame),
            "share_of_current_value": grouped[current].sum() / frame[current].clip(lower=0).sum(),
            "share_of_predicted_value": grouped[predicted].sum() / frame[predicted].sum(),
            "mean_predicted_value": grouped[predicted].mean(),
        }
    )
    if "p_alive" in frame:
        out["mean_p_alive"] = grouped["p_alive"].mean()
    if "time_since_last_purchase" in frame:
        out["median_time_since_last_purchase"] = grouped["time_since_last_purchase"].median()
    out.index.name = tier
    return out.reset_index()


def value_risk_matrix(
    frame: pd.DataFrame,
    *,
    tier: str = "tier",
    risk: str = "risk",
    churn_probability: str = "churn_probability",
    value: str = "clv",
    actions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Customers, value and value at risk in each cell of tier x risk band, with an action.

    ``value_at_risk`` of a customer is ``value x churn_probability`` (the
    expected loss of that value); a cell's is the sum over its customers.

    Parameters
    ----------
    frame : DataFrame
        One row per customer with ``tier``, ``risk`` (ordered categoricals,
        best tier first, lowest risk first), ``churn_probability`` and
        ``value`` columns.
    actions : DataFrame, optional
        Policy table with ``tier_rank`` (``top``, ``middle``, ``bottom``),
        ``risk`` and ``action`` (default :data:`analysis.grading.policy.VALUE_RISK_ACTIONS`).
        A tier's rank is ``top`` for the best tier, ``bottom`` for the last
        and ``middle`` otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``tier``, ``risk``, ``customers``, ``value``,
        ``value_at_risk``, ``share_of_value_at_risk``, ``action``, sorted by
        value at risk (largest first: where to act first).
    """
    require_columns(frame, [tier, risk, churn_probability, value], "value_risk_matrix")
    actions = VALUE_RISK_ACTIONS if actions is None else actions
    at_risk = frame[value].clip(lower=0) * frame[churn_probability]
    cells = (
        frame.assign(value_at_risk=at_risk, value_clipped=frame[value].clip(lower=0))
        .groupby([tier, risk], observed=False)
        .agg(customers=(value, "size"), value=("value_clipped", "sum"), value_at_risk=("value_at_risk", "sum"))
        .reset_index()
        .rename(columns={tier: "tier", risk: "risk"})
    )
    total = cells["value_at_risk"].sum()
    cells["share_of_value_at_risk"] = cells["value_at_risk"] / total if total > 0 else np.nan
    cells["tier_rank"] = cells["tier"].astype(object).map(tier_ranks(list(frame[tier].cat.categories)))
    policy = actions.set_index(["tier_rank", "risk"])["action"]
    keys = list(zip(cells["tier_rank"], cells["risk"].astype(object), strict=True))
    missing = [k for k in keys if k not in policy.index]
    if missing:
        raise ParameterError(
            "actions", f"{len(actions)} rules", f"an action for every (tier rank, risk) cell, e.g. {missing[0]}"
        )
    cells["action"] = [policy.loc[k] for k in keys]
    return cells.drop(columns="tier_rank").sort_values("value_at_risk", ascending=False, ignore_index=True)
