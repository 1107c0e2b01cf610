"""Customer-lifetime-value models: BG/NBD, Pareto/NBD and Gamma-Gamma.

Two "buy till you die" transaction models, :class:`BetaGeoModel` (BG/NBD) and
:class:`ParetoNBDModel` (Pareto/NBD), describe how many repeat purchases each
customer makes and when they silently stop buying; the spend model
:class:`GammaGammaModel` describes how much a customer spends per purchase.
:func:`customer_lifetime_value` combines one of each.
Both transaction models also give the distribution of purchase counts,
``purchase_count_probabilities`` (given each customer's history) and
``purchase_count_probabilities_population`` (a new customer), from
:mod:`analysis.value.clv.purchase_counts`.

Input columns
-------------
The columns :func:`analysis.engines.summaries.customer_summary` and
:func:`analysis.engines.summaries.calibration_holdout` produce: ``frequency`` (repeat
purchase occasions, a whole number), ``recency`` (time from the first to the
last occasion; 0 when ``frequency`` is 0), ``T`` (time from the first occasion
to the end of the calibration period), all in one time unit (days or weeks);
``monetary_value`` (mean spend of the repeat occasions) for the spend model;
``customer_id`` for :func:`customer_lifetime_value`. Every parameter with a
time dimension (``alpha``, ``beta``, horizons, discount rates) is in that unit.

Estimation
----------
- Maximum likelihood with ``scipy.optimize.minimize`` (L-BFGS-B) on the
  log-parameters, which stay within ``[1e-8, 1e8]``; the log-likelihoods are
  computed in log space (``gammaln``, ``betaln``, ``logaddexp``).
- Customers with the same history are evaluated once, with their count as a
  weight (rows grouped by one ``lexsort``, like ``numpy.unique(axis=0)`` but
  10x faster): the cost grows with the number of distinct ``(frequency,
  recency, T)`` rows, not with the number of customers. Summaries of daily
  data have far fewer distinct histories than customers (CDNOW in weeks:
  8,685 for 23,570 customers); with continuous times every history is
  distinct and grouping gains nothing. ``deduplicate=False`` evaluates every
  customer (same estimates; for checks and benchmarks).
- Standard errors come from the inverse Hessian of the negative
  log-likelihood with respect to the log-parameters (central differences of
  the analytic gradient, or of the function for the Pareto/NBD, with one
  Richardson extrapolation step), turned into natural-scale standard errors
  by the delta method (``se = estimate * se_log``). The 95% intervals are
  ``exp(log estimate +- 1.96 se_log)``, so they stay positive.

Numerics of the Pareto/NBD
--------------------------
The Pareto/NBD likelihood needs ``2F1(r+s+x, s+1; r+s+x+1; z)`` (or, when
``alpha < beta``, ``2F1(r+s+x, r+x; r+s+x+1; z)``). Euler's transformation
turns both into ``2F1(1, b; c; z)`` with ``0 <= z < 1`` and positive
parameters, a bounded function that :func:`_hyp2f1_one` evaluates by Gauss's
continued fraction, or, very close to ``z = 1`` (one of ``alpha + y``,
``beta + y`` over 1000 times the other), by the trapezoidal rule on its
integral representation. (SciPy's ``hyp2f1`` is not used: it returns ``inf``
or loses digits near ``z = 1`` when ``c - a - b`` is close to a whole number.)
Its gradient in the parameters has no closed form, so the Pareto/NBD is
optimised with central-difference gradients (slower than the BG/NBD).

Examples
--------
>>> sim = simulate_bgnbd(2000, {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}, T=40.0, seed=1)
>>> model = BetaGeoModel().fit(sim)
>>> model.convergence_.success, list(model.params_.index)
(True, ['r', 'alpha', 'a', 'b'])
>>> bool(model.probability_alive(sim)[sim["frequency"] == 0].eq(1.0).all())
True

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your
   customers" the easy way: an alternative to the Pareto/NBD model.
   *Marketing Science* 24(2), 275-284.
.. [2] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987). Counting
   your customers: who are they and what will they do next? *Management
   Science* 33(1), 1-24.
.. [3] Fader, P. S. and Hardie, B. G. S. (2005). A note on deriving the
   Pareto/NBD model and related expressions. http://brucehardie.com/notes/009/
.. [4] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). RFM and CLV:
   using iso-value curves for customer base analysis. *Journal of Marketing
   Research* 42(4), 415-430.
"""

from analysis.value.clv.base import Convergence
from analysis.value.clv.beta_geo import BetaGeoModel
from analysis.value.clv.gamma_gamma import GammaGammaModel
from analysis.value.clv.lifetime_value import customer_lifetime_value, expected_cumulative_repeat_purchases
from analysis.value.clv.pareto_nbd import ParetoNBDModel
from analysis.value.clv.simulate import simulate_bgnbd, simulate_gamma_gamma, simulate_pareto_nbd

__all__ = [
    "BetaGeoModel",
    "Convergence",
    "GammaGammaModel",
    "ParetoNBDModel",
    "customer_lifetime_value",
    "expected_cumulative_repeat_purchases",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
]
