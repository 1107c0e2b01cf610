"""Customer analytics research package.

Module map, in layers (data flows one way, from the bottom up; a module
imports only its own layer and the ones below, as ``tests/test_layout.py``
checks)::

    command line   cli (argument parsing only) · cli.data_flags (--data, format flags, messages in flag words)
    reporting      reporting.folders (run folders, metrics) · reporting.execute (one study, papermill)
                   reporting.schedule (studies side by side, progress)
                   reporting.report_html (summary first, appendix last, translated) · reporting.summary_page
                   reporting.run (a run, its manifest) · reporting.exports · reporting.reproduce · reporting.index
    studies        studies.sources · studies.declaration · studies.parameters · studies.dates (from the data)
                   studies.grading · studies.grading_b2b (on CRM tables) · studies.churn · studies.churn_reference
                   studies.churn_signs · studies.churn_text · studies.churn_subscriptions (sBG by contract)
                   studies.churn_telco (Telco classifier)
                   studies.call_list · studies.value
                   studies.value_basis (value = margin or revenue) · studies.value_risk (which churn risk)
                   studies.value_models (which purchase model, dropout identified) · studies.findings (summaries)
                   studies.value_counts (customers by number of purchases, actual vs model)
                   studies.text (prose helpers) · studies.registry · studies.periods · studies.request
    domain         grading.schemes · grading.grades · grading.score · grading.concentration · grading.stability
                   grading.validity · grading.policy · grading.payments · grading.b2b
                   grading.contacts (the CRM tables: payment terms, score inputs, contacts)  (study 1)
                   churn.signals (every warning sign, once) · churn.frames · churn.b2b · churn.accounts
                   churn.crm · churn.measures · churn.survival · churn.models · churn.validation
                   churn.fit_checks · churn.design (one-hot, aliased columns) · churn.holdout
                   churn.classifier (hold-out, cross-validation) · churn.concordance (Harrell's C)
                   churn.subscriptions (sBG retention model) · churn.retention (fitting the sBG)
                   churn.alerts                                                              (study 2)
                   value.tiers · value.clv: clv.base · clv.optimiser (maximum likelihood)
                   clv.estimation (the fitter idiom) · clv.hypergeometric · clv.beta_geo
                   clv.pareto_nbd · clv.purchase_counts (P(X(t) = x)) · clv.gamma_gamma
                   clv.lifetime_value · clv.simulate                                         (study 3)
                   synthetic.effects · synthetic.generate · synthetic.accounts · synthetic.tables (seeded B2B data)
    engines        engines.select · engines.prepared · engines.embedded (DuckDB) · engines.backends
                   engines.aggregates · engines.returns (returns matched to their purchases)
                   engines.summaries · engines.periods · engines.rows
                   engines.profile (the only code aggregating raw rows, run where the data lives)
                   engines.censoring (histories that may start before the data)
    data           data.contract · data.datasets · data.readers · data.spreadsheets · data.parsing
                   data.validate · data.sources (a user's data described once)
    foundations    errors · checks (the shared argument checks) · parameters (plain data, safe names)
                   privacy (keyed pseudonyms) · files (atomic writes, formula-safe CSV) · stats
                   plots (plots.common · plots.grading · plots.churn · plots.value)
                   presentation (presentation.numbers · presentation.messages · presentation.tables
                   · presentation.figures: what a person reads, in English or Chinese)

The study notebooks (``notebooks/``) and the shipped datasets (``datasets/``)
are package data: an installed package runs a study from any folder.
"""

import logging

from analysis.data.datasets import load_dataset
from analysis.data.readers import read_customers, read_events, read_transactions
from analysis.errors import AnalysisError, DataError, ParameterError

__all__ = [
    "AnalysisError",
    "DataError",
    "ParameterError",
    "load_dataset",
    "read_customers",
    "read_events",
    "read_transactions",
]
__version__ = "0.1.0"

logging.getLogger("analysis").addHandler(logging.NullHandler())
