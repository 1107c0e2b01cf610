"""Where the customer summaries run: embedded DuckDB, Spark, or any Ibis backend.

The summaries of :mod:`analysis.engines.summaries` are Ibis expressions over one
typed table, ``customer_id`` (string), ``day`` (date), ``amount`` (DECIMAL(18,
4)) and, when the data has it, ``margin``. This module opens an engine, turns
the user's source into that table on it, checks the source, and fetches
results as pandas DataFrames. Everything after the summaries (one row per
customer) stays in pandas.

Engines
-------
``"duckdb"`` (default)
    A private in-memory DuckDB database per call, spilling to a temporary
    folder beyond ``memory_limit``. Sources: a DataFrame, or Parquet / CSV
    files scanned in place (files larger than memory work).
``"spark"``
    The active Spark session (``SparkSession.builder.getOrCreate()``: the
    cluster's when run under ``spark-submit`` or on a cluster notebook,
    otherwise a local session on every core). Sources: a DataFrame (shipped
    to Spark through Arrow), a Parquet / CSV path Spark can read (``s3://``,
    ``hdfs://``...), or the name of a table in the session's catalog.
an Ibis connection URL
    Anything :func:`ibis.connect` accepts (``"duckdb:///warehouse.db"``,
    ``"trino://user@host/catalog/schema"``, ``"bigquery://project/dataset"``,
    ``"snowflake://..."``). Sources: a table name in that database, a
    DataFrame (uploaded as a temporary table) or a file the backend reads.
    ``${ENV_VAR}`` anywhere in the URL is replaced by that environment
    variable, so that recorded parameters never hold a password.
an Ibis backend object
    A connection you opened yourself (``ibis.pyspark.connect(session)``),
    used as it is.

Checks
------
The embedded DuckDB path checks optimistically (see :func:`_duckdb_source`).
Every other engine checks the source in one aggregate pass before the
summary, with the same messages: missing, blank or untrimmed ids, missing or
unparseable dates, missing, non-numeric, infinite or too large amounts.
DataFrames are always checked in pandas first, so their messages name index
labels, and their money is made decimal by Arrow, so that every engine sums
the same decimals. CSV files are read as text everywhere. "Untrimmed"
means the same everywhere: spaces, tabs or line breaks around an id
(:data:`WHITESPACE`); other characters, such as a no-break space, are part of
the id.
"""

from analysis.engines.prepared import Source
from analysis.engines.select import ENGINES, check_engine, engine_label, open_source, spark_session

__all__ = ["ENGINES", "Source", "check_engine", "engine_label", "open_source", "spark_session"]
