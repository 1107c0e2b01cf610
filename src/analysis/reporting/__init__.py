"""Runs and what they publish: run folders, study execution, manifests, reproduction, periodic reports, the index.

- :mod:`analysis.reporting.folders`   atomic run folders (never overwritten), the studies' metrics files
- :mod:`analysis.reporting.execute`   one study executed with papermill, its parameters and inputs checked first
- :mod:`analysis.reporting.run`       a run of studies with its manifest
- :mod:`analysis.reporting.reproduce` a recorded run re-run and compared
- :mod:`analysis.reporting.index`     ``reports/index.html`` with headline metrics and trends
"""
