"""Customer analytics research package.

Module map (data flows one way, left to right)::

    data/raw, user files ─> data ─> summaries ─> grading/churn/clv/value ─> notebooks ─> reports
                             └─ synthetic (seeded B2B data with planted effects)

- :mod:`analysis.errors`    the package's exceptions (``DataError``, ``ParameterError``)
- :mod:`analysis.data`      shipped datasets, the data contract, validated readers, profile
- :mod:`analysis.synthetic` seeded synthetic B2B customer base with documented planted effects
- :mod:`analysis.summaries` per-customer and per-period tables as Ibis expressions (the only
  code that aggregates raw transactions)
- :mod:`analysis.engines`   where they run: embedded DuckDB, Spark, any Ibis backend
- :mod:`analysis.stats`     intervals and test results shared by the studies
- :mod:`analysis.concentration`, :mod:`analysis.grading`, :mod:`analysis.stability`,
  :mod:`analysis.validity`, :mod:`analysis.policy`, :mod:`analysis.grading_study`  study 1
- :mod:`analysis.churn`, :mod:`analysis.churn_models`, :mod:`analysis.churn_study`  study 2
- :mod:`analysis.value`     RFM, segments, pyramids, value x risk (study 3)
- :mod:`analysis.plots`     one function per figure
- :mod:`analysis.sources`, :mod:`analysis.studies`, :mod:`analysis.report`,
  :mod:`analysis.runner`  data sources, the study registry, atomic run folders and metrics,
  runs with manifests and their reproduction
- :mod:`analysis.cli`       the ``analysis`` command
"""

import logging

from analysis.data import load_dataset, read_customers, read_events, read_transactions
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
