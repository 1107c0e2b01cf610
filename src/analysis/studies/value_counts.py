"""The value study's purchase-count checks: how many customers bought 0, 1, 2, ... times, actual vs the model.

Two tables, one per period, with the same columns:

- :func:`holdout_count_table`: customers by number of purchases in the
  holdout period, against the sum over the calibration customers of their
  conditional probabilities ``P(X(T, T+t) = x* | x, t_x, T)`` (their own
  calibration history, the holdout length ``t``). The model never saw the
  holdout: this is the out-of-sample check of the distribution behind the
  conditional expectations of ``holdout_by_frequency``.
- :func:`calibration_count_table`: customers by number of repeat purchases in
  the calibration period, against the sum of ``P(X(T_i) = x)`` over the
  customers' own calibration lengths ``T_i`` (the classic "fit histogram" of
  Fader, Hardie & Lee 2005, Figure 2), an in-sample check.

:func:`count_fit_test` gives Pearson's chi-square on a table, and
:func:`describe_purchase_counts` says it in a sentence. The test is
indicative only: the last cell pools a tail, the customers are not
identically distributed (each expected count sums different probabilities, so
the statistic is not exactly chi-square; the chi-square reference makes the
test conservative), and in calibration the parameters were estimated from the
same customers (four degrees of freedom are removed, as Fader, Hardie & Lee
do).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
   customers" the easy way: an alternative to the Pareto/NBD model.
   *Marketing Science* 24(2), 275-284 (Figure 2, eq. 8).
.. [2] Fader, P. S. and Hardie, B. G. S. (2014). Deriving the conditional PMF
   of the Pareto/NBD model. http://brucehardie.com/notes/028/
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.checks import check_whole_number
from analysis.errors import check_option
from analysis.stats import StatisticalResult
from analysis.value.clv.base import require_summary_columns
from analysis.value.clv.estimation import TransactionModel

__all__ = [
    "COUNT_PERIODS",
    "calibration_count_table",
    "count_fit_test",
    "describe_purchase_counts",
    "holdout_count_table",
]


#: The two tables, by period: what is counted.
COUNT_PERIODS = {
    "holdout": "purchases in the holdout period",
    "calibration": "repeat purchases in the calibration period",
}


#: What a customer with no purchase did not make, by period.
_NONE_MADE = {"holdout": "purchase in the holdout period", "calibration": "repeat purchase in the calibration period"}


#: Expected customers per cell below which the chi-square approximation is poor.
SMALL_CELL = 5.0


def holdout_count_table(model: TransactionModel, holdout: pd.DataFrame, *, top: int = 7) -> pd.DataFrame:
    """Customers by number of holdout purchases: actual vs expected from their calibration histories.

    Parameters
    ----------
    model : TransactionModel
        Fitted on the calibration period (BG/NBD or Pareto/NBD).
    holdout : DataFrame
        :func:`analysis.engines.summaries.calibration_holdout`: ``frequency``,
        ``recency``, ``T`` (calibration), ``frequency_holdout`` and
        ``duration_holdout`` (the holdout length, the same for everybody).
    top : int
        Counts of ``top`` and more are pooled in one cell (``"7+"``).

    Returns
    -------
    pandas.DataFrame
        One row per cell, see :func:`calibration_count_table`; ``expected`` is
        the sum of the customers' ``P(X(T, T+t) = x* | x, t_x, T)``.
    """
    top = check_whole_number("top", top)
    require_summary_columns(holdout, ("frequency_holdout", "duration_holdout"), "holdout_count_table")
    horizon = float(holdout["duration_holdout"].iloc[0])
    probs = model.purchase_count_probabilities(horizon=horizon, counts=range(top), data=holdout).to_numpy()
    expected = np.append(probs.sum(axis=0), np.clip(1 - probs.sum(axis=1), 0, None).sum())
    return _count_table(holdout["frequency_holdout"].to_numpy(), expected, top)


def calibration_count_table(model: TransactionModel, calibration: pd.DataFrame, *, top: int = 7) -> pd.DataFrame:
    """Customers by number of repeat purchases in calibration: actual vs the model's ``sum_i P(X(T_i) = x)``.

    Parameters
    ----------
    model : TransactionModel
        Fitted on ``calibration``.
    calibration : DataFrame
        ``frequency`` and ``T`` per customer (e.g. the calibration columns of
        :func:`analysis.engines.summaries.calibration_holdout`).
    top : int
        Counts of ``top`` and more are pooled in one cell.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``purchases`` (``"0"``, ..., ``"7+"``), ``actual``
        and ``expected`` customers, ``actual_share`` and ``expected_share``
        (of all customers), ``difference`` (actual - expected) and
        ``contribution`` (Pearson's ``(actual - expected)^2 / expected``).
    """
    top = check_whole_number("top", top)
    require_summary_columns(calibration, ("frequency", "T"), "calibration_count_table")
    times, customers = np.unique(calibration["T"].to_numpy(dtype=float), return_counts=True)
    probs = model.purchase_count_probabilities_population(times=times, counts=range(top)).to_numpy()
    expected = np.append(customers @ probs, customers @ np.clip(1 - probs.sum(axis=1), 0, None))
    return _count_table(calibration["frequency"].to_numpy(), expected, top)


def _count_table(counts: np.ndarray, expected: np.ndarray, top: int) -> pd.DataFrame:
    actual = np.bincount(np.minimum(counts.astype(np.int64), top), minlength=top + 1).astype(float)
    n = actual.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        contribution = np.where(expected > 0, (actual - expected) ** 2 / expected, np.where(actual > 0, np.inf, 0.0))
    return pd.DataFrame(
        {
            "purchases": [str(k) for k in range(top)] + [f"{top}+"],
            "actual": actual.astype(np.int64),
            "expected": expected,
            "actual_share": actual / n,
            "expected_share": expected / n,
            "difference": actual - expected,
            "contribution": contribution,
        }
    )


def count_fit_test(table: pd.DataFrame, *, period: str = "holdout") -> StatisticalResult:
    """Pearson's chi-square of a count table (indicative: see the module notes).

    Parameters
    ----------
    table : DataFrame
        :func:`holdout_count_table` or :func:`calibration_count_table`.
    period : str
        ``"holdout"`` (``cells - 1`` degrees of freedom: the model never saw
        these purchases) or ``"calibration"`` (``cells - 1 - 4``: four
        parameters were fitted to the same customers).

    Returns
    -------
    StatisticalResult
        ``statistic``, ``p_value``, ``degrees_of_freedom`` (at least 1).
    """
    period = check_option("period", period, tuple(COUNT_PERIODS))
    fitted = 4 if period == "calibration" else 0
    dof = max(len(table) - 1 - fitted, 1)
    statistic = float(table["contribution"].sum())
    return StatisticalResult(
        f"Pearson chi-square, customers by number of {COUNT_PERIODS[period]} (indicative)",
        statistic,
        float(sps.chi2.sf(statistic, dof)),
        float(dof),
    )


def describe_purchase_counts(
    table: pd.DataFrame, test: StatisticalResult, model: TransactionModel, *, period: str = "holdout"
) -> str:
    """Two to four sentences: actual vs expected customers, the largest gap, the chi-square and its caveats."""
    period = check_option("period", period, tuple(COUNT_PERIODS))
    n = int(table["actual"].sum())
    zero, tail = table.iloc[0], table.iloc[-1]
    worst = table.loc[table["difference"].abs().idxmax()]
    relative = worst["difference"] / worst["expected"] if worst["expected"] > 0 else np.inf
    sentences = [
        f"Of {n:,} customers, {int(zero['actual']):,} ({zero['actual_share']:.1%}) made no {_NONE_MADE[period]}, "
        f"against {zero['expected']:,.0f} ({zero['expected_share']:.1%}) expected by the model, and "
        f"{int(tail['actual']):,} made {tail['purchases']} against {tail['expected']:,.0f}; the largest gap is at "
        f"{worst['purchases']} ({worst['difference']:+,.0f} customers, {relative:+.0%} of the expected count).",
        f"Pearson's chi-square is {test.statistic:,.1f} on {test.degrees_of_freedom:.0f} degrees of freedom "
        f"(p = {test.p_value:.2g}): {_verdict(test.p_value)}. The test is indicative only: the last cell pools a "
        "tail and customers are not identically distributed"
        + (", and the parameters were fitted to these same customers." if period == "calibration" else "."),
    ]
    small = table.loc[table["expected"] < SMALL_CELL, "purchases"].tolist()
    if small:
        sentences.append(
            f"Cells with fewer than {SMALL_CELL:.0f} expected customers ({', '.join(small)}) make the chi-square "
            "approximation poor."
        )
    if model.convergence_ is not None and not model.convergence_.success:
        sentences.append(f"The model's fit is {model.convergence_.describe()}: read its expected counts with care.")
    return " ".join(sentences)


def _verdict(p_value: float) -> str:
    if p_value >= 0.05:
        return "no evidence against the model's distribution of purchase counts"
    if p_value >= 0.001:
        return "some evidence that the model's distribution of purchase counts misses the data"
    return "the model's distribution of purchase counts departs clearly from the data"
