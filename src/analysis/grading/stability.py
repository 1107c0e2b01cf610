"""Regrading over time: grades at every regrading date, migration and retention.

Works on the dense per-customer-per-period table of
:func:`analysis.engines.summaries.period_table` (``dense=True``), so it never touches
raw transactions. At each regrading date the value of every customer is the
sum over the trailing window of periods ending with that date's period; the
customers are then graded exactly as :func:`analysis.grading.grades.grade_customers`
grades them (same schemes, same tie rule, same provisional rule with tenure
counted in periods).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError, check_option
from analysis.grading.grades import grade_frame
from analysis.grading.schemes import Scheme, make_scheme

__all__ = ["grade_history", "grade_retention", "migration_matrix"]

_METRIC_COLUMN = {"revenue": "value", "margin": "margin", "occasions": "occasions"}
INACTIVE = "inactive"


def grade_history(
    periods: pd.DataFrame,
    scheme: Scheme | str,
    *,
    metric: str = "revenue",
    window: int = 12,
    min_tenure: int = 6,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    every: int = 1,
    score_weights: Mapping[str, float] | None = None,
    score_inputs: Callable[[pd.Timestamp], pd.DataFrame] | None = None,
    left_censored_until: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Grade every customer at every regrading date.

    Parameters
    ----------
    periods : DataFrame
        Dense period table: ``customer_id``, ``period`` (first day of each
        month), ``occasions``, ``value`` and, for ``metric="margin"``,
        ``margin``; one row per customer and month from their first month on.
    scheme : Scheme or str
        The grading scheme.
    metric : {"revenue", "margin", "occasions"}
        Value metric summed over the window.
    window : int
        Trailing window in periods (12: the last 12 months).
    min_tenure : int
        Customers whose first period is fewer than this many periods before
        the regrading period get a provisional grade (6: six months).
    start, end : date, optional
        First and last regrading period (default: all periods in the table).
    every : int
        Regrade every ``every`` periods (1: monthly).
    score_weights : mapping, optional
        Composite-score weights for quota schemes.
    score_inputs : callable, optional
        For quota schemes: called with each regrading date (the period's last
        day, or ``end`` if earlier) and returning ``customer_id`` and further
        score columns as known at that date (e.g.
        :func:`analysis.grading.b2b.b2b_inputs`), joined to the period's
        snapshot so that B2B components are regraded point in time too.
    left_censored_until : date, optional
        Customers whose first period starts before this date's month may have
        bought before the data (:mod:`analysis.engines.censoring`): never
        provisional (their tenure is unknown).

    Returns
    -------
    pandas.DataFrame
        One row per regrading period and customer acquired by then:
        ``period`` (the period's first day; grades use data up to the period's
        end), ``customer_id``, ``value`` (window value),
        ``status`` and ``grade`` (as in :class:`analysis.grading.grades.Grading`).
    """
    if isinstance(scheme, str):
        scheme = make_scheme(scheme)
    check_option("metric", metric, _METRIC_COLUMN)
    for name, number in (("window", window), ("every", every)):
        if not isinstance(number, int | np.integer) or number < 1:
            raise ParameterError(name, number, "a positive whole number of periods")
    if not isinstance(min_tenure, int | np.integer) or min_tenure < 0:
        raise ParameterError("min_tenure", min_tenure, "a whole number of periods >= 0")
    column = _METRIC_COLUMN[metric]
    if column not in periods.columns:
        raise DataError(f"metric {metric!r} needs column {column!r}", column=column)

    customers, customer_pos = np.unique(periods["customer_id"].to_numpy(dtype=str), return_inverse=True)
    months = pd.DatetimeIndex(np.sort(periods["period"].unique()))
    calendar = pd.date_range(months[0], months[-1], freq="MS")
    if len(calendar) != len(months):
        raise DataError("period table is not a contiguous monthly series", column="period")
    month_pos = calendar.get_indexer(periods["period"])

    def matrix(name: str) -> np.ndarray:
        grid = np.zeros((len(customers), len(calendar)))
        grid[customer_pos, month_pos] = periods[name].to_numpy(dtype=float)
        return grid

    def window_sum(grid: np.ndarray) -> np.ndarray:
        total = np.cumsum(grid, axis=1)
        shifted = np.zeros_like(total)
        shifted[:, window:] = total[:, :-window]
        return total - shifted

    first = np.full(len(customers), len(calendar))
    np.minimum.at(first, customer_pos, month_pos)
    occasions = matrix("occasions")
    windows = {
        "trailing_value": window_sum(matrix("value")),
        "trailing_occasions": window_sum(occasions),
    }
    if "margin" in periods.columns:
        windows["trailing_margin"] = window_sum(matrix("margin"))
    active_month = np.where(occasions > 0, np.arange(len(calendar))[None, :], -1)
    last_active = np.maximum.accumulate(active_month, axis=1)

    lo = 0 if start is None else calendar.searchsorted(pd.Timestamp(start).to_period("M").start_time)
    hi = (
        len(calendar) - 1
        if end is None
        else calendar.searchsorted(pd.Timestamp(end).to_period("M").start_time, "right") - 1
    )
    if hi < lo:
        raise ParameterError("start", str(start), f"a period on or before {calendar[hi].date()}")
    value_column = {
        "revenue": "trailing_value",
        "margin": "trailing_margin",
        "occasions": "trailing_occasions",
    }[metric]
    if left_censored_until is not None:
        censored_month = calendar.searchsorted(pd.Timestamp(left_censored_until).to_period("M").start_time)
    frames = []
    for t in range(lo, hi + 1, every):
        present = first <= t
        if not present.any():
            continue
        snapshot = pd.DataFrame(
            {"customer_id": customers[present]}
            | {name: grid[present, t] for name, grid in windows.items()}
            | {
                "T": (t - first[present]).astype(float),
                "recency": np.where(last_active[present, t] >= 0, last_active[present, t] - first[present], 0).astype(
                    float
                ),
            }
        )
        if score_inputs is not None and scheme.ranks_on_score:
            day = calendar[t] + pd.offsets.MonthEnd(0)
            day = min(day, pd.Timestamp(end).normalize()) if end is not None else day
            extra = score_inputs(day)
            snapshot = snapshot.merge(extra, on="customer_id", how="left", validate="1:1")
        young = (t - first[present]) < min_tenure
        if left_censored_until is not None:
            young &= first[present] >= censored_month
        grading = grade_frame(snapshot, scheme, value=value_column, young=young, score_weights=score_weights)
        frames.append(grading.customers[["customer_id", "value", "status", "grade"]].assign(period=calendar[t]))
    if not frames:
        raise ParameterError("start", str(start), "a range holding at least one customer")
    history = pd.concat(frames, ignore_index=True)
    return history[["period", "customer_id", "value", "status", "grade"]]


def _states(history: pd.DataFrame) -> pd.Series:
    """Grade label, or "inactive" for customers with no positive value."""
    return history["grade"].astype("object").where(history["status"] != "no positive value", INACTIVE)


def migration_matrix(
    history: pd.DataFrame, *, dates: Sequence[pd.Timestamp] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transitions of graded customers from one regrading date to the next.

    Parameters
    ----------
    history : DataFrame
        Output of :func:`grade_history`.
    dates : sequence of two dates, optional
        Compare these two regrading periods only. Default: all consecutive
        pairs of dates, pooled.

    Returns
    -------
    (counts, probabilities) : tuple of DataFrame
        Rows: the grade at the earlier date (customers with status
        ``"graded"`` then); columns: the grade at the later date, or
        ``"inactive"`` (no positive value in the window). Probabilities are
        row shares (rows sum to 1).
    """
    labels = list(history["grade"].cat.categories)
    ordered = sorted(history["period"].unique())
    pairs = [tuple(pd.Timestamp(d) for d in dates)] if dates is not None else list(pairwise(ordered))
    if not pairs:
        raise ParameterError("dates", dates, "a history with at least two regrading dates")
    state = history.assign(state=_states(history))
    indexed = state.set_index(["period", "customer_id"])
    pieces = []
    for before, after in pairs:
        earlier = indexed.loc[before]
        earlier = earlier[earlier["status"] == "graded"]
        later = indexed.loc[after, "state"].reindex(earlier.index)
        pieces.append(pd.DataFrame({"from": earlier["grade"].astype("object"), "to": later.to_numpy()}))
    moves = pd.concat(pieces, ignore_index=True)
    counts = pd.crosstab(
        pd.Categorical(moves["from"], categories=labels),
        pd.Categorical(moves["to"], categories=[*labels, INACTIVE]),
        dropna=False,
    )
    counts.index.name, counts.columns.name = "from grade", "to grade"
    probabilities = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    return counts, probabilities


def grade_retention(counts: pd.DataFrame) -> pd.DataFrame:
    """Share of each grade that keeps its grade, moves up, moves down or becomes inactive.

    Parameters
    ----------
    counts : DataFrame
        The counts of :func:`migration_matrix`.

    Returns
    -------
    pandas.DataFrame
        One row per grade: ``customers`` (transitions observed), ``kept``,
        ``moved_up``, ``moved_down``, ``became_inactive`` (shares summing to
        1); plus a final row ``all`` pooling every grade.
    """
    labels = list(counts.index)
    position = {label: i for i, label in enumerate(labels)}
    rows = {}
    for label in labels:
        row = counts.loc[label]
        total = row.sum()
        up = sum(row[g] for g in labels if position[g] < position[label])
        down = sum(row[g] for g in labels if position[g] > position[label])
        rows[label] = [total, row[label], up, down, row[INACTIVE]]
    table = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["customers", "kept", "moved_up", "moved_down", "became_inactive"],
    )
    table.loc["all"] = table.sum()
    shares = table[["kept", "moved_up", "moved_down", "became_inactive"]].div(
        table["customers"].replace(0, np.nan), axis=0
    )
    result = pd.concat([table[["customers"]].astype("int64"), shares], axis=1)
    result.index.name = "grade"
    return result
