"""The three studies' parameters, each declared once as a frozen dataclass checked on creation.

A declaration's fields are the notebook's papermill parameters (names, types,
defaults); the notebook's first cell builds it from its namespace, and the
runner builds it before any notebook starts, so a bad value stops a run with
nothing written. The shared fields and the declaration idiom are in
:mod:`analysis.studies.declaration`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.errors import DataError, ParameterError, check_option
from analysis.grading.schemes import SCHEMES, VALUE_METRICS, Scheme, make_scheme
from analysis.grading.score import SCORE_COMPONENTS
from analysis.studies.declaration import StudyParameters, check_counts, check_dates, param, parameters_cell
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


@dataclass(frozen=True)
class GradingParameters(StudyParameters):
    """Parameters of the grading study, checked on creation.

    Every field is a papermill parameter of the notebook with the same name,
    type and default (a test keeps them equal); each parameter's meaning is
    the comment beside it in the notebook's parameters cell, which is what
    ``analysis params grading`` and ``papermill --help-notebook`` show.
    """

    as_of: str = param(
        "", 'analysis date: every section uses data up to and including this day ("" means the last day of data)'
    )
    value_metric: str = param("revenue", 'value to grade on: "revenue", "margin" (data with margins) or "occasions"')
    value_window_months: int = param(
        0, "trailing window of the value metric, in months (0 means 12, less on a short history)"
    )
    scheme: str = param("value_share_75_20_5", "scheme studied in detail (one of the compared schemes)")
    compare: list = param(list(SCHEMES), "schemes compared side by side")
    value_share_cuts: list = param([0.75, 0.95], "cumulative value shares closing A and B (75/20/5)")
    value_share_variant_cuts: list = param([0.80, 0.95], "the 80/15/5 variant")
    rank_share_cuts: list = param([0.05, 0.20], "shares of customers closing A and B (top 5% / next 15% / rest)")
    quota_shares: list = param([0.2, 0.3, 0.4, 0.1], "A/B/C/D quotas of the composite-score scheme (sum to 1)")
    score_weights: dict = param(
        {},
        "composite score weights, keys value/frequency/margin/quantity/tenure/payment_reliability/recency "
        "({} means equal over those the data has)",
    )
    absolute_scale: float = param(
        0.0, "multiplies DOMAIN.md's yuan tier thresholds (Diamond 5,000,000 ...) (0 means from currency)"
    )
    regional_coefficient: float = param(1.0, "tier thresholds x this (0.8-0.9 for smaller regions)")
    min_tenure_months: int = param(-1, "new customers get a provisional grade until this old (-1 means from the data)")
    regrade_every_months: int = param(1, "regrading frequency in months (1 means monthly)")
    history_start: str = param(
        "",
        'first regrading month of the stability analysis ("" means the first month with a full value window, '
        "at most 12 months before as_of)",
    )
    validation_horizon_days: int = param(
        0, "backtest: grades this many days before as_of vs the value brought since (0 means from the data)"
    )
    min_late_payments: int = param(
        2, "late payments in the last 90 days that drop a customer one level of payment terms (the manuals: 2)"
    )
    over_served_factor: float = param(
        2.0, "over-served: more contacts a month than this many times the grade's policy cadence"
    )
    random_seed: int = param(0, "seed of the bootstrap intervals (and of the synthetic data)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_option("value_metric", self.value_metric, VALUE_METRICS)
        check_counts(self, ("min_late_payments",))
        if not (self.over_served_factor >= 1 and math.isfinite(self.over_served_factor)):
            raise ParameterError("over_served_factor", self.over_served_factor, "a number of at least 1")
        unknown = sorted(set(self.score_weights) - set(SCORE_COMPONENTS))
        if unknown:
            raise ParameterError("score_weights", self.score_weights, f"keys among {list(SCORE_COMPONENTS)}")
        check_option("scheme", self.scheme, SCHEMES)
        for name in self.compare:
            check_option("compare", name, SCHEMES)
        check_dates(self, "as_of", "history_start")
        if self.history_start and self.as_of and pd.Timestamp(self.history_start) > pd.Timestamp(self.as_of):
            raise ParameterError("history_start", self.history_start, f"a month on or before as_of ({self.as_of})")
        check_counts(self, ("value_window_months", "validation_horizon_days"), unset=0)
        check_counts(self, ("regrade_every_months",))
        if self.min_tenure_months < -1:
            raise ParameterError("min_tenure_months", self.min_tenure_months, "0 or more months (-1: from the data)")
        if not (self.absolute_scale >= 0 and math.isfinite(self.absolute_scale)):
            raise ParameterError("absolute_scale", self.absolute_scale, "a positive number (0: from the currency)")
        self.schemes()  # validates every scheme's cut-offs

    def check_data(self, transactions: pd.DataFrame) -> None:
        """Refuse data this study cannot use with these parameters (run before any notebook starts)."""
        _require_margin(self.value_metric, transactions, "'revenue' or 'occasions'")

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
                {"scale": self.absolute_scale or 1.0, "coefficient": self.regional_coefficient},
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

    as_of: str = param(
        "", 'analysis date: signals use data up to this day, outcomes the days after ("" means from the data)'
    )
    validation_as_of: str = param(
        "", 'later date at which the fitted model is scored, out of time ("" means the last with a known outcome)'
    )
    data_end: str = param("", 'last day of data used, e.g. a report\'s period end ("" means all the data)')
    horizon_days: int = param(
        0, "churned: no purchase in this many days after the analysis date (0 means from the data)"
    )
    horizons: list = param(
        [], "horizons compared to show how churn and conclusions move with H ([] means from the data)"
    )
    lookback_days: int = param(0, "customers studied: those who bought in this many days before the analysis date")
    window_days: int = param(
        0, "period compared with the previous one for frequency and value drops (0: from the data)"
    )
    drop_size: float = param(0.5, "a drop: this period below (1 - drop_size) times the previous one")
    gap_factor: float = param(2.0, "beyond usual gap: days since last purchase over gap_factor times the typical gap")
    capacity: int = param(0, "customers the team can contact per period, K (0 means a tenth of the active customers)")
    capacities: list = param([], "values of K compared ([] means 1% to 50% of the active customers)")
    alerts_path: str = param("", 'export the alert list as CSV here ("" means no export)')
    call_list_path: str = param(
        "", 'export the call list (whom to call now) here as .csv and .xlsx ("" means no export; a run: exports/)'
    )
    pseudonymise: bool = param(
        False, "replace customer ids by keyed pseudonyms (HMAC-SHA256) in the report and the export"
    )
    pseudonym_key_file: str = param(
        "", 'file holding the secret key ("" means $ANALYSIS_PSEUDONYM_KEY); the key is never recorded'
    )
    reference_sections: str = param(
        "auto",
        'the Telco and planted-effect sections: "auto" (only on the shipped or synthetic data), "yes" or "no"',
    )
    synthetic_customers: int = param(4000, "customers of the synthetic check (and of the synthetic source)")
    random_seed: int = param(0, "seed of the synthetic data")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_dates(self, "as_of", "validation_as_of", "data_end")
        known = self.data_end and self.validation_as_of and self.horizon_days
        if known and pd.Timestamp(self.data_end) < pd.Timestamp(self.validation_as_of) + pd.Timedelta(
            days=self.horizon_days
        ):
            raise ParameterError("data_end", self.data_end, "a date at least horizon_days after validation_as_of")
        if self.as_of and self.validation_as_of and pd.Timestamp(self.validation_as_of) <= pd.Timestamp(self.as_of):
            raise ParameterError("validation_as_of", self.validation_as_of, f"a date after as_of ({self.as_of})")
        check_counts(self, ("horizon_days", "lookback_days", "window_days", "capacity"), unset=0)
        for name in ("horizons", "capacities"):
            values = getattr(self, name)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
                raise ParameterError(name, values, "a list of positive whole numbers ([]: from the data)")
        if not 0 < self.drop_size < 1:
            raise ParameterError("drop_size", self.drop_size, "a share strictly between 0 and 1")
        if not (self.gap_factor > 0 and math.isfinite(self.gap_factor)):
            raise ParameterError("gap_factor", self.gap_factor, "a positive number")
        check_option("reference_sections", self.reference_sections, ("auto", "yes", "no"))
        if self.pseudonym_key_file and not self.pseudonymise:
            raise ParameterError("pseudonym_key_file", self.pseudonym_key_file, "'' unless pseudonymise is true")

    @property
    def with_reference(self) -> bool:
        """Whether the reference sections run (Telco subscriptions, planted effects): on shipped data, or asked."""
        if self.reference_sections == "auto":
            return self.data_source in ("cdnow", SYNTHETIC_B2B)
        return self.reference_sections == "yes"

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
        } | self.summary_options()


def _require_margin(value_metric: str, transactions: pd.DataFrame, others: str) -> None:
    """``DataError`` when ``value_metric`` is "margin" and the data has no margin (``others``: the other choices)."""
    if value_metric == "margin" and "margin" not in transactions:
        raise DataError(
            "value_metric 'margin' needs a margin column, which the data lacks",
            file=transactions.attrs.get("source"),
            column="margin",
            hint=f"Choose value_metric {others}, or map a margin column (column_map)",
        )


WEEK = 7.0


#: Value metrics of the value study: "auto" is margin when the data has one (the grading study's names).
VALUE_STUDY_METRICS = ("auto", "revenue", "margin")


#: Sources of the churn risk crossed with value.
RISK_SOURCES = ("auto", "p_alive", "churn_model")


#: Transaction models by parameter value, with their display names.
TRANSACTION_MODELS = {"bgnbd": ("BG/NBD", BetaGeoModel), "pareto_nbd": ("Pareto/NBD", ParetoNBDModel)}


@dataclass(frozen=True)
class ValueParameters(StudyParameters):
    """Parameters of the value study, checked on creation (meanings: the notebook's parameters cell)."""

    calibration_end: str = param(
        "", 'models are checked on a calibration period ending here and the holdout after it ("" means from the data)'
    )
    as_of: str = param(
        "", 'analysis date: end of the holdout, and the date of predictions and tiers ("" means the last day of data)'
    )
    transaction_model: str = param(
        "auto",
        'model for p_alive and CLV: "auto" (of the converged fits, the lower holdout RMSE, then the lower AIC), '
        '"pareto_nbd" or "bgnbd" (both are fitted and compared)',
    )
    clv_horizon_weeks: int = param(52, "CLV horizon, in weeks")
    annual_discount_rate: float = param(0.10, "yearly discount rate of future value (converted to weeks)")
    rfm_bins: int = param(5, "RFM score levels: 5 (quintiles), what the default segment rules are written for")
    pyramid_cuts: list = param([0.01, 0.05, 0.20], "value pyramid on CLV: top 1%, next 4%, next 15%, rest")
    absolute_scale: float = param(
        0.0, "multiplies the domain notes' yuan tier thresholds (Diamond 5,000,000 ...) (0 means from currency)"
    )
    regional_coefficient: float = param(1.0, "tier thresholds times this (0.8-0.9 for smaller regions)")
    risk_cuts: list = param([0.3, 0.6], "churn probability separating low, medium and high risk")
    value_metric: str = param(
        "auto",
        'value of tiers and CLV: "auto" (gross margin when the data has margins, else revenue), "revenue" or "margin"',
    )
    risk_source: str = param(
        "auto",
        'risk of value x risk: "auto" (the better out of time of the two), "p_alive" (1 - p_alive) or '
        '"churn_model" (the churn study\'s model, with the B2B signs the tables allow)',
    )
    risk_horizon_days: int = param(
        0, "risk comparison: churned means no purchase in this many days (0 means 90, less on a short history)"
    )
    random_seed: int = param(0, "seed of the simulated spend check (and of the synthetic data)")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_dates(self, "calibration_end", "as_of")
        if self.as_of and self.calibration_end and pd.Timestamp(self.as_of) <= pd.Timestamp(self.calibration_end):
            raise ParameterError("as_of", self.as_of, f"a date after calibration_end ({self.calibration_end})")
        check_option("transaction_model", self.transaction_model, ["auto", *TRANSACTION_MODELS])
        check_option("value_metric", self.value_metric, VALUE_STUDY_METRICS)
        check_option("risk_source", self.risk_source, RISK_SOURCES)
        check_counts(self, ("risk_horizon_days",), unset=0)
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
        if not (self.regional_coefficient > 0 and math.isfinite(self.regional_coefficient)):
            raise ParameterError("regional_coefficient", self.regional_coefficient, "a positive number")
        if not (self.absolute_scale >= 0 and math.isfinite(self.absolute_scale)):
            raise ParameterError("absolute_scale", self.absolute_scale, "a positive number (0: from the currency)")

    def check_data(self, transactions: pd.DataFrame) -> None:
        """Refuse data this study cannot use with these parameters (run before any notebook starts)."""
        _require_margin(self.value_metric, transactions, "'revenue' or 'auto'")

    @property
    def weekly_discount_rate(self) -> float:
        """The annual discount rate as a rate per week (the models' time unit)."""
        return (1 + self.annual_discount_rate) ** (1 / 52) - 1

    @property
    def holdout_weeks(self) -> float:
        """Length of the holdout period in weeks."""
        return (pd.Timestamp(self.as_of) - pd.Timestamp(self.calibration_end)).days / WEEK
