"""The three studies: their data sources, parameters, steps and sentences, and the registry the runner uses.

- :mod:`analysis.studies.sources`  a study's transactions: shipped, synthetic or the user's file
- :mod:`analysis.studies.grading`  study 1, grading thresholds (``notebooks/01_grading_thresholds.ipynb``)
- :mod:`analysis.studies.churn`    study 2, churn signals (``notebooks/02_churn_signals.ipynb``)
- :mod:`analysis.studies.value`    study 3, value tiers and CLV (``notebooks/03_value_tiers.ipynb``)
- :mod:`analysis.studies.registry` the studies by name: notebook, parameter declaration, checks
"""
