"""Study 3's value metric: revenue, or gross margin when the data has margins (``value_metric``).

:func:`value_summary` puts the chosen metric in the customer summary's value
columns, so every later step of the value study (RFM, Gamma-Gamma, CLV,
pyramid, value x risk) works on it unchanged; the chosen metric and its rule
are in the study's table of chosen parameters (:mod:`analysis.studies.dates`).
"""

from __future__ import annotations

import pandas as pd

from analysis.errors import DataError
from analysis.studies.parameters import ValueParameters

__all__ = ["MARGIN_COLUMNS", "describe_value_metric", "value_summary"]


#: The summary's value columns and their margin counterparts (value = gross margin).
MARGIN_COLUMNS = {
    "monetary_value": "monetary_margin",
    "total_value": "total_margin",
    "trailing_value": "trailing_margin",
}


def value_summary(summary: pd.DataFrame, params: ValueParameters) -> pd.DataFrame:
    """The customer summary with the study's value metric in the value columns (a new frame).

    With ``value_metric`` ``"margin"`` (chosen by ``"auto"`` when the data has
    margins), ``monetary_value`` becomes the mean gross margin of the repeat
    occasions (what the Gamma-Gamma model then fits: margin per purchase),
    ``total_value`` and ``trailing_value`` the margins; so RFM's M, the CLV,
    the pyramid and value x risk are in gross margin. ``trailing_revenue``
    keeps the trailing revenue in every case: the domain notes' absolute
    tiers are thresholds on annual revenue.

    Parameters
    ----------
    summary : DataFrame
        :func:`analysis.engines.summaries.customer_summary` or
        :func:`~analysis.engines.summaries.calibration_holdout` (with
        ``total_margin``, ``trailing_margin``, ``monetary_margin`` for margin).
    params : ValueParameters
        Dated parameters (``value_metric`` is ``"revenue"`` or ``"margin"``).
    """
    frame = summary.assign(trailing_revenue=summary["trailing_value"])
    if params.value_metric != "margin":
        return frame
    missing = [column for column in MARGIN_COLUMNS.values() if column not in summary]
    if missing:
        raise DataError(
            "value_metric 'margin' needs the margins of the transactions, which the summary lacks",
            column=missing[0],
            hint="Choose value_metric 'revenue', or map a margin column (column_map)",
        )
    return frame.assign(**{value: summary[margin] for value, margin in MARGIN_COLUMNS.items()})


def describe_value_metric(params: ValueParameters, summary: pd.DataFrame) -> str:
    """One sentence: which value the study ranks and values customers on, and how the spend model treats it."""
    if params.value_metric != "margin":
        return (
            "Value = revenue (the amounts): RFM's M, the spend model, CLV, the pyramid and value x risk are in "
            "revenue" + ("" if "total_margin" in summary else " (the data has no margin column)") + "."
        )
    repeat = summary["frequency"] > 0
    losing = int((repeat & ~(summary["monetary_value"] > 0)).sum())
    return (
        "Value = gross margin (the transactions' margin column): RFM's M, CLV, the pyramid and value x risk are in "
        "gross margin, and the Gamma-Gamma model fits each repeat customer's mean margin per purchase; "
        f"{losing:,} repeat customers with no positive mean margin cannot be valued by it and are counted, "
        "not valued. The absolute tiers stay on annual revenue, as the domain notes define them."
    )
