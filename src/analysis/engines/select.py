"""Choosing an engine: names and URLs checked (no recorded passwords), the Spark session, opening a source on it."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

import ibis
from ibis.backends import BaseBackend

from analysis.engines.backends import backend_source
from analysis.engines.embedded import duckdb_source, embedded_duckdb
from analysis.engines.prepared import Engine, Prepared, Source
from analysis.errors import ParameterError

__all__ = ["ENGINES", "check_engine", "engine_label", "open_source", "spark_session"]


#: Engines named by a word; anything else must be an Ibis URL or backend.
ENGINES = ("duckdb", "spark")


def check_engine(engine: Any, *, recorded: bool = False) -> Engine:
    """Return ``engine`` if it names an engine, else raise :class:`ParameterError`.

    With ``recorded=True`` (a study's or a run's parameter, written to
    notebooks and manifests) a URL must not hold a literal password: write
    ``${ENV_VAR}`` in its place, which is filled in from the environment when
    the engine is opened.

    Examples
    --------
    >>> check_engine("duckdb"), check_engine("trino://analyst@warehouse/hive/sales")
    ('duckdb', 'trino://analyst@warehouse/hive/sales')
    >>> check_engine("trino://analyst:${TRINO_PASSWORD}@warehouse/hive/sales", recorded=True)
    'trino://analyst:${TRINO_PASSWORD}@warehouse/hive/sales'
    >>> check_engine("postgres")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'engine' = 'postgres': expected 'duckdb', 'spark', an Ibis...
    """
    if isinstance(engine, BaseBackend) or engine in ENGINES:
        return engine
    if not (isinstance(engine, str) and "://" in engine and engine.split("://", 1)[0]):
        raise ParameterError(
            "engine",
            engine,
            "'duckdb', 'spark', an Ibis connection URL such as 'trino://user@host/catalog/schema', or an Ibis backend",
        )
    if recorded and any(not _PLACEHOLDER.fullmatch(secret) for secret in _secrets(engine)):
        raise ParameterError(
            "engine",
            engine_label(engine),
            "a URL without a literal password (runs record their parameters): write ${ENV_VAR} in its place,"
            " e.g. trino://analyst:${TRINO_PASSWORD}@host/hive/sales",
        )
    return engine


_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


_SECRET_QUERY = re.compile(r"(?i)((?:password|passwd|pwd|secret|token|private_key)=)([^&]*)")


def _secrets(url: str) -> list[str]:
    """The password of a URL's user info and the values of secret-looking query parameters."""
    rest = url.split("://", 1)[1]
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    found = [m.group(2) for m in _SECRET_QUERY.finditer(rest)]
    if "@" in authority:
        user = authority.rsplit("@", 1)[0]
        if ":" in user:
            found.append(user.split(":", 1)[1])
    return found


def _expand(url: str) -> str:
    """``url`` with each ``${ENV_VAR}`` replaced by that environment variable."""

    def value(match: re.Match[str]) -> str:
        name = match.group(0)[2:-1]
        if name not in os.environ:
            raise ParameterError("engine", engine_label(url), f"the environment variable {name} set (the URL uses it)")
        return os.environ[name]

    return _PLACEHOLDER.sub(value, url)


def engine_label(engine: Engine) -> str:
    """A short name of an engine for reports: a URL without its passwords.

    Examples
    --------
    >>> engine_label("trino://analyst:s3cret@warehouse:8080/hive?password=x&catalog=hive")
    'trino://analyst@warehouse:8080/hive?password=***&catalog=hive'
    """
    if isinstance(engine, BaseBackend):
        return f"ibis:{engine.name}"
    if "://" not in engine:
        return engine
    scheme, rest = engine.split("://", 1)
    rest = _SECRET_QUERY.sub(r"\1***", rest)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        user, host = authority.rsplit("@", 1)
        authority = f"{user.split(':', 1)[0]}@{host}"
    return f"{scheme}://{authority}{slash}{path}"


_SPARK_SETTINGS = (
    "spark.sql.session.timeZone",
    "spark.sql.mapKeyDedupPolicy",
    "spark.sql.execution.arrow.pyspark.enabled",
)


def spark_session(master: str | None = None):
    """The active Spark session, or a new one (``local[*]`` unless a master is configured).

    The session computes in UTC (calendar days must not depend on the
    machine) and moves pandas data through Arrow.
    """
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("analysis")
        if master or not (os.environ.get("MASTER") or os.environ.get("SPARK_MASTER")):
            builder = builder.master(master or "local[*]")
        session = (
            builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    return session


@contextlib.contextmanager
def open_source(source: Source, engine: Engine = "duckdb", memory_limit: str | None = None) -> Iterator[Prepared]:
    """Open ``engine`` and make ``source`` its typed transactions table.

    Parameters
    ----------
    source : DataFrame, path, or table name
        See the module docstring for what each engine accepts.
    engine : str or ibis backend
        ``"duckdb"``, ``"spark"``, an Ibis connection URL or an Ibis backend.
    memory_limit : str, optional
        DuckDB memory limit such as ``"2GB"`` (embedded DuckDB only).

    Yields
    ------
    Prepared
        The table and how to fetch results; temporary tables and the embedded
        database are dropped on exit.
    """
    engine = check_engine(engine)
    if memory_limit is not None and engine != "duckdb":
        raise ParameterError("memory_limit", memory_limit, "None unless engine='duckdb' (set memory on the engine)")
    if engine == "duckdb":
        with embedded_duckdb(memory_limit) as con:
            prepared = duckdb_source(con, source)
            prepared.memory_limit = memory_limit
            yield prepared
        return
    if engine == "spark":
        try:
            session = spark_session()
        except ImportError as exc:
            raise ParameterError(
                "engine", engine, "an installed Spark: pip install 'analysis[spark]' (and Java 17+)"
            ) from exc
        # Ibis sets the session to UTC (calendar days must not depend on the machine);
        # the caller's own settings come back afterwards.
        saved = {key: session.conf.get(key, None) for key in _SPARK_SETTINGS}
        try:
            backend = ibis.pyspark.connect(session)
            session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
            with backend_source(backend, source) as prepared:
                yield prepared
        finally:
            for key, value in saved.items():
                session.conf.unset(key) if value is None else session.conf.set(key, value)
        return
    if isinstance(engine, str):
        try:
            backend = ibis.connect(_expand(engine))
        except ParameterError:
            raise
        except Exception as exc:  # any driver error means the same to the user
            reason = str(exc).replace(_expand(engine), engine_label(engine))
            raise ParameterError("engine", engine_label(engine), f"a reachable Ibis backend ({reason})") from exc
        try:
            with backend_source(backend, source) as prepared:
                yield prepared
        finally:
            with contextlib.suppress(Exception):  # a connection we opened; nothing of ours is left in it
                backend.disconnect()
        return
    with backend_source(engine, source) as prepared:  # the caller's backend stays open
        yield prepared
