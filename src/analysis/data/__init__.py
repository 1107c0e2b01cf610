"""Shipped datasets, the data contract, and validated readers for user files.

This is the only module that reads files (with :mod:`analysis.engines.summaries`, which
can also scan Parquet files in place). Everything it returns uses the
package's own column names, so downstream code never sees the user's naming.

The data contract (see ``data/README.md`` for the full text)
------------------------------------------------------------
``transactions`` (required)
    ``customer_id`` (id), ``date`` (date or timestamp), ``amount`` (number;
    negative amounts are returns); optional ``order_id``, ``quantity``,
    ``margin`` (gross margin), ``region``, ``channel``.
``customers`` (optional)
    ``customer_id``; optional ``acquisition_date``, ``churned`` (yes/no),
    ``churn_date``; any other column is kept as an attribute.
``invoices``, ``complaints``, ``contacts`` (optional event tables)
    See :data:`CONTRACT`.

Files may be CSV (any extension but ``.parquet``/``.pq``, optionally
compressed as ``.gz``/``.bz2``) or Parquet. A ``columns`` mapping
``{contract name: your column name}`` spares users from renaming their files.

Policies (documented, tested)
-----------------------------
- Surrounding whitespace in ids and text is stripped; ids are always text, so
  leading zeros survive.
- A UTF-8 byte-order mark is skipped. Other encodings (e.g. ``gb18030``,
  ``latin-1``) are read with ``encoding=``; undecodable bytes are an error
  that names the line and suggests an encoding.
- Timestamps are either all naive or all carry a UTC offset. With one offset
  in the file they are kept as local wall time; with several, pass
  ``timezone=`` to convert them all to one zone (otherwise: an error).
- ``returns``: ``"keep"`` (default; negative amounts are returns and the
  summaries net them against value), ``"drop"``, or ``"error"``.
- ``duplicates`` (rows identical in every column): ``"keep"`` (default;
  identical rows can be genuine repeat items, and CDNOW has 255 of them),
  ``"drop"``, or ``"error"``. The data profile reports their count.
- ``as_of``: when given, rows dated after it are an error (the data cannot
  hold the future of the analysis date).
- The input file or DataFrame is never modified.
"""

from analysis.data.contract import CONTRACT, MAX_MONEY, ColumnSpec
from analysis.data.datasets import DATASETS, Dataset, dataset_path, load_dataset, sha256_file
from analysis.data.readers import read_customers, read_events, read_table, read_transactions
from analysis.data.validate import rows_up_to

__all__ = [
    "CONTRACT",
    "DATASETS",
    "MAX_MONEY",
    "ColumnSpec",
    "Dataset",
    "dataset_path",
    "load_dataset",
    "read_customers",
    "read_events",
    "read_table",
    "read_transactions",
    "rows_up_to",
    "sha256_file",
]
