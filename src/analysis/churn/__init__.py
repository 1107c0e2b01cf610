"""Study 2, churn signals: frames, signal strength, survival, models, validation and alert lists.

Modules: ``signals`` (the signal names), ``frames`` and ``b2b`` (churn frames), ``measures``
(the signal table), ``survival``, ``models``, ``validation``, ``design``, ``holdout``,
``classifier``, ``concordance``, ``alerts``, ``subscriptions`` and ``retention`` (the sBG
retention model of contractual churn).

Frames and measures
-------------------
Churn study, part 1: point-in-time churn frames, the signal table and survival curves.

Two settings (``DOMAIN.md`` section 2):

**Transactions** (non-contractual: CDNOW, the synthetic B2B data)
    Churn is defined operationally. At an analysis date ``as_of`` the
    population is every customer with a purchase in the lookback window
    ``(as_of - lookback_days, as_of]``; such a customer has ``churned`` if they
    make no purchase in the ``horizon_days`` after ``as_of``. Every signal is
    computed only from rows dated on or before ``as_of`` (the frames split
    the tables at ``as_of`` *before* anything is computed, and payments made
    after ``as_of`` count as not yet made), so no outcome information can leak
    into them. Outcomes come only from rows after ``as_of``.
**Subscriptions** (contractual: Telco)
    The churn flag is given and tenure is the survival time;
    :mod:`analysis.churn.subscriptions` and :mod:`analysis.churn.retention`
    fit the shifted-beta-geometric retention model to it.

One row per customer, with fixed column names, built by
:func:`transaction_churn_frame`, :func:`b2b_churn_frame` and
:func:`telco_churn_frame`; every analysis takes such a frame. Aggregation of
raw transactions is left to :mod:`analysis.engines.summaries`; the B2B flags reuse
:func:`analysis.churn.signals.b2b_signals`, so they are defined exactly as in the
generator.

The models, out-of-time validation and alert lists are in
:mod:`analysis.churn`.


Models, validation and alerts
-----------------------------
Churn study, part 2: multivariate models, out-of-time validation and alert lists.

Works on the churn frames of :mod:`analysis.churn`:

- :func:`fit_logistic` (statsmodels ``logit``) gives odds ratios with
  intervals; :func:`fit_cox` (statsmodels ``PHReg``) hazard ratios and a
  proportional-hazards check per covariate (:func:`proportional_hazards_test`,
  Grambsch and Therneau's test on scaled Schoenfeld residuals).
- :func:`validate_out_of_time` scores a model fitted at one ``as_of`` on the
  frame of a later one: AUC, Brier score, calibration and gains tables.
- :func:`validate_logistic` (``classifier``) fits a logistic model on a
  stratified hold-out split (``holdout``: split and folds in numpy), scores
  the hold-out (AUC, Brier, calibration table, slope and intercept) and
  cross-validates the fit rows; ``design`` builds its one-hot design and
  leaves out aliased columns, naming them; ``concordance`` gives Harrell's C.
- :func:`alert_list` / :func:`alerts_by_capacity`: whom a team of capacity K
  should call, ranked by expected value at risk, and what that covers;
  :func:`export_alerts_csv` writes the list safely.

"""
