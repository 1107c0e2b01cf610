"""The studies' parameters, each declared once as a frozen dataclass checked on creation.

A declaration's fields are the notebook's papermill parameters (names, types,
defaults); the notebook's first cell builds it from its namespace, and the
runner builds it before any notebook starts, so a bad value stops a run with
nothing written. Every value must be plain data (:mod:`analysis.parameters`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.data.contract import LATER_ROWS
from analysis.engines.select import check_engine
from analysis.errors import DataError, ParameterError, check_option
from analysis.grading.schemes import SCHEMES, VALUE_METRICS, Scheme, make_scheme
from analysis.parameters import check_types, from_namespace
from analysis.studies.sources import SYNTHETIC_B2B
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel

__all__ = ["ChurnParameters", "GradingParameters", "ValueParameters"]


@dataclass(frozen=True)
class GradingParameters:
    """Parameters of the grading study, checked on creation.

    Every field is a papermill parameter of the notebook with the same name,
    type and default (a test keeps them equal); each parameter's meaning is
    the comment beside it in the notebook's parameters cell, which is what
    ``analysis params grading`` and ``papermill --help-notebook`` show.
    """

    data_source: str = "cdnow"
    column_map: dict = field(default_factory=dict)
    date_format: str = ""
    later_rows: str = "refuse"
    as_of: str = "1998-06-30"
    value_metric: str = "revenue"
    value_window_months: int = 12
    scheme: str = "value_share_75_20_5"
    compare: list = field(default_factory=lambda: list(SCHEMES))
    value_share_cuts: list = field(default_factory=lambda: [0.75, 0.95])
    value_share_variant_cuts: list = field(default_factory=lambda: [0.80, 0.95])
    rank_share_cuts: list = field(default_factory=lambda: [0.05, 0.20])
    quota_shares: list = field(default_factory=lambda: [0.2, 0.3, 0.4, 0.1])
    score_weights: dict = field(default_factory=dict)
    absolute_scale: float = 0.0001
    regional_coefficient: float = 1.0
    min_tenure_months: int = 6
    regrade_every_months: int = 1
    history_start: str = "1997-12-01"
    validation_horizon_days: int = 181
    random_seed: int = 0
    synthetic_customers: int = 2000
    engine: str = "duckdb"
    metrics_path: str = ""

    def __post_init__(self) -> None:
        check_types(self)
        check_option("later_rows", self.later_rows, LATER_ROWS)
        check_engine(self.engine, recorded=True)
        check_option("value_metric", self.value_metric, VALUE_METRICS)
        check_option("scheme", self.scheme, SCHEMES)
        for name in self.compare:
            check_option("compare", name, SCHEMES)
        for name in ("as_of", "history_start"):
            value = getattr(self, name)
            if name == "history_start" and not value:
                continue
            try:
                pd.Timestamp(value)
            except ValueError as exc:
                raise ParameterError(name, value, "a date such as '1997-12-31'") from exc
        if self.history_start and pd.Timestamp(self.history_start) > pd.Timestamp(self.as_of):
            raise ParameterError("history_start", self.history_start, f"a month on or before as_of ({self.as_of})")
        for name in (
            "value_window_months",
            "regrade_every_months",
            "validation_horizon_days",
            "synthetic_customers",
        ):
            if getattr(self, name) < 1:
                raise ParameterError(name, getattr(self, name), "a positive whole number")
        if self.min_tenure_months < 0:
            raise ParameterError("min_tenure_months", self.min_tenure_months, "0 or more months")
        if not (self.absolute_scale > 0 and math.isfinite(self.absolute_scale)):
            raise ParameterError("absolute_scale", self.absolute_scale, "a positive number")
        self.schemes()  # validates every scheme's cut-offs

    def data_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.studies.sources.load_transactions`: nothing after ``as_of`` enters."""
        return {
            "source": self.data_source,
            "columns": self.column_map,
            "date_format": self.date_format,
            "seed": self.random_seed,
            "synthetic_customers": self.synthetic_customers,
            "up_to": self.as_of,
            "later_rows": self.later_rows,
        }

    def check_data(self, transactions: pd.DataFrame) -> None:
        """Refuse data this study cannot use with these parameters (run before any notebook starts)."""
        if self.value_metric == "margin" and "margin" not in transactions:
            raise DataError(
                "value_metric 'margin' needs a margin column, which the data lacks",
                file=transactions.attrs.get("source"),
                column="margin",
                hint="Choose value_metric 'revenue' or 'occasions', or map a margin column (column_map)",
            )

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> GradingParameters:
        """Build from a notebook's namespace (its papermill parameters)."""
        return from_namespace(cls, namespace)

    def schemes(self) -> dict[str, Scheme]:
        """The schemes of the study, with this run's cut-offs."""
        changes = {
            "value_share_75_20_5": ("value_share_cuts", {"cuts": tuple(self.value_share_cuts)}),
            "value_share_80_15_5": (
                "value_share_variant_cuts",
                {"cuts": tuple(self.value_share_variant_cuts)},
            ),
            "rank_share_5_15_80": ("rank_share_cuts", {"cuts": tuple(self.rank_share_cuts)}),
            "quota_20_30_40_10": ("quota_shares", {"cuts": tuple(self.quota_shares)}),
            "absolute_tiers": (
                "regional_coefficient",
                {"scale": self.absolute_scale, "coefficient": self.regional_coefficient},
            ),
        }
        schemes = {}
        for name in SCHEMES:
            parameter, change = changes.get(name, ("", {}))
            try:
                schemes[name] = make_scheme(name, **change)
            except ParameterError as exc:
                raise ParameterError(parameter, getattr(self, parameter), exc.expected) from exc
        return schemes

    @property
    def value_column(self) -> str:
        """Summary column of the value metric."""
        return VALUE_METRICS[self.value_metric]

    @property
    def window_days(self) -> int:
        """The value window in days, ending on ``as_of``."""
        end = pd.Timestamp(self.as_of)
        return int((end - (end - pd.DateOffset(months=self.value_window_months))).days)

    @property
    def min_tenure_days(self) -> int:
        """The minimum tenure in days before ``as_of``."""
        end = pd.Timestamp(self.as_of)
        return int((end - (end - pd.DateOffset(months=self.min_tenure_months))).days)

    @property
    def validation_date(self) -> pd.Timestamp:
        """Date of the backtest grades: ``validation_horizon_days`` before ``as_of``.

        Predictive validity compares the grades at this date with the value
        customers brought from it to ``as_of``, so it needs no data after
        ``as_of`` and a periodic report can run it at the period end.
        """
        return pd.Timestamp(self.as_of) - pd.Timedelta(days=self.validation_horizon_days)

    def at(self, date: str | pd.Timestamp) -> GradingParameters:
        """The same parameters with another ``as_of`` (e.g. the backtest date)."""
        return dataclasses.replace(self, as_of=str(pd.Timestamp(date).date()))

    @property
    def is_synthetic(self) -> bool:
        """Whether the data are the synthetic B2B base."""
        return self.data_source == SYNTHETIC_B2B


@dataclass(frozen=True)
class ChurnParameters:
    """Parameters of the churn study, checked on creation (meanings: the notebook's parameters cell)."""

    data_source: str = "cdnow"
    column_map: dict = field(default_factory=dict)
    date_format: str = ""
    later_rows: str = "refuse"
    as_of: str = "1997-09-30"
    validation_as_of: str = "1997-12-31"
    data_end: str = ""
    horizon_days: int = 90
    horizons: list = field(default_factory=lambda: [30, 60, 90, 180])
    lookback_days: int = 365
    window_days: int = 90
    drop_size: float = 0.5
    gap_factor: float = 2.0
    capacity: int = 500
    capacities: list = field(default_factory=lambda: [100, 250, 500, 1000, 2000, 4000])
    alerts_path: str = ""
    pseudonymise: bool = False
    pseudonym_key_file: str = ""
    synthetic_customers: int = 4000
    random_seed: int = 0
    engine: str = "duckdb"
    metrics_path: str = ""

    def __post_init__(self) -> None:
        check_types(self)
        check_option("later_rows", self.later_rows, LATER_ROWS)
        check_engine(self.engine, recorded=True)
        for name in ("as_of", "validation_as_of"):
            try:
                pd.Timestamp(getattr(self, name))
            except ValueError as exc:
                raise ParameterError(name, getattr(self, name), "a date such as '1997-09-30'") from exc
        if self.data_end:
            try:
                end = pd.Timestamp(self.data_end)
            except ValueError as exc:
                raise ParameterError("data_end", self.data_end, "a date such as '1998-06-30'") from exc
            if end < pd.Timestamp(self.validation_as_of) + pd.Timedelta(days=self.horizon_days):
                raise ParameterError("data_end", self.data_end, "a date at least horizon_days after validation_as_of")
        if pd.Timestamp(self.validation_as_of) <= pd.Timestamp(self.as_of):
            raise ParameterError("validation_as_of", self.validation_as_of, f"a date after as_of ({self.as_of})")
        for name in ("horizon_days", "lookback_days", "window_days", "capacity", "synthetic_customers"):
            if getattr(self, name) < 1:
                raise ParameterError(name, getattr(self, name), "a positive whole number")
        for name in ("horizons", "capacities"):
            values = getattr(self, name)
            if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
                raise ParameterError(name, values, "a non-empty list of positive whole numbers")
        if not 0 < self.drop_size < 1:
            raise ParameterError("drop_size", self.drop_size, "a share strictly between 0 and 1")
        if not (self.gap_factor > 0 and math.isfinite(self.gap_factor)):
            raise ParameterError("gap_factor", self.gap_factor, "a positive number")
        if self.pseudonym_key_file and not self.pseudonymise:
            raise ParameterError("pseudonym_key_file", self.pseudonym_key_file, "'' unless pseudonymise is true")

    def data_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.studies.sources.load_transactions`: outcomes end at ``data_end``."""
        return {
            "source": self.data_source,
            "columns": self.column_map,
            "date_format": self.date_format,
            "seed": self.random_seed,
            "synthetic_customers": self.synthetic_customers,
            "up_to": self.data_end or None,
            "later_rows": self.later_rows,
        }

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> ChurnParameters:
        """Build from a notebook's namespace (its papermill parameters)."""
        return from_namespace(cls, namespace)

    def frame_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.churn.frames.transaction_churn_frame` (but the date)."""
        return {
            "horizon_days": self.horizon_days,
            "lookback_days": self.lookback_days,
            "window_days": self.window_days,
            "drop_size": self.drop_size,
            "gap_factor": self.gap_factor,
            "data_end": self.data_end or None,
            "engine": self.engine,
        }


WEEK = 7.0


#: Transaction models by parameter value, with their display names.
TRANSACTION_MODELS = {"bgnbd": ("BG/NBD", BetaGeoModel), "pareto_nbd": ("Pareto/NBD", ParetoNBDModel)}


@dataclass(frozen=True)
class ValueParameters:
    """Parameters of the value study, checked on creation (meanings: the notebook's parameters cell)."""

    data_source: str = "cdnow"
    column_map: dict = field(default_factory=dict)
    date_format: str = ""
    later_rows: str = "refuse"
    calibration_end: str = "1997-09-30"
    as_of: str = "1998-06-30"
    transaction_model: str = "pareto_nbd"
    clv_horizon_weeks: int = 52
    annual_discount_rate: float = 0.10
    rfm_bins: int = 5
    pyramid_cuts: list = field(default_factory=lambda: [0.01, 0.05, 0.20])
    absolute_scale: float = 0.0001
    regional_coefficient: float = 1.0
    risk_cuts: list = field(default_factory=lambda: [0.3, 0.6])
    synthetic_customers: int = 2000
    random_seed: int = 0
    engine: str = "duckdb"
    metrics_path: str = ""

    def __post_init__(self) -> None:
        check_types(self)
        check_option("later_rows", self.later_rows, LATER_ROWS)
        check_engine(self.engine, recorded=True)
        for name in ("calibration_end", "as_of"):
            try:
                pd.Timestamp(getattr(self, name))
            except ValueError as exc:
                raise ParameterError(name, getattr(self, name), "a date such as '1997-09-30'") from exc
        if pd.Timestamp(self.as_of) <= pd.Timestamp(self.calibration_end):
            raise ParameterError("as_of", self.as_of, f"a date after calibration_end ({self.calibration_end})")
        check_option("transaction_model", self.transaction_model, TRANSACTION_MODELS)
        if self.clv_horizon_weeks < 1:
            raise ParameterError("clv_horizon_weeks", self.clv_horizon_weeks, "a positive whole number of weeks")
        if not (0 <= self.annual_discount_rate < 1):
            raise ParameterError("annual_discount_rate", self.annual_discount_rate, "a rate in [0, 1)")
        if self.rfm_bins != 5:
            raise ParameterError(
                "rfm_bins", self.rfm_bins, "5: the default segment rules are written for scores 1-5 (quintiles)"
            )
        cuts = list(self.pyramid_cuts)
        if not cuts or not all(0 < c < 1 for c in cuts) or any(b <= a for a, b in itertools.pairwise(cuts)):
            raise ParameterError("pyramid_cuts", cuts, "strictly increasing shares of customers inside (0, 1)")
        risk = list(self.risk_cuts)
        if len(risk) != 2 or not all(0 < c < 1 for c in risk) or risk[1] <= risk[0]:
            raise ParameterError("risk_cuts", risk, "two increasing churn probabilities inside (0, 1)")
        for name in ("absolute_scale", "regional_coefficient"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ParameterError(name, value, "a positive number")

    def data_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.studies.sources.load_transactions`: nothing after ``as_of`` enters."""
        return {
            "source": self.data_source,
            "columns": self.column_map,
            "date_format": self.date_format,
            "seed": self.random_seed,
            "synthetic_customers": self.synthetic_customers,
            "up_to": self.as_of,
            "later_rows": self.later_rows,
        }

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> ValueParameters:
        """Build from a notebook's namespace (its papermill parameters)."""
        return from_namespace(cls, namespace)

    @property
    def weekly_discount_rate(self) -> float:
        """The annual discount rate as a rate per week (the models' time unit)."""
        return (1 + self.annual_discount_rate) ** (1 / 52) - 1

    @property
    def holdout_weeks(self) -> float:
        """Length of the holdout period in weeks."""
        return (pd.Timestamp(self.as_of) - pd.Timestamp(self.calibration_end)).days / WEEK
