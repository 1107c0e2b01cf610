"""One study executed with papermill: parameters checked as plain literals, paths absolute, inputs first."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.datasets import DATASETS
from analysis.errors import ParameterError
from analysis.parameters import check_injected_source, check_plain, safe_name
from analysis.privacy import read_pseudonym_key
from analysis.reporting.exports import STUDY_CUSTOMERS
from analysis.reporting.report_html import export_report
from analysis.reporting.summary_page import failure_page
from analysis.studies.dates import HistoryTooShort, choose_from_data
from analysis.studies.registry import STUDIES
from analysis.studies.sources import SYNTHETIC_B2B, load_tables

__all__ = ["Planned", "absolute_engine", "check_inputs", "data_label", "run_parameters", "run_study"]


#: Parameters that name a file of the user's (resolved against the current directory before a run).
PATH_PARAMETERS = ("data_source", "pseudonym_key_file")


#: Names of data sources that are not files.
NAMED_SOURCES = (*DATASETS, SYNTHETIC_B2B)


def run_parameters(study: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A study's parameters as a run uses them: plain data, user paths absolute, export names safe.

    - Every value must be plain data (:func:`analysis.parameters.check_plain`).
    - ``data_source`` (unless a shipped or synthetic source) and
      ``pseudonym_key_file`` are made absolute against the current
      directory, so they mean what the user meant wherever the notebook runs.
    - ``alerts_path`` must be a file name (one safe path component ending in
      ``.csv``): a run writes its exports into its own ``exports/`` folder.

    Raises
    ------
    ParameterError
        Naming the first parameter that breaks a rule.
    """
    out = {key: _as_lists(check_plain(key, value)) for key, value in values.items()}
    if isinstance(out.get("engine"), str):
        out["engine"] = absolute_engine(out["engine"])
    for key in PATH_PARAMETERS:
        value = out.get(key)
        if isinstance(value, str) and value and value not in NAMED_SOURCES:
            out[key] = str(Path(value).expanduser().absolute())
    for name in EXPORT_PARAMETERS:
        given = out.get(name)
        if given:
            safe_name(name, given)
            suffix = ".parquet" if name == "customers_path" else ".csv"
            if not given.lower().endswith(suffix):
                raise ParameterError(name, given, f"a file name ending in {suffix} (written to the run's exports/)")
    if study == "churn" and not out.get("call_list_path"):
        out["call_list_path"] = "call_list.csv"  # a run always exports whom to call now
    if study in STUDY_CUSTOMERS and not out.get("customers_path"):
        out["customers_path"] = STUDY_CUSTOMERS[study]  # joined into exports/customers.csv after the run
    return out


#: Parameters naming an export file: one safe name, written into the run's ``exports/``.
EXPORT_PARAMETERS = ("alerts_path", "call_list_path", "customers_path")


def _as_lists(value: Any) -> Any:
    """Tuples as lists, at every level (papermill writes lists; a tuple would not reach the notebook as itself)."""
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


_FILE_ENGINE = re.compile(r"^(duckdb|sqlite)://(?!/)(?!:memory:)(.+)$")


def absolute_engine(engine: str) -> str:
    """An engine URL whose database file is given relative (``duckdb://local.ddb``) made absolute (cwd).

    Examples
    --------
    >>> absolute_engine("duckdb://") == "duckdb://" and absolute_engine("spark") == "spark"
    True
    >>> absolute_engine("duckdb://local.ddb") == "duckdb://" + str(Path("local.ddb").absolute())
    True
    """
    match = _FILE_ENGINE.match(engine)
    if not match:
        return engine
    return f"{match.group(1)}://{Path(match.group(2)).absolute()}"


@dataclass(frozen=True)
class Planned:
    """A study as the run will execute it: its parameters with the data's dates, or why it cannot run.

    Attributes
    ----------
    values : dict
        The parameters as given (the notebook chooses the open dates itself,
        by the same rules, from the same data).
    dated : dict
        The parameters with every date, window and size set (recorded in the manifest).
    chosen : DataFrame
        ``parameter``, ``value``, ``rule`` of each date, window and size.
    problem : HistoryTooShort or None
        Set when the data's history is too short for the study: it is skipped.
    transactions : DataFrame or None
        The study's validated transactions (shared between studies of one source).
    source : str
        The study's data source (``data_source``).
    """

    values: dict[str, Any]
    dated: dict[str, Any] = field(default_factory=dict)
    chosen: pd.DataFrame | None = None
    problem: HistoryTooShort | None = None
    transactions: pd.DataFrame | None = field(default=None, repr=False)
    source: str = ""


def check_inputs(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, Planned]:
    """Load and validate every study's data as the study will, choose its dates, and find the pseudonymisation key.

    Run before anything is written, so a bad file, rows dated after a
    study's date, parameters that do not fit the data or a missing key stop
    the run with nothing published. Each distinct source is read once, with
    every table its source file lists. A study whose data holds too short a
    history is not an error of the run: it is returned with its ``problem``
    and skipped, and the other studies run.

    Raises
    ------
    DataError, ParameterError
        The first problem found.
    """
    loaded: dict[str, pd.DataFrame] = {}
    planned: dict[str, Planned] = {}
    for study, values in parameters.items():
        declaration = STUDIES[study].parameters(**values)
        options = declaration.data_options()
        key = json.dumps(options, sort_keys=True, default=str)
        if key not in loaded:
            loaded[key] = load_tables(**options)["transactions"]
        transactions = loaded[key]
        if values.get("pseudonymise"):
            read_pseudonym_key(values.get("pseudonym_key_file", ""))
        try:
            dated, chosen = choose_from_data(declaration, transactions)
        except HistoryTooShort as exc:
            planned[study] = Planned(dict(values), problem=exc)
            continue
        if hasattr(dated, "check_data"):
            dated.check_data(transactions)
        planned[study] = Planned(
            dict(values), dataclasses.asdict(dated), chosen, transactions=transactions, source=options["source"]
        )
    return planned


def data_label(source: str) -> str:
    """A short safe name for a study's data source (for the run's data files): ``cdnow``, ``sales``...

    Examples
    --------
    >>> data_label("cdnow"), data_label("/data/销售 2024.csv"), data_label("/data/sources.yaml")
    ('cdnow', '销售_2024', 'sources')
    """
    if source in NAMED_SOURCES:
        return source
    stem = Path(source).name.split(".")[0] or "data"
    return re.sub(r"[^\w-]+", "_", stem).strip("_") or "data"


def run_study(
    study: str, folder: Path, parameters: Mapping[str, Any], *, progress_bar: bool | dict[str, Any] | None = None
) -> dict[str, Any]:
    """Execute one study notebook with papermill into ``folder``; export HTML without code.

    The notebook runs with ``folder`` as its working directory; its
    parameters are checked once more to reach it as plain literals
    (:func:`analysis.parameters.check_injected_source`). A failing notebook
    is kept (partially executed) and reported, never raised. ``progress_bar``
    is papermill's (``True``, ``False`` or tqdm options); default: a bar when
    standard error is a terminal.
    """
    import papermill
    from papermill.translators import translate_parameters

    source = STUDIES[study].path
    stem = source.stem
    executed = folder / f"{stem}.ipynb"
    metrics = folder / "metrics" / f"{stem}.json"
    started = time.time()
    values = {k: v for k, v in parameters.items() if k != "metrics_path"}
    outcome: dict[str, Any] = {
        "notebook": executed.name,
        "html": f"{stem}.html",
        "metrics": str(metrics.relative_to(folder)),
        "parameters": values,
    }
    given = values | {"metrics_path": str(metrics)}
    for name in EXPORT_PARAMETERS:
        if values.get(name):
            (folder / "exports").mkdir(exist_ok=True)
            given[name] = str(folder / "exports" / values[name])
            written = [values[name]] + (
                [Path(values[name]).with_suffix(".xlsx").name] if name == "call_list_path" else []
            )
            outcome.setdefault("exports", []).extend(f"exports/{file}" for file in written)
    check_injected_source(translate_parameters("python3", "python", check_plain("parameters", given)), given)
    try:
        papermill.execute_notebook(
            _literal_path(source),
            _literal_path(executed),
            parameters=given,
            kernel_name="python3",
            cwd=str(folder),
            # a progress bar for a person at a terminal, none in logs
            progress_bar=sys.stderr.isatty() if progress_bar is None else progress_bar,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no kernel start-up chatter on the terminal
        )
        outcome["status"] = "ok"
    except papermill.PapermillExecutionError as exc:
        if exc.ename in _FILE_SYSTEM_ERRORS:  # a full disk inside the notebook: the run cannot be trusted
            raise _os_error(exc.evalue, folder) from exc
        outcome |= {"status": "failed", "cell": exc.exec_count, "error": f"{exc.ename}: {exc.evalue}"}
    except OSError:
        raise  # the run folder cannot be written: nothing is published (exit 3)
    except Exception as exc:  # a dead kernel or a timeout must not take the other studies down
        outcome |= {"status": "failed", "cell": None, "error": f"{type(exc).__name__}: {exc}"}
    outcome["seconds"] = round(time.time() - started, 3)
    language = values.get("language", "en")
    if executed.exists() and outcome["status"] == "ok":
        try:
            export_report(executed, folder / f"{stem}.html", language)
        except Exception as exc:  # the executed notebook is kept even if its export fails
            outcome |= {"status": "failed", "html_error": f"{type(exc).__name__}: {exc}"}
    if outcome["status"] != "ok":  # a short page saying what failed and why, linking the executed notebook
        error = outcome.get("error") or outcome.get("html_error", "")
        page = failure_page(study, error, executed.name if executed.exists() else "", language)
        (folder / f"{stem}.html").write_text(page, encoding="utf-8")
    return outcome


#: Exceptions that, raised inside a notebook, mean the run's folder could not be written.
_FILE_SYSTEM_ERRORS = ("OSError", "PermissionError", "IsADirectoryError", "NotADirectoryError", "BlockingIOError")


_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] ([^:]+)(?:: '(.*)')?")


def _os_error(text: str, folder: Path) -> OSError:
    """An :class:`OSError` rebuilt from a notebook's error text (``[Errno 28] No space left on device: 'x'``)."""
    match = _ERRNO_TEXT.search(text)
    if not match:
        return OSError(None, text, str(folder))
    return OSError(int(match.group(1)), match.group(2), match.group(3) or str(folder))


def _literal_path(path: Path) -> str:
    """``path`` for papermill, which formats paths with the parameters (``{name}``): braces escaped."""
    return str(path).replace("{", "{{").replace("}", "}}")
