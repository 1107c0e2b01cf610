"""Study 3's churn risk: 1 - p_alive or the churn study's model, whichever ranks churners better out of time.

The value x risk grid needs one churn probability per customer. Two are at
hand: ``1 - p_alive`` of the purchase model (:mod:`analysis.value.clv`),
which sees only the purchase history, and the churn study's logistic model
(:mod:`analysis.studies.churn`), which also sees the B2B warning signs of the
CRM tables when the source has them (late payments, receivables,
collections, complaints, contacts). :func:`compare_risks` measures both on
the same customers and the same outcome at a common out-of-time test date,
and :func:`value_risk` puts the better one (or the one asked for) in the grid.

Dates, with H = ``risk_horizon_days`` and ``as_of`` the study's date:

- the churn model is fitted at ``as_of - 2H`` on the outcomes of
  ``(as_of - 2H, as_of - H]`` (signals up to ``as_of - 2H``);
- both measures are computed at the test date ``as_of - H`` from the data up
  to it (the purchase model refitted there), and scored against "no purchase
  in ``(as_of - H, as_of]``";
- the grid's churn-model risk comes from the same model refitted at
  ``as_of - H`` (outcomes up to ``as_of``) and scored on the signals at
  ``as_of``.

The population of the churn frames is every customer who bought before the
date (the lookback is the whole history), so that every valued customer gets
a risk, as with ``p_alive``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.churn.models import LogisticModel, fit_logistic
from analysis.churn.signals import B2B_SIGNALS
from analysis.churn.validation import Validation, validate_predictions
from analysis.engines.summaries import customer_summary
from analysis.studies.churn import study_frame, transaction_formula
from analysis.studies.declaration import StudyParameters
from analysis.studies.parameters import TRANSACTION_MODELS, ChurnParameters, ValueParameters
from analysis.studies.value_models import DropoutCheck, ModelChoice, transaction_model_key
from analysis.value.tiers import risk_bands

__all__ = ["RISK_LABELS", "RiskComparison", "compare_risks", "describe_risk_choice", "risk_settings", "value_risk"]


#: The two risk measures, in words.
RISK_LABELS = {"p_alive": "1 - p_alive (purchase model)", "churn_model": "churn model (churn study's signals)"}


@dataclass(frozen=True)
class RiskComparison:
    """Both risk measures scored out of time on the same customers and outcome, and the one chosen.

    Attributes
    ----------
    fit_date, test_date : Timestamp
        Where the churn model was fitted, and where both measures were scored.
    horizon_days : int
        Churned: no purchase in the ``horizon_days`` after the date.
    scores : DataFrame
        One row per customer scored at ``test_date``: ``customer_id``,
        ``churned`` (the outcome), ``p_alive`` (the risk ``1 - p_alive``) and
        ``churn_model`` (the model's churn probability).
    validations : dict of str to Validation
        Out-of-time AUC and Brier score of each measure (keys of :data:`RISK_LABELS`).
    chosen : str
        ``"p_alive"`` or ``"churn_model"``; ``rule`` says why.
    rule : str
        ``"higher out-of-time AUC"`` (``risk_source`` ``"auto"``), ``"given"``, or
        ``"dropout not identified"`` (the churn model, whatever ``risk_source``).
    formula : str
        The churn model's formula (its terms show the B2B signs it uses).
    left_out : int
        Customers of the test date with a measure missing (not scored).
    later : DataFrame
        The churn frame at ``test_date`` (outcomes up to ``as_of``): the grid's model is fitted on it.
    dropout_reasons : tuple of str
        Why the purchase model does not identify dropout (with ``rule`` ``"dropout not identified"``).
    """

    fit_date: pd.Timestamp
    test_date: pd.Timestamp
    horizon_days: int
    scores: pd.DataFrame = field(repr=False)
    validations: dict[str, Validation] = field(repr=False)
    chosen: str
    rule: str
    formula: str
    left_out: int
    later: pd.DataFrame = field(repr=False)
    dropout_reasons: tuple[str, ...] = ()

    @property
    def signs(self) -> list[str]:
        """The B2B warning signs among the churn model's terms."""
        terms = {t.strip() for t in self.formula.split("~", 1)[1].split("+")}
        return [sign for sign in B2B_SIGNALS if sign in terms]

    def summary(self) -> pd.DataFrame:
        """One row per measure: customers, churners, AUC and Brier score with 95% intervals, and which is used.

        Columns: ``risk_source``, ``measure``, ``customers``, ``churners``,
        ``auc`` / ``auc_lower_95`` / ``auc_upper_95``, ``brier`` /
        ``brier_lower_95`` / ``brier_upper_95``, ``brier_no_skill`` and
        ``used`` (the measure in value x risk).
        """
        rows = []
        for source, validation in self.validations.items():
            rows.append(
                {
                    "risk_source": source,
                    "measure": RISK_LABELS[source],
                    "customers": validation.n,
                    "churners": validation.churners,
                    "auc": validation.auc,
                    "auc_lower_95": validation.auc_lower,
                    "auc_upper_95": validation.auc_upper,
                    "brier": validation.brier,
                    "brier_lower_95": validation.brier_lower,
                    "brier_upper_95": validation.brier_upper,
                    "brier_no_skill": validation.brier_no_skill,
                    "used": source == self.chosen,
                }
            )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, Any]:
        """Headline numbers (JSON-ready) for the value study's metrics."""
        return {
            "risk_source": self.chosen,
            "risk_test_date": str(self.test_date.date()),
            "risk_auc": {s: round(float(v.auc), 6) for s, v in self.validations.items()},
        }


def risk_settings(params: ValueParameters, first_day: pd.Timestamp, data_end: str | pd.Timestamp) -> ChurnParameters:
    """The churn study's parameters for the value study's risk: its data, horizon H, the whole history as lookback.

    Parameters
    ----------
    params : ValueParameters
        Dated parameters (``as_of``, ``risk_horizon_days``).
    first_day : Timestamp
        The data's first day (the lookback reaches it, so every customer is in the frames).
    data_end : date
        The last day the frame's outcomes may use.
    """
    shared = {f.name: getattr(params, f.name) for f in dataclasses.fields(StudyParameters)}
    lookback = (pd.Timestamp(params.as_of) - pd.Timestamp(first_day).normalize()).days + 1
    return ChurnParameters(
        **shared
        | {
            "metrics_path": "",
            "customers_path": "",
            "horizon_days": params.risk_horizon_days,
            "lookback_days": lookback,
            "window_days": max(7, min(90, params.risk_horizon_days)),
            "data_end": str(pd.Timestamp(data_end).date()),
        }
    )


def compare_risks(
    tables: Mapping[str, pd.DataFrame],
    params: ValueParameters,
    *,
    choice: ModelChoice | None = None,
    dropout: DropoutCheck | None = None,
) -> RiskComparison:
    """Score ``1 - p_alive`` and the churn model at ``as_of - H`` on "no purchase in the next H days".

    Nothing after a date enters what is known at it: the churn model is
    fitted on the frame at ``as_of - 2H`` whose outcomes end at ``as_of - H``;
    at the test date ``as_of - H`` the churn frame's signals and the purchase
    model (refitted on the summary at that date) use rows up to it only; the
    outcome is the frame's ``churned`` over ``(as_of - H, as_of]``.

    Parameters
    ----------
    tables : mapping
        The study's tables (``transactions``; ``customers``, ``invoices``,
        ``complaints``, ``contacts`` where present: the churn model's B2B signs).
    params : ValueParameters
        Dated parameters (:func:`analysis.studies.dates.choose_from_data`).
    choice : ModelChoice, optional
        The purchase model (:func:`analysis.studies.value_models.choose_transaction_model`;
        needed when ``transaction_model`` is ``"auto"``).
    dropout : DropoutCheck, optional
        :func:`analysis.studies.value_models.dropout_check` of the purchase model at
        ``as_of``: when dropout is not identified the churn model is used, whatever ``risk_source``;
        its model is the one refitted at the test date.

    Returns
    -------
    RiskComparison
    """
    transactions = tables["transactions"]
    as_of, horizon = pd.Timestamp(params.as_of), params.risk_horizon_days
    test = as_of - pd.Timedelta(days=horizon)
    fit = test - pd.Timedelta(days=horizon)
    first = transactions["date"].min()
    earlier = study_frame(tables, risk_settings(params, first, test), fit)
    formula = transaction_formula(earlier)
    model = fit_logistic(earlier, formula)
    later = study_frame(tables, risk_settings(params, first, as_of), test)
    summary = customer_summary(transactions, test, time_unit="weeks", **params.summary_options())
    key = dropout.key if dropout is not None else transaction_model_key(params, choice)
    _, purchase_model = TRANSACTION_MODELS[key]
    alive = purchase_model().fit(summary).probability_alive(summary)
    risk = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy(), "p_alive": 1 - alive.to_numpy()})
    scored = later[["customer_id", "churned"]].assign(churn_model=model.predict(later).to_numpy())
    scored = scored.merge(risk, on="customer_id", how="left")[["customer_id", "churned", "p_alive", "churn_model"]]
    complete = scored.dropna(subset=["p_alive", "churn_model"]).reset_index(drop=True)
    validations = {s: validate_predictions(complete["churned"], complete[s]) for s in RISK_LABELS}
    if dropout is not None and not dropout.identified:
        chosen, rule = "churn_model", "dropout not identified"
    elif params.risk_source == "auto":
        better = validations["churn_model"].auc > validations["p_alive"].auc
        chosen, rule = ("churn_model" if better else "p_alive"), "higher out-of-time AUC"
    else:
        chosen, rule = params.risk_source, "given"
    return RiskComparison(
        fit_date=fit,
        test_date=test,
        horizon_days=horizon,
        scores=complete,
        validations=validations,
        chosen=chosen,
        rule=rule,
        formula=formula,
        left_out=len(scored) - len(complete),
        later=later,
        dropout_reasons=() if dropout is None else dropout.reasons,
    )


def value_risk(
    values: pd.DataFrame, comparison: RiskComparison, tables: Mapping[str, pd.DataFrame], params: ValueParameters
) -> pd.DataFrame:
    """``values`` (:func:`analysis.studies.value.customer_values`) with the chosen risk (a new frame).

    With ``comparison.chosen`` ``"churn_model"``, the churn model refitted at
    the test date (outcomes up to ``as_of``) is scored on the signals at
    ``as_of``: ``churn_probability`` is its prediction and ``risk`` its band;
    a customer it cannot score (a missing signal, or a churn already recorded
    in the customers table) keeps ``1 - p_alive``. ``risk_source`` names the
    measure of each row.
    """
    if comparison.chosen == "p_alive":
        return values.assign(risk_source="p_alive")
    later = comparison.later
    model: LogisticModel = fit_logistic(later, transaction_formula(later))
    first = tables["transactions"]["date"].min()
    now = study_frame(tables, risk_settings(params, first, params.as_of), params.as_of, outcomes=False)
    predicted = pd.Series(model.predict(now).to_numpy(), index=now["customer_id"].to_numpy())
    probability = values["customer_id"].map(predicted)
    scored = probability.notna()
    churn = probability.where(scored, values["churn_probability"])
    return values.assign(
        churn_probability=churn.to_numpy(),
        risk=risk_bands(churn, cuts=params.risk_cuts).to_numpy(),
        risk_source=["churn_model" if s else "p_alive" for s in scored],
    )


def describe_risk_choice(comparison: RiskComparison, values: pd.DataFrame | None = None) -> str:
    """One sentence: which risk value x risk uses and why, with both out-of-time AUCs and their intervals."""
    v = comparison.validations

    def auc(source: str) -> str:
        return f"AUC {v[source].auc:.2f} ({v[source].auc_lower:.2f}-{v[source].auc_upper:.2f})"

    signs = comparison.signs
    listed = f"with the B2B signs {', '.join(signs)}" if signs else "transaction signals only: no CRM tables"
    model = f"the churn model ({listed})"
    names = {"p_alive": "1 - p_alive", "churn_model": model}
    other = "p_alive" if comparison.chosen == "churn_model" else "churn_model"
    why = {
        "given": "as risk_source asks",
        "dropout not identified": "because the purchase model cannot estimate dropout on these data ("
        + "; ".join(comparison.dropout_reasons)
        + "), so 1 - p_alive is no risk measure here",
    }.get(comparison.rule, "because it ranks churners better out of time")
    sentence = (
        f"Value x risk uses {names[comparison.chosen]} as the churn risk, {why}: scored at "
        f"{comparison.test_date.date()} on the {v['p_alive'].n:,} customers who had bought by then, against no "
        f"purchase in the next {comparison.horizon_days} days ({v['p_alive'].churn_rate:.0%} of them), it has "
        f"{auc(comparison.chosen)} and {names[other]} {auc(other)} (the churn model fitted at "
        f"{comparison.fit_date.date()}, the purchase model refitted at {comparison.test_date.date()})."
    )
    if v[other].auc_lower <= v[comparison.chosen].auc_upper and v[comparison.chosen].auc_lower <= v[other].auc_upper:
        sentence += " The intervals overlap: on these data the two rank customers about equally well."
    if values is not None and "risk_source" in values and comparison.chosen == "churn_model":
        kept = int((values["risk_source"] == "p_alive").sum())
        if kept:
            sentence += f" {kept:,} customers the model cannot score keep 1 - p_alive."
    return sentence
