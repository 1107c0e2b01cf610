"""SYNTHETIC B2B customer base with known, planted churn effects.

Everything this module returns is **synthetic**: made-up customers generated
by a documented random model. It exists because the shipped datasets lack the
churn warning signs of ``DOMAIN.md`` section 2 (payments, complaints, contacts)
and their true effects are unknown. Here they are known, so a churn study can
be checked against the truth: run the study on :func:`generate_b2b`'s tables
and compare its estimates with :attr:`B2BData.true_effects`.

The generator is deterministic: one ``numpy.random.default_rng(seed)``, split
with ``spawn`` into three independent streams (the world up to ``as_of``, the
churn draw, the world after ``as_of``). No global random state is used. The
world up to ``as_of`` depends only on ``seed``, ``n_customers``,
``history_start`` and ``as_of``, so changing the churn model, its effects or
the horizon never changes the past.

Time runs in whole days; ``as_of`` is day 0. All tables follow the data
contract (:data:`analysis.data.contract.CONTRACT`) with the types
:func:`analysis.data.readers.read_table` returns.

Customers and purchases up to ``as_of``
---------------------------------------
- Region North/South/East/West with probabilities 0.30/0.25/0.25/0.20 and a
  main sales channel field/phone/web (0.40/0.35/0.25); each order goes through
  the main channel with probability 0.8, else through a channel drawn
  uniformly from the three.
- A latent "strain" ``z ~ N(0, 1)`` per customer makes the problems below go
  together (a customer under strain is more often a dropper, a late payer, a
  complainer and neglected), so that signals are correlated as in real life
  and a one-signal-at-a-time analysis is (mildly) confounded. The strain acts
  on churn only through the observed signals. Region is independent of
  everything.
- Acquisition (the first purchase) on a day uniform in
  ``[history_start, as_of - 180 days]``.
- Orders after the first: a Poisson process with a customer rate
  ``Gamma(shape 2, mean 1.5 orders a month)``. A "dropper" (probability
  ``expit(logit 0.25 + z)``, about 29%) buys at 0.3 times that rate in the
  last 90 days before ``as_of`` and after it. A customer whose process leaves
  no purchase in the 180 days up to ``as_of`` gets one on a day uniform in
  them, so every customer is active.
- Amount lognormal: ``exp(m + 0.5 N(0, 1))`` with customer level
  ``m ~ N(log 400, 0.8)``, rounded to cents; margin = amount x customer
  margin rate ``Beta(5, 15)`` (mean 0.25); quantity
  ``1 + Poisson(amount / unit price)`` with a customer unit price
  ``exp(N(log 60, 0.5))``.
- Invoices: one per order, dated the order day, amount = order amount, due
  30 days later. A "late payer" (probability ``expit(logit 0.3 + z)``, about
  33%) pays an invoice late with probability 0.6, others with probability
  0.05. A late invoice is paid ``1 + Geometric(1/15)`` days after the due
  date, or never (probability 0.1); an invoice on time is paid 0-20 days
  before the due date. Payments after ``data_end`` are unknown: ``paid_date``
  is NaT.
- Complaints: Poisson process with customer rate
  ``Gamma(shape 0.5, mean 0.1 a month) x exp(0.8 z - 0.32)``; resolved with
  probability 0.75.
- Contacts (calls 70%, visits 30%): Poisson process with customer rate
  ``Gamma(shape 4, mean 2 a month)``. A "neglected" customer (probability
  ``expit(logit 0.15 + z)``, about 19%) has no contact in the last 31-150
  days (uniform) before ``as_of``.
- Salespeople (drawn from a fourth random stream, so the draws above do not
  depend on them): a team of ``ceil(n / 60)`` (at least 3) named ``Sales 01``,
  ``Sales 02``, ...; each customer has an owner drawn uniformly. 30% of
  customers have a second salesperson who serves each order and contact with
  probability 0.3; 15% have a *handover*: on a day uniform in the 90 days up
  to ``as_of`` a new owner takes over every order and contact from that day
  on. Orders and contacts carry ``salesperson``.
- Customers also get a made-up company ``name``, an ``industry``
  (Manufacturing 30%, Construction 15%, Wholesale 20%, Food 15%,
  Electronics 12%, Logistics 8%; no effect on anything), a ``credit_limit``
  of about three months of expected purchases (rounded to thousands) and
  ``payment_terms_days`` = 30 (the due date). Invoices carry ``paid_amount``
  (the whole amount when paid). Complaints carry a ``type`` (quality,
  delivery, service, price, uniform) and, when resolved, a ``resolved_date``
  1 + Geometric(1/10) days after the complaint (a resolution after
  ``data_end`` is not known: the complaint is unresolved in the data).
- After ``as_of`` customers buy at their current rate (a dropper's lower one),
  and are contacted and complain as before, until they churn (below) or
  ``data_end``.

Observed signals at ``as_of``
-----------------------------
Computed by :func:`b2b_signals` from the tables, using only rows dated on or
before ``as_of`` (and only payments known by then): ``late_payments``,
``complaint``, ``contact_gap``, ``frequency_drop`` (0/1; definitions there),
and ``owner_change`` by :func:`analysis.churn.accounts.salesperson_signs`
(a salesperson new to the account served it in the 90 days up to ``as_of``,
orders and contacts together: the handovers that left a trace, and some
second salespeople first seen then). At the defaults their prevalences are
about 0.11, 0.18, 0.34, 0.31 and 0.12;
``frequency_drop`` is negatively correlated with ``late_payments`` (fewer
orders, fewer invoices to pay late), the others mildly positively (strain).

Churn: the planted effects
--------------------------
Churn is drawn from the *observed* signals ``x``, so a correctly specified
model on :attr:`B2BData.signals` recovers the planted coefficients exactly (up
to sampling error). Default coefficients (:data:`DEFAULT_EFFECTS`):

=================  ===========  =================
signal             coefficient  odds / hazard ratio
=================  ===========  =================
``late_payments``  ln 2.5       2.5
``complaint``      ln 2.0       2.0
``contact_gap``    ln 1.6       1.6
``frequency_drop`` ln 3.0       3.0
``owner_change``   ln 1.8       1.8
``region``         0            1 (null control: no effect, any contrast)
=================  ===========  =================

``churn_model="logistic"`` (default)
    ``churned ~ Bernoulli(expit(baseline + sum(beta * x)))`` with default
    ``baseline = -2.1`` (log-odds; overall churn about 23% at the defaults);
    ``ratio`` is the odds ratio. A churner's ``churn_date`` is uniform in
    ``(as_of, as_of + horizon_days]``; churners make no purchase (hence get
    no invoice) after ``as_of`` and have no contact or complaint after their
    ``churn_date``. A non-churner's next purchase is on a day uniform in
    ``(as_of, as_of + horizon_days]`` and it keeps buying until ``data_end``.
    So "no purchase in the ``horizon_days`` after ``as_of``" is exactly the
    planted ``churned`` flag.
``churn_model="proportional_hazards"``
    Time to churn after ``as_of`` (days) is exponential with hazard
    ``exp(baseline + sum(beta * x))``, default ``baseline = log(0.00055)``
    (log daily hazard; about 23% churned by ``data_end`` at the defaults,
    184 days after ``as_of``); ``ratio`` is the
    hazard ratio. ``churn_date`` is the churn time rounded up to a whole day,
    ``churned`` the event indicator at ``data_end`` (censoring; NaT
    ``churn_date`` if not churned). Every customer keeps buying (and being
    contacted) until its churn time or ``data_end``, so "no purchase in the
    next H days" is *not* the churn flag in this model.

``B2BData.signals`` adds ``churned`` (0/1) and ``time``: days from ``as_of``
to ``churn_date``, or to the end of follow-up for customers who did not churn
(``horizon_days`` for the logistic model, ``data_end - as_of`` for the
proportional-hazards model; day-grouped, so use Efron's ties).

Examples
--------
>>> data = generate_b2b(200, seed=1)
>>> sorted(data.signals.columns)  # doctest: +NORMALIZE_WHITESPACE
['churned', 'complaint', 'contact_gap', 'customer_id', 'frequency_drop',
 'late_payments', 'owner_change', 'region', 'time']
>>> data.true_effects.set_index("signal")["ratio"].round(2).to_dict()  # doctest: +NORMALIZE_WHITESPACE
{'late_payments': 2.5, 'complaint': 2.0, 'contact_gap': 1.6, 'frequency_drop': 3.0, 'owner_change': 1.8,
 'region': 1.0}
"""

from analysis.churn.signals import b2b_signals
from analysis.synthetic.effects import CHURN_MODELS, DEFAULT_BASELINE, DEFAULT_EFFECTS, SIGNALS, B2BData
from analysis.synthetic.generate import generate_b2b

__all__ = ["CHURN_MODELS", "DEFAULT_BASELINE", "DEFAULT_EFFECTS", "SIGNALS", "B2BData", "b2b_signals", "generate_b2b"]
