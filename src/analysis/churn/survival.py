"""Survival by signal: Kaplan-Meier curves with bands, survival at given times, log-rank tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from analysis.checks import level_name, level_z, require_columns
from analysis.churn.measures import outcome_values
from analysis.errors import DataError, ParameterError, check_option
from analysis.stats import StatisticalResult

__all__ = ["kaplan_meier", "logrank", "survival_at", "survival_data"]


_WEIGHTS = {"logrank": None, "gehan_breslow": "gb", "tarone_ware": "tw"}


_BANDS = ("pointwise", "simultaneous")


def survival_data(frame: pd.DataFrame, time: str, event: str, group: str | None) -> pd.DataFrame:
    """``time``, 0/1 ``event`` (and ``group``) of ``frame``, checked, as a new frame with its index."""
    require_columns(frame, [time, event] + ([group] if group else []), "the survival analysis", table="<frame>")
    t = frame[time]
    if not pd.api.types.is_numeric_dtype(t) or t.isna().any() or (t < 0).any():
        raise DataError("survival times must be non-negative numbers without missing values", column=time)
    data = pd.DataFrame({"time": t.astype("float64"), "event": outcome_values(frame, event)}, index=frame.index)
    if group:
        if frame[group].isna().any():
            raise DataError("missing group labels", column=group, n_bad=int(frame[group].isna().sum()))
        data["group"] = frame[group].to_numpy()
    return data


def kaplan_meier(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    level: float = 0.95,
    band: str = "pointwise",
) -> pd.DataFrame:
    """Kaplan-Meier survival curves (statsmodels ``SurvfuncRight``), by group, with confidence bands.

    Parameters
    ----------
    frame : DataFrame
        One row per customer with the ``time`` and ``event`` columns (and ``group``).
    time : str
        Follow-up time column (e.g. ``"tenure_months"``, ``"time_to_next_purchase"``).
    event : str
        0/1 column: 1 = the event happened at ``time``, 0 = censored then.
    group : str, optional
        Column whose values define the curves (one curve if omitted).
    level : float
        Confidence level of the band.
    band : {"pointwise", "simultaneous"}
        ``"pointwise"``: Greenwood standard error on the log(-log) scale
        (stays within [0, 1]); ``"simultaneous"``: Hall-Wellner band from
        statsmodels (log transform; level 0.95 only).

    Returns
    -------
    pandas.DataFrame
        Per group (sorted) a row at time 0 (survival 1) and one per distinct
        event time: the ``group`` column (named as in ``frame``, if grouped),
        ``time``, ``at_risk``, ``events``, ``survival``, ``standard_error``
        (Greenwood), ``lower_95``, ``upper_95``. The curve is a step function,
        right-continuous: ``survival`` holds from ``time`` to the next row.
    """
    check_option("band", band, _BANDS)
    z = level_z(level)
    if band == "simultaneous" and level != 0.95:
        raise ParameterError("level", level, "0.95 with band='simultaneous' (the only level statsmodels offers)")
    data = survival_data(frame, time, event, group)
    lv = level_name(level)
    pieces = []
    for label, part in data.groupby("group", sort=True) if group else [(None, data)]:
        fit = SurvfuncRight(part["time"].to_numpy(), part["event"].to_numpy())
        s, se = np.asarray(fit.surv_prob, dtype="float64"), np.asarray(fit.surv_prob_se, dtype="float64")
        if band == "pointwise":
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.exp(z * se / (s * np.abs(np.log(s))))
                lower, upper = s**scale, s ** (1 / scale)
            lower = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, lower))
            upper = np.where(s >= 1, 1.0, np.where(s <= 0, 0.0, upper))
        else:
            lower, upper = (np.asarray(b, dtype="float64") for b in fit.simultaneous_cb(alpha=0.05))
        piece = pd.DataFrame(
            {
                "time": np.concatenate([[0.0], fit.surv_times]),
                "at_risk": np.concatenate([[len(part)], fit.n_risk]).astype("int64"),
                "events": np.concatenate([[0], fit.n_events]).astype("int64"),
                "survival": np.concatenate([[1.0], s]),
                "standard_error": np.concatenate([[0.0], se]),
                f"lower_{lv}": np.concatenate([[1.0], lower]),
                f"upper_{lv}": np.concatenate([[1.0], upper]),
            }
        )
        if len(piece) > 1 and piece["time"].iloc[1] == 0:  # events at time 0: no separate start row
            piece = piece.iloc[1:].assign(at_risk=len(part))
        if group:
            piece.insert(0, group, label)
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)


def survival_at(curves: pd.DataFrame, times: Sequence[float], *, group: str | None = None) -> pd.DataFrame:
    """Read survival (and its band) off Kaplan-Meier curves at given times.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`kaplan_meier`.
    times : sequence of float
        Times to read (e.g. ``[12, 24, 48]`` months).
    group : str, optional
        The group column of ``curves``, if grouped.

    Returns
    -------
    pandas.DataFrame
        One row per group and time: the group column, ``time`` and the
        ``survival`` and band columns of the last curve row at or before it.
    """
    value_columns = [c for c in curves.columns if c == "survival" or c.startswith(("lower_", "upper_"))]
    parts = curves.groupby(group, sort=False) if group else [(None, curves)]
    rows = []
    for label, part in parts:
        steps = part["time"].to_numpy()
        for t in times:
            i = int(np.searchsorted(steps, float(t), side="right")) - 1
            row = {group: label} if group else {}
            row["time"] = float(t)
            row.update({c: part[c].iloc[max(i, 0)] for c in value_columns})
            rows.append(row)
    return pd.DataFrame(rows)


def logrank(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str,
    weighting: str = "logrank",
) -> StatisticalResult:
    """Test that survival is the same in every group (statsmodels ``survdiff``).

    Parameters
    ----------
    frame : DataFrame
        One row per customer with ``time``, ``event`` and ``group`` columns.
    time, event, group : str
        As for :func:`kaplan_meier`.
    weighting : {"logrank", "gehan_breslow", "tarone_ware"}
        Weights of the event times (log-rank: equal).

    Returns
    -------
    StatisticalResult
        Chi-square statistic with (groups - 1) degrees of freedom and its p-value.
    """
    check_option("weighting", weighting, _WEIGHTS)
    data = survival_data(frame, time, event, group)
    k = data["group"].nunique()
    if k < 2:
        raise DataError("the log-rank test needs at least two groups", column=group)
    statistic, p_value = survdiff(
        data["time"].to_numpy(), data["event"].to_numpy(), data["group"].to_numpy(), weight_type=_WEIGHTS[weighting]
    )
    name = {"logrank": "log-rank", "gehan_breslow": "Gehan-Breslow", "tarone_ware": "Tarone-Ware"}[weighting]
    return StatisticalResult(name, float(statistic), float(p_value), float(k - 1))
