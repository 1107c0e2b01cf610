"""The studies' parameters, each declared once as a frozen dataclass checked on creation.

A declaration's fields are the notebook's papermill parameters (names, types,
defaults); the notebook's first cell builds it from its namespace, and the
runner builds it before any notebook starts, so a bad value stops a run with
nothing written. Every value must be plain data (:mod:`analysis.parameters`).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import pandas as pd

from analysis.data.contract import LATER_ROWS
from analysis.engines.select import check_engine
from analysis.errors import DataError, ParameterError, check_option
from analysis.grading.schemes import SCHEMES, VALUE_METRICS, Scheme, make_scheme
from analysis.parameters import check_types, from_namespace
from analysis.studies.sources import SYNTHETIC_B2B
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.pareto_nbd import ParetoNBDModel

__all__ = [
    "ChurnParameters",
    "GradingParameters",
    "StudyParameters",
    "ValueParameters",
    "param",
    "parameters_cell",
]


def param(default: Any, meaning: str) -> Any:
    """A declared parameter: its default and its meaning (the comment of the notebook's parameters cell)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata={"help": meaning})
    return field(default=default, metadata={"help": meaning})


#: Shared parameters written after a study's own in its parameters cell (the data ones come first).
TRAILING = ("synthetic_customers", "random_seed", "engine", "metrics_path")


@dataclass(frozen=True)
class StudyParameters:
    """What every study's parameters share: its data, the seed, the engine, where its metrics go.

    A study's declaration subclasses this one; the notebook's parameters cell
    is generated from the declaration (:func:`parameters_cell`), so names,
    types, defaults and meanings are written once, here.
    """

    data_source: str = param(
        "cdnow", 'transactions: "cdnow", "synthetic_b2b" (synthetic, labelled so) or a CSV/Parquet path'
    )
    column_map: dict = param({}, '{contract name: your column name} for a user file, e.g. {"customer_id": "Kunde"}')
    date_format: str = param("", 'strptime format of a user file\'s dates ("" means ISO 8601)')
    later_rows: str = param(
        "refuse",
        'rows dated after the analysis date (or today): "refuse" (an error naming them) '
        'or "drop" (left out and counted)',
    )
    synthetic_customers: int = param(2000, "customers of the synthetic source")
    random_seed: int = param(0, "seed of the synthetic data")
    engine: str = param(
        "duckdb", 'where the customer summaries run: "duckdb" (embedded), "spark", or an Ibis connection URL'
    )
    metrics_path: str = param("", 'write the headline metrics JSON here ("" means nowhere)')

    def __post_init__(self) -> None:
        check_types(self)
        check_option("later_rows", self.later_rows, LATER_ROWS)
        check_engine(self.engine, recorded=True)
        if self.synthetic_customers < 1:
            raise ParameterError("synthetic_customers", self.synthetic_customers, "a positive whole number")

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """Build from a notebook's namespace (its papermill parameters), which must hold every declared name.

        A name missing from the namespace means the notebook's parameters cell
        is not the declaration's (regenerate it with ``make notebooks``).
        """
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in namespace]
        if missing:
            raise ParameterError(
                missing[0], None, f"a parameter of the notebook's parameters cell, generated from {cls.__name__}"
            )
        return from_namespace(cls, namespace)

    def last_day(self) -> str | None:
        """The last day of data the study may use (``None``: all of it)."""
        return getattr(self, "as_of", None)

    def data_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`analysis.studies.sources.load_transactions`: nothing after :meth:`last_day`."""
        return {
            "source": self.data_source,
            "columns": self.column_map,
            "date_format": self.date_format,
            "seed": self.random_seed,
            "synthetic_customers": self.synthetic_customers,
            "up_to": self.last_day(),
            "later_rows": self.later_rows,
        }


def parameters_cell(declaration: type[StudyParameters]) -> str:
    """The notebook's ``parameters`` cell generated from a declaration: ``name: type = default  # meaning``.

    The shared data parameters come first, then the study's own, then the
    seed, the engine and the metrics path.
    """
    fields = dataclasses.fields(declaration)
    ordered = [f for f in fields if f.name not in TRAILING] + [f for f in fields if f.name in TRAILING]
    lines = ["# Parameters (papermill): name: type = default  # meaning"]
    for f in ordered:
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        line = f"{f.name}: {f.type} = {_literal(default)}  # {f.metadata['help']}"
        if len(line) > 120 and isinstance(default, list) and default:
            items = "".join(f"    {_literal(v)},\n" for v in default)
            line = f"{f.name}: {f.type} = [\n{items}]  # {f.metadata['help']}"
        lines.append(line)
    return "\n".join(lines)


def _literal(value: Any) -> str:
    """A plain value as Python source with double-quoted strings (as the notebooks are written)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


@dataclass(frozen=True)
class GradingParameters(StudyParameters):
    """Parameters of the grading study, checked on creation.

    Every field is a papermill parameter of the notebook with the same name,
    type and default (a test keeps them equal); each parameter's meaning is
    the comment beside it in the notebook's parameters cell, which is what
    ``analysis params grading`` and ``papermill --help-notebook`` show.
    """

    as_of: str = param("1998-06-30", "analysis date: every section uses data up to and including this day")
    value_metric: str = param("revenue", 'value to grade on: "revenue", "margin" (data with margins) or "occasions"')
    value_window_months: int = param(12, "trailing window of the value metric, in months")
    scheme: str = param("value_share_75_20_5", "scheme studied in detail (one of the compared schemes)")
    compare: list = param(list(SCHEMES), "schemes compared side by side")
    value_share_cuts: list = param([0.75, 0.95], "cumulative value shares closing A and B (75/20/5)")
    value_share_variant_cuts: list = param([0.80, 0.95], "the 80/15/5 variant")
    rank_share_cuts: list = param([0.05, 0.20], "shares of customers closing A and B (top 5% / next 15% / rest)")
    quota_shares: list = param([0.2, 0.3, 0.4, 0.1], "A/B/C/D quotas of the composite-score scheme (sum to 1)")
    score_weights: dict = param({}, "composite score weights, keys value/frequency/recency/margin ({} means equal)")
    absolute_scale: float = param(
        0.0001, "multiplies DOMAIN.md's tier thresholds (Diamond 5,000,000 ...) to the data's size"
    )
    regional_coefficient: float = param(1.0, "tier thresholds x this (0.8-0.9 for smaller regions)")
    min_tenure_months: int = param(6, "new customers get a provisional grade until this old")
    regrade_every_months: int = param(1, "regrading frequency in months (1 means monthly)")
    history_start: str = param(
        "1997-12-01",
        "first regrading month of the stability analysis; CDNOW's cohort starts in Jan 1997, "
        'so earlier windows cannot show inactivity ("" means earliest)',
    )
    validation_horizon_days: int = param(181, "backtest: grades this many days before as_of vs the value brought since")
    random_seed: int = param(0, "seed of the bootstrap intervals (and of the synthetic data)")

    def __post_init__(self) -> None:
        super().__post_init__()
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
        ):
            if getattr(self, name) < 1:
                raise ParameterError(name, getattr(self, name), "a positive whole number")
        if self.min_tenure_months < 0:
            raise ParameterError("min_tenure_months", self.min_tenure_months, "0 or more months")
        if not (self.absolute_scale > 0 and math.isfinite(self.absolute_scale)):
            raise ParameterError("absolute_scale", self.absolute_scale, "a positive number")
        self.schemes()  # validates every scheme's cut-offs

    def check_data(self, transactions: pd.DataFrame) -> None:
        """Refuse data this study cannot use with these parameters (run before any notebook starts)."""
        if self.value_metric == "margin" and "margin" not in transactions:
            raise DataError(
                "value_metric 'margin' needs a margin column, which the data lacks",
                file=transactions.attrs.get("source"),
                column="margin",
                hint="Choose value_metric 'revenue' or 'occasions', or map a margin column (column_map)",
            )

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
class ChurnParameters(StudyParameters):
    """Parameters of the churn study, checked on creation (meanings: the notebook's parameters cell)."""

    as_of: str = param("1997-09-30", "analysis date: signals use data up to this day, outcomes the days after")
    validation_as_of: str = param("1997-12-31", "later date at which the fitted model is scored (out of time)")
    data_end: str = param("", 'last day of data used, e.g. a report\'s period end ("" means all the data)')
    horizon_days: int = param(90, "churned: no purchase in this many days after the analysis date")
    horizons: list = param([30, 60, 90, 180], "horizons compared to show how churn and conclusions move with H")
    lookback_days: int = param(365, "customers studied: those who bought in this many days before the analysis date")
    window_days: int = param(90, "period compared with the previous one for frequency and value drops")
    drop_size: float = param(0.5, "a drop: this period below (1 - drop_size) times the previous one")
    gap_factor: float = param(2.0, "beyond usual gap: days since last purchase over gap_factor times the typical gap")
    capacity: int = param(500, "customers the team can contact per period (K)")
    capacities: list = param([100, 250, 500, 1000, 2000, 4000], "values of K compared")
    alerts_path: str = param("", 'export the alert list as CSV here ("" means no export)')
    pseudonymise: bool = param(
        False, "replace customer ids by keyed pseudonyms (HMAC-SHA256) in the report and the export"
    )
    pseudonym_key_file: str = param(
        "", 'file holding the secret key ("" means $ANALYSIS_PSEUDONYM_KEY); the key is never recorded'
    )
    synthetic_customers: int = param(4000, "customers of the synthetic check (and of the synthetic source)")
    random_seed: int = param(0, "seed of the synthetic data")

    def __post_init__(self) -> None:
        super().__post_init__()
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
        for name in ("horizon_days", "lookback_days", "window_days", "capacity"):
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

    def last_day(self) -> str | None:
        """Outcomes need the days after ``as_of``: the data ends at ``data_end`` (all of it when empty)."""
        return self.data_end or None

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
class ValueParameters(StudyParameters):
    """Parameters of the value study, checked on creation (meanings: the notebook's parameters cell)."""

    calibration_end: str = param(
        "1997-09-30", "models are checked on a calibration period ending here and the holdout after it"
    )
    as_of: str = param("1998-06-30", "analysis date: end of the holdout, and the date of the predictions and tiers")
    transaction_model: str = param(
        "pareto_nbd", 'model for p_alive and CLV: "pareto_nbd" or "bgnbd" (both are fitted and compared)'
    )
    clv_horizon_weeks: int = param(52, "CLV horizon, in weeks")
    annual_discount_rate: float = param(0.10, "yearly discount rate of future value (converted to weeks)")
    rfm_bins: int = param(5, "RFM score levels: 5 (quintiles), what the default segment rules are written for")
    pyramid_cuts: list = param([0.01, 0.05, 0.20], "value pyramid on CLV: top 1%, next 4%, next 15%, rest")
    absolute_scale: float = param(
        0.0001, "multiplies the domain notes' tier thresholds (Diamond 5,000,000 ...) to the data's size"
    )
    regional_coefficient: float = param(1.0, "tier thresholds times this (0.8-0.9 for smaller regions)")
    risk_cuts: list = param([0.3, 0.6], "churn probability (1 - p_alive) separating low, medium and high risk")
    random_seed: int = param(0, "seed of the simulated spend check (and of the synthetic data)")

    def __post_init__(self) -> None:
        super().__post_init__()
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

    @property
    def weekly_discount_rate(self) -> float:
        """The annual discount rate as a rate per week (the models' time unit)."""
        return (1 + self.annual_discount_rate) ** (1 / 52) - 1

    @property
    def holdout_weeks(self) -> float:
        """Length of the holdout period in weeks."""
        return (pd.Timestamp(self.as_of) - pd.Timestamp(self.calibration_end)).days / WEEK
