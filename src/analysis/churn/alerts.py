"""Whom to call: alert lists ranked by expected value at risk, what each capacity covers, a safe CSV export."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks import require_columns
from analysis.churn.measures import outcome_values
from analysis.errors import DataError, ParameterError
from analysis.files import publish_file, write_csv
from analysis.privacy import pseudonymise

__all__ = ["AlertList", "alert_list", "alerts_by_capacity", "export_alerts_csv"]

log = logging.getLogger("analysis")


@dataclass(frozen=True)
class AlertList:
    """The customers a team of capacity K should contact, and what that covers.

    Attributes
    ----------
    alerts : DataFrame
        The top ``capacity`` customers (see :func:`alert_list`).
    coverage : Series
        The row of :func:`alerts_by_capacity` for this capacity.
    """

    alerts: pd.DataFrame
    coverage: pd.Series


def _ranked(frame: pd.DataFrame, probability: str, value: str, outcome: str | None, id_col: str) -> pd.DataFrame:
    """Customers with a probability and a value, by expected value at risk (descending, then id)."""
    require_columns(
        frame, [id_col, probability, value] + ([outcome] if outcome else []), "the alert list", table="<frame>"
    )
    p = frame[probability].astype("float64")
    if ((p < 0) | (p > 1)).any():
        raise DataError("probabilities must lie in [0, 1]", column=probability)
    v = frame[value].astype("float64").clip(lower=0)
    ranked = pd.DataFrame(
        {
            id_col: frame[id_col].to_numpy(),
            "churn_probability": p.to_numpy(),
            "value": v.to_numpy(),
            "value_at_risk": (p * v).to_numpy(),
        },
        index=frame.index,
    )
    if outcome:
        ranked[outcome] = outcome_values(frame, outcome)
    ranked = ranked.dropna(subset=["churn_probability", "value"])
    return ranked.sort_values(["value_at_risk", id_col], ascending=[False, True], kind="stable")


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ParameterError("capacity", value, "a positive whole number of customers")
    return int(value)


def alerts_by_capacity(
    frame: pd.DataFrame,
    *,
    probability: str = "churn_probability",
    value: str = "trailing_value",
    capacities: Sequence[int] | None = None,
    outcome: str | None = None,
    id_col: str = "customer_id",
) -> pd.DataFrame:
    """What an alert list of each capacity K covers.

    Customers are ranked by expected value at risk, ``probability x value``
    (negative values count as 0; customers with a missing probability or value
    are not ranked); ties are broken by customer id.

    Parameters
    ----------
    frame : DataFrame
        One row per customer: ``id_col``, ``probability``, ``value`` and, to
        evaluate against what happened, ``outcome``.
    probability, value : str
        Columns of the churn probability and the customer value.
    capacities : sequence of int, optional
        The K to tabulate (default: 5%, 10%, ..., 100% of the ranked customers).
    outcome : str, optional
        0/1 churn outcome column; gives precision, recall and realised value.
    id_col : str
        Customer id column.

    Returns
    -------
    pandas.DataFrame
        One row per K: ``capacity``, ``alerted`` (min(K, ranked customers)),
        ``share_alerted``, ``expected_value_at_risk`` (sum of probability x
        value over the alerted) and ``expected_value_at_risk_share`` (of the
        total over all ranked customers); with ``outcome``: ``churners_alerted``,
        ``precision`` (churners among the alerted), ``recall`` (share of all
        churners alerted), ``value_lost_alerted`` (value of the alerted
        churners) and ``value_lost_share`` (of the value of all churners).
    """
    ranked = _ranked(frame, probability, value, outcome, id_col)
    n = len(ranked)
    if capacities is None:
        capacities = sorted({max(1, round(n * share / 20)) for share in range(1, 21)})
    ks = np.array([_capacity(k) for k in capacities], dtype="int64")
    var = np.concatenate([[0.0], np.cumsum(ranked["value_at_risk"].to_numpy())])
    alerted = np.minimum(ks, n)
    table = pd.DataFrame(
        {
            "capacity": ks,
            "alerted": alerted,
            "share_alerted": alerted / n if n else np.nan,
            "expected_value_at_risk": var[alerted],
            "expected_value_at_risk_share": var[alerted] / var[-1] if var[-1] > 0 else np.nan,
        }
    )
    if outcome:
        y = ranked[outcome].to_numpy()
        churners = np.concatenate([[0], np.cumsum(y)])
        lost = np.concatenate([[0.0], np.cumsum(y * ranked["value"].to_numpy())])
        table["churners_alerted"] = churners[alerted]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["precision"] = np.where(alerted > 0, churners[alerted] / alerted, np.nan)
        table["recall"] = churners[alerted] / churners[-1] if churners[-1] > 0 else np.nan
        table["value_lost_alerted"] = lost[alerted]
        table["value_lost_share"] = lost[alerted] / lost[-1] if lost[-1] > 0 else np.nan
    return table


def alert_list(
    frame: pd.DataFrame,
    *,
    capacity: int,
    probability: str = "churn_probability",
    value: str = "trailing_value",
    outcome: str | None = None,
    columns: Sequence[str] = (),
    id_col: str = "customer_id",
) -> AlertList:
    """The ``capacity`` customers with the highest expected value at risk.

    Parameters
    ----------
    frame : DataFrame
        One row per customer (see :func:`alerts_by_capacity`).
    capacity : int
        How many customers the team can contact (K).
    probability, value, outcome, id_col
        As for :func:`alerts_by_capacity`.
    columns : sequence of str
        Extra columns to carry onto the list (e.g. the signals, as reasons).

    Returns
    -------
    AlertList
        ``alerts``: ``rank`` (1 = first to contact), ``id_col``,
        ``churn_probability``, ``value`` (negative counted as 0),
        ``value_at_risk`` (expected: probability x value),
        ``cumulative_value_at_risk``, the ``outcome`` if given, then
        ``columns``. ``coverage``: precision, recall and value covered at K.
    """
    k = _capacity(capacity)
    ranked = _ranked(frame, probability, value, outcome, id_col).head(k)
    alerts = ranked.assign(cumulative_value_at_risk=ranked["value_at_risk"].cumsum())
    alerts.insert(0, "rank", np.arange(1, len(alerts) + 1))
    require_columns(frame, list(columns), "alert_list", table="<frame>")
    for column in columns:
        alerts[column] = frame.loc[alerts.index, column].to_numpy()
    coverage = alerts_by_capacity(
        frame, probability=probability, value=value, capacities=[k], outcome=outcome, id_col=id_col
    ).iloc[0]
    return AlertList(alerts=alerts.reset_index(drop=True), coverage=coverage)


def export_alerts_csv(
    alerts: AlertList | pd.DataFrame,
    path: str | os.PathLike,
    *,
    pseudonym_key: bytes | None = None,
    overwrite: bool = False,
    id_col: str = "customer_id",
) -> Path:
    """Write an alert list to CSV, safe to open in a spreadsheet.

    - Written by :func:`analysis.files.write_csv` with ``excel=True``: text
      cells that a spreadsheet would run as a formula get a leading
      apostrophe (the header too), numbers stay numbers, UTF-8 with a
      byte-order mark, CRLF rows, cells with a comma, quote or line break
      quoted.
    - With a ``pseudonym_key`` the ids are replaced by their keyed
      pseudonyms (:func:`analysis.privacy.pseudonym`, HMAC-SHA256); read the
      key with :func:`analysis.privacy.read_pseudonym_key`. The same key
      gives the same pseudonyms across exports.
    - Written atomically by :func:`analysis.files.publish_file`, with
      owner-only permissions; an existing file is never replaced unless
      ``overwrite=True``.

    Parameters
    ----------
    alerts : AlertList or DataFrame
        The list (its ``alerts`` table) to write; not modified.
    path : path
        Target file; its folder must exist.
    pseudonym_key : bytes, optional
        Secret key of the pseudonyms; ``None`` keeps the ids.
    overwrite : bool
        Allow replacing an existing file.
    id_col : str
        The customer id column.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    table = alerts.alerts if isinstance(alerts, AlertList) else alerts
    if not isinstance(table, pd.DataFrame):
        raise ParameterError("alerts", type(alerts).__name__, "an AlertList or a DataFrame")
    if not isinstance(overwrite, bool):
        raise ParameterError("overwrite", overwrite, "True or False")
    target = Path(path)
    if not target.parent.is_dir():
        raise ParameterError("path", str(path), "a file in an existing folder")
    if target.exists() and not overwrite:
        raise ParameterError("path", str(path), "a file that does not exist yet (or overwrite=True)")
    if pseudonym_key is not None:
        table = pseudonymise(table, pseudonym_key, id_col)
    publish_file(target, lambda staging: write_csv(staging, table, excel=True), overwrite=overwrite, mode=0o600)
    log.info("alert list of %d rows written to %s", len(table), target)
    return target
