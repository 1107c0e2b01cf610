"""Customer analytics research package.

Module map, in layers (data flows one way, from the bottom up; a module
imports only its own layer and the ones below, as ``tests/test_layout.py``
checks)::

    command line   cli
    reporting      report (run folders, metrics) · runner (runs, manifests, reproduce, periodic index)
    studies        sources · grading_study · churn_study · value_study · studies (registry)
    domain         grading · concentration · stability · validity · policy      (study 1)
                   churn · churn_models                                          (study 2)
                   value · clv                                                   (study 3)
                   synthetic (seeded B2B data with planted effects)
    engines        engines (DuckDB, Spark, any Ibis backend) · summaries (the only code aggregating raw rows)
    data           data (shipped datasets, the contract, validated readers, profile)
    foundations    errors · checks · parameters (plain data, safe names) · privacy (keyed pseudonyms)
                   files (atomic writes, formula-safe CSV) · stats · plots

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
