"""Study 3's purchase model: which one the numbers choose, and whether its dropout is identified.

Both transaction models (BG/NBD, Pareto/NBD) are fitted on the calibration
period and compared on the holdout (:func:`analysis.studies.value.model_comparison`).
:func:`choose_transaction_model` takes the one CLV and ``p_alive`` come from:

- with ``transaction_model`` ``"auto"``, among the *converged* fits (the four
  checks of :class:`analysis.value.clv.Convergence`), the lower holdout error:
  the root mean squared error per customer of the predicted holdout
  purchases (squared error, because the models predict a mean; the mean
  absolute error rewards under-prediction of skewed counts: on bases
  simulated from BG/NBD it picked Pareto/NBD 35 times in 40); when the two
  errors are within :data:`HOLDOUT_TIE` (relative) of each other, the lower AIC. If no fit
  converged, the same rule over all of them, and the choice says so;
- otherwise the model asked for.

:func:`dropout_check` says whether the chosen model, refitted at ``as_of``,
identifies the dropout process at all: on data where nobody is seen to stop
buying, its dropout parameters go to a bound, their intervals are unbounded
and ``p_alive`` is about the same for everybody; ``1 - p_alive`` is then no
risk measure, and the value study takes risk from the churn model
(:func:`analysis.studies.value_risk.compare_risks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.studies.parameters import TRANSACTION_MODELS, ValueParameters
from analysis.value.clv.estimation import TransactionModel

__all__ = [
    "DROPOUT_PARAMETERS",
    "HOLDOUT_TIE",
    "INTERVAL_SPAN",
    "P_ALIVE_SPREAD",
    "DropoutCheck",
    "ModelChoice",
    "choose_transaction_model",
    "describe_dropout",
    "describe_model_choice",
    "dropout_check",
    "transaction_model_key",
]


#: Relative difference of holdout RMSEs under which AIC decides.
HOLDOUT_TIE = 0.01


#: A dropout parameter's 95% interval is "unbounded" when upper / lower exceeds this (or is NaN / infinite).
INTERVAL_SPAN = 1e4


#: ``p_alive`` has "no spread" when its 10%-90% quantile range is below this.
P_ALIVE_SPREAD = 0.05


#: The dropout parameters of each model (display name -> parameters).
DROPOUT_PARAMETERS = {"BG/NBD": ("a", "b"), "Pareto/NBD": ("s", "beta")}


_KEYS = {name: key for key, (name, _) in TRANSACTION_MODELS.items()}


@dataclass(frozen=True)
class ModelChoice:
    """The transaction model CLV and ``p_alive`` come from, and why.

    Attributes
    ----------
    model : str
        Parameter value (``"bgnbd"`` or ``"pareto_nbd"``).
    name : str
        Display name (``"BG/NBD"`` or ``"Pareto/NBD"``).
    rule : str
        ``"lower holdout error"``, ``"lower AIC (holdout errors within 1%)"``, ``"only converged fit"`` or ``"given"``.
    converged : tuple of str
        Display names of the fits that converged.
    comparison : DataFrame
        :func:`analysis.studies.value.model_comparison`, with ``chosen``.
    """

    model: str
    name: str
    rule: str
    converged: tuple[str, ...]
    comparison: pd.DataFrame = field(repr=False)


def choose_transaction_model(comparison: pd.DataFrame, params: ValueParameters) -> ModelChoice:
    """The model of ``params.transaction_model``, or (``"auto"``) the one the holdout and AIC choose.

    Parameters
    ----------
    comparison : DataFrame
        :func:`analysis.studies.value.model_comparison`: ``model``, ``aic``,
        ``converged``, ``rmse``.
    params : ValueParameters

    Returns
    -------
    ModelChoice
    """
    converged = tuple(comparison.loc[comparison["converged"], "model"])
    if params.transaction_model != "auto":
        name, rule = TRANSACTION_MODELS[params.transaction_model][0], "given"
    else:
        pool = comparison[comparison["converged"]] if converged else comparison
        if len(pool) == 1:
            name, rule = pool["model"].iloc[0], "only converged fit"
        else:
            error = pool["rmse"]
            close = (error - error.min()) <= HOLDOUT_TIE * error.min()
            if close.sum() > 1:
                tied = pool[close]
                name, rule = tied.loc[tied["aic"].idxmin(), "model"], "lower AIC (holdout errors within 1%)"
            else:
                name, rule = pool.loc[error.idxmin(), "model"], "lower holdout error"
    table = comparison.assign(chosen=comparison["model"] == name)
    return ModelChoice(_KEYS[name], name, rule, converged, table)


def transaction_model_key(params: ValueParameters, choice: ModelChoice | None) -> str:
    """The transaction model to use: the choice, else ``params.transaction_model`` when it names one."""
    if choice is not None:
        return choice.model
    if params.transaction_model == "auto":
        raise ParameterError(
            "choice", None, 'the ModelChoice of choose_transaction_model (transaction_model is "auto")'
        )
    return params.transaction_model


def describe_model_choice(choice: ModelChoice) -> str:
    """One sentence: which model CLV and ``p_alive`` come from, by which rule, with the figures."""
    table = choice.comparison.set_index("model")
    row = table.loc[choice.name]
    others = table.drop(index=choice.name)

    def figures(name: str, r: pd.Series) -> str:
        state = "converged" if r["converged"] else f"not converged ({r['failed_checks']})"
        return f"{name}: holdout RMSE {r['rmse']:.3f} purchases per customer, AIC {r['aic']:,.0f}, {state}"

    listed = "; ".join([figures(choice.name, row)] + [figures(n, r) for n, r in others.iterrows()])
    if choice.rule == "given":
        why = "as transaction_model asks"
    elif not choice.converged:
        why = "by the lower holdout error, then AIC, although no fit converged: treat CLV and p_alive with caution"
    elif choice.rule == "only converged fit":
        why = "because it is the only fit that converged"
    elif choice.rule == "lower holdout error":
        why = "because, of the converged fits, it has the lower holdout error (RMSE)"
    else:
        why = "because the converged fits' holdout errors (RMSE) are within 1% of each other and it has the lower AIC"
    sentence = f"CLV and p_alive come from {choice.name}, {why} ({listed})."
    if choice.rule == "given" and not row["converged"]:
        sentence += f" {choice.name} did not converge: treat CLV and p_alive with caution."
    return sentence


@dataclass(frozen=True)
class DropoutCheck:
    """Whether a fitted transaction model identifies the dropout process.

    Attributes
    ----------
    model : str
        Display name of the model.
    identified : bool
        No check below failed.
    reasons : tuple of str
        The failed checks, in words: dropout parameters at a bound, their 95%
        intervals unbounded, ``p_alive`` without spread.
    p_alive_spread : float
        10%-90% quantile range of ``p_alive``.
    replaced : str
        Why the chosen model was replaced at ``as_of`` ("" when it was not).
    """

    model: str
    identified: bool
    reasons: tuple[str, ...]
    p_alive_spread: float
    replaced: str = ""

    @property
    def key(self) -> str:
        """Parameter value of the model (``"bgnbd"`` or ``"pareto_nbd"``)."""
        return _KEYS[self.model]


def dropout_check(model: TransactionModel, p_alive: pd.Series, choice: ModelChoice | None = None) -> DropoutCheck:
    """Check that ``model`` estimates dropout: parameters, intervals, spread of ``p_alive``.

    Parameters
    ----------
    model : TransactionModel
        Fitted at ``as_of`` (:func:`analysis.studies.value.fit_value_models`).
    p_alive : Series
        Its ``p_alive`` for the valued customers.
    choice : ModelChoice, optional
        The calibration's choice: when ``model`` is the other one, ``replaced`` says why.

    Returns
    -------
    DropoutCheck
        Not identified if a dropout parameter (:data:`DROPOUT_PARAMETERS`) or
        the dropout rate is at a bound, a dropout parameter's 95% interval is
        unbounded (upper / lower over :data:`INTERVAL_SPAN`, or not finite), or
        ``p_alive``'s 10%-90% range is under :data:`P_ALIVE_SPREAD`.
    """
    name = next(n for _, (n, cls) in TRANSACTION_MODELS.items() if isinstance(model, cls))
    replaced = ""
    if choice is not None and choice.name != name:
        replaced = f"{choice.name}, refitted on the data up to as_of, did not converge; {name} did and is used"
    names = DROPOUT_PARAMETERS[name]
    reasons = []
    convergence = model.convergence_
    at_bound = () if convergence is None else convergence.at_bound
    bound = [b for b in at_bound if b in names or b.startswith("dropout")]
    if bound:
        reasons.append("dropout parameters at a bound (" + ", ".join(b.split(" (")[0] for b in bound) + ")")
    ci = model.confidence_intervals_.loc[list(names)]
    with np.errstate(divide="ignore", invalid="ignore"):
        span = (ci["upper_95"] / ci["lower_95"]).to_numpy()
    wide = [n for n, v in zip(names, span, strict=True) if not (np.isfinite(v) and v <= INTERVAL_SPAN)]
    if wide:
        reasons.append(f"95% interval of {', '.join(wide)} unbounded")
    values = p_alive.dropna()
    spread = float(values.quantile(0.9) - values.quantile(0.1)) if len(values) else 0.0
    if spread < P_ALIVE_SPREAD:
        reasons.append(f"p_alive without spread (10%-90% range {spread:.3f}, median {values.median():.3f})")
    return DropoutCheck(name, not reasons, tuple(reasons), spread, replaced)


def describe_dropout(check: DropoutCheck) -> str:
    """One sentence: whether ``p_alive`` measures anything here (and, first, a model replaced at ``as_of``)."""
    first = f"{check.replaced[0].upper()}{check.replaced[1:]}. " if check.replaced else ""
    return first + _dropout_sentence(check)


def _dropout_sentence(check: DropoutCheck) -> str:
    if check.identified:
        return (
            f"{check.model} estimates dropout on these data (p_alive ranges over {check.p_alive_spread:.2f} between "
            "its 10% and 90% quantiles): 1 - p_alive can serve as a churn risk."
        )
    return (
        f"{check.model} cannot estimate dropout on these data ({'; '.join(check.reasons)}): nobody is seen to stop "
        "buying, so p_alive is no risk measure here and value x risk takes its risk from the churn model."
    )
