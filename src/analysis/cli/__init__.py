"""The ``analysis`` command (also ``python -m analysis``): argument parsing only.

Exit status (:data:`EXIT_CODES`): 0 success; 1 a data problem; 2 a bad
parameter or usage; 3 a file-system problem (disk full, no permission,
read-only folder); 4 a study failed while running (the run is published with
the failure recorded); 5 a reproduction differs from the recorded run. With
1, 2 and 3 nothing is published.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import __version__
from analysis.cli.data_flags import (
    add_data_flags,
    add_format_flags,
    column_map,
    command_line_words,
    data_parameters,
    format_options,
)
from analysis.data.datasets import DATASETS, load_dataset
from analysis.data.sources import data_sources
from analysis.data.validate import rows_up_to
from analysis.engines.profile import profile_transactions
from analysis.engines.rows import rows_after
from analysis.engines.select import check_engine
from analysis.engines.summaries import customer_summary
from analysis.errors import AnalysisError, DataError, ParameterError
from analysis.files import publish_file, write_table
from analysis.reporting.index import write_index
from analysis.reporting.reproduce import reproduce
from analysis.reporting.run import RunResult, execute_run
from analysis.studies.periods import period_end, period_parameters
from analysis.studies.registry import STUDIES, parameter_table
from analysis.studies.request import gather

log = logging.getLogger("analysis")

#: Exit status of the command, by outcome.
EXIT_CODES = {
    "ok": 0,
    "data problem": 1,
    "bad parameter or usage": 2,
    "file-system problem": 3,
    "a study failed": 4,
    "reproduction differs": 5,
}

#: Default folder of runs: ``reports/`` in the folder the command is run from.
DEFAULT_REPORTS = "reports"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.handler(args)
    except ParameterError as exc:
        print(f"error: {command_line_words(str(exc))}", file=sys.stderr)
        return EXIT_CODES["bad parameter or usage"]
    except DataError as exc:
        print(f"error: {command_line_words(str(exc))}", file=sys.stderr)
        return EXIT_CODES["data problem"]
    except OSError as exc:
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_CODES["file-system problem"]


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system error: the path and the cause, no traceback.

    Examples
    --------
    >>> import errno
    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "reports/x"))
    "file system: 'reports/x': No space left on device (free some space, or choose another --reports folder)"
    """
    advice = {
        errno.ENOSPC: "free some space, or choose another --reports folder",
        errno.EDQUOT: "free some space, or choose another --reports folder",
        errno.EACCES: "check the folder's permissions, or choose another folder",
        errno.EPERM: "check the folder's permissions, or choose another folder",
        errno.EROFS: "the file system is read-only: choose another folder",
    }.get(exc.errno or 0)
    text = f"{exc.strerror or exc}" if exc.filename is None else f"{str(exc.filename)!r}: {exc.strerror or exc}"
    return f"file system: {text} ({advice})" if advice else f"file system: {text}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="analysis", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument("--version", action="version", version=f"analysis {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run studies (default: all, on the shipped data) into a new run folder")
    run.add_argument("studies", nargs="*", metavar="STUDY", help=f"studies to run (default: all of {sorted(STUDIES)})")
    add_data_flags(run)
    run.add_argument("--params", default=None, help="YAML file: {study: {parameter: value}} (flat for one study)")
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="[STUDY.]NAME=VALUE",
        help="override a parameter (YAML value); without STUDY. it applies to every study that has it",
    )
    run.add_argument(
        "--as-of",
        default=None,
        help="analysis date: every study's dates as in a report at this date"
        " (default: every date chosen from the data, stated in each report)",
    )
    run.add_argument("--reports", default=DEFAULT_REPORTS, help="folder of runs (default: reports/ here)")
    run.add_argument("--name", default=None, help="run name (default: main-<last day of the data>)")
    run.add_argument("--no-studies", action="store_true", help="only the data profile and summaries")
    _add_later_rows(run)
    _add_engine(run)
    _add_jobs(run)
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="the periodic report: every study at a period's end")
    report.add_argument("--period", default=None, help="YYYY-MM: one period (default with --from/--to: a series)")
    report.add_argument("--from", dest="first", default=None, help="first period YYYY-MM of a backfill")
    report.add_argument("--to", dest="last", default=None, help="last period YYYY-MM of a backfill")
    report.add_argument("studies", nargs="*", metavar="STUDY", help=f"studies (default: all of {sorted(STUDIES)})")
    add_data_flags(report)
    report.add_argument("--params", default=None, help="YAML file: {study: {parameter: value}}")
    report.add_argument("-p", "--parameter", action="append", default=[], metavar="[STUDY.]NAME=VALUE")
    report.add_argument("--reports", default=DEFAULT_REPORTS, help="folder of runs (default: reports/ here)")
    report.set_defaults(drop_later_rows=True)  # a period's report uses the data up to its end: later rows are left out
    _add_engine(report)
    _add_jobs(report)
    report.set_defaults(handler=_report)

    again = commands.add_parser("reproduce", help="re-run a recorded run and compare its metrics")
    again.add_argument("manifest", help="the recorded run's manifest.json")
    again.set_defaults(handler=_reproduce)

    params = commands.add_parser("params", help="a study's parameters: type, default, meaning")
    params.add_argument("study", choices=sorted(STUDIES), help="the study")
    params.set_defaults(handler=_params)

    profile = commands.add_parser("profile", help="data profile of a dataset or file")
    _add_source(profile)
    profile.set_defaults(handler=_profile)

    summarize = commands.add_parser("summarize", help="customer summary of a dataset or file")
    _add_source(summarize)
    summarize.add_argument("--as-of", required=True, help="analysis date")
    summarize.add_argument("--time-unit", default="days", choices=["days", "weeks"])
    summarize.add_argument("--trailing-days", type=int, default=365)
    summarize.add_argument("--out", required=True, help="output .csv or .parquet (not overwritten)")
    _add_later_rows(summarize)
    summarize.add_argument(
        "--engine", default="duckdb", help="where the summary runs: duckdb, spark, or an Ibis connection URL"
    )
    summarize.add_argument(
        "--memory-limit",
        default=None,
        help="embedded DuckDB's memory limit, e.g. 2GB: beyond it DuckDB spills to disk (data larger than memory)",
    )
    summarize.set_defaults(handler=_summarize)
    return parser


def _add_later_rows(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--drop-later-rows",
        action="store_true",
        help="leave out rows dated after the analysis date (or today) and say how many (default: refuse them)",
    )


def _add_engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        default=None,
        help="where the customer summaries run: duckdb (default), spark, or an Ibis connection URL"
        " (sets every study's engine parameter)",
    )


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help=f"a shipped dataset ({', '.join(DATASETS)}), a file or a sources .yaml")
    add_format_flags(parser)


def _transactions(args: argparse.Namespace) -> pd.DataFrame:
    """The source's transactions; with ``--as-of`` (summarize), rows after it refused or left out."""
    as_of = getattr(args, "as_of", None)
    later_rows = "drop" if getattr(args, "drop_later_rows", False) else "refuse"
    if args.source == "cdnow":
        frame = load_dataset("cdnow")
        return frame if as_of is None else rows_up_to(frame, as_of, later_rows=later_rows, file="cdnow")
    if args.source in DATASETS:
        raise ParameterError("source", args.source, "a transactions dataset ('cdnow') or a file")
    described = data_sources(args.source, columns=column_map(args), **format_options(args))
    return described.transactions.read(as_of=as_of, later_rows=later_rows)


def _params(args: argparse.Namespace) -> int:
    table = parameter_table(args.study)
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(table.to_string(index=False))
    return 0


def _profile(args: argparse.Namespace) -> int:
    print(profile_transactions(_transactions(args)).to_string(index=False))
    return 0


def _summarize(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists():
        raise ParameterError("--out", str(out), "a path that does not exist yet (never overwritten)")
    if out.suffix not in (".csv", ".parquet"):
        raise ParameterError("--out", str(out), "a .csv or .parquet file name")
    if not out.parent.is_dir():
        raise ParameterError("--out", str(out), "a file in an existing folder")
    check_engine(args.engine)
    source = _summary_source(args)
    if isinstance(source, pd.DataFrame):
        left_out = int(source.attrs.get("rows_after_as_of", 0))
    else:  # scanned in place: count the later rows where the data lives
        left_out, first = rows_after(source, args.as_of, engine=args.engine, memory_limit=args.memory_limit)
        if left_out and not args.drop_later_rows:
            raise DataError(
                f"dates after the analysis date {pd.Timestamp(args.as_of).date()}",
                file=args.source,
                column="date",
                n_bad=left_out,
                examples=[(row.customer_id, str(row.day.date())) for row in first.itertuples()],
                row_label="customer",
                hint="Leave them out with --drop-later-rows, or move --as-of",
            )
    summary = customer_summary(
        source,
        args.as_of,
        time_unit=args.time_unit,
        trailing_days=args.trailing_days,
        engine=args.engine,
        memory_limit=args.memory_limit,
    )
    if summary.empty:
        raise DataError(f"no customer bought on or before {args.as_of}", file=args.source, column="date")
    publish_file(out, lambda staging: write_table(staging, summary))
    if left_out:
        print(f"{left_out:,} rows dated after {pd.Timestamp(args.as_of).date()} left out (--drop-later-rows)")
    print(f"{len(summary):,} customers -> {out}")
    return 0


def _summary_source(args: argparse.Namespace) -> pd.DataFrame | str:
    """What ``summarize`` hands to the engine: a Parquet file or folder, or a table, as it is.

    Parquet with the contract's column names is scanned in place (out of
    core); so is anything that is not a local file when the engine is not
    the embedded DuckDB (a table name, an ``s3://`` path). Everything else is
    read and validated in pandas first, for messages with line numbers.
    """
    path = Path(args.source)
    as_is = not args.column and not format_options(args)
    parquet = path.is_dir() or path.suffix.lower() in {".parquet", ".pq"}
    if as_is and args.source not in DATASETS and (parquet or (args.engine != "duckdb" and not path.is_file())):
        return args.source
    return _transactions(args)


def _study_parameters(args: argparse.Namespace, *, resolve: bool = True) -> dict[str, dict[str, Any]]:
    """Every chosen study's parameters from the command's options (:func:`analysis.studies.request.gather`)."""
    return gather(
        args.studies,
        params_file=args.params,
        overrides=args.parameter,
        engine=args.engine,
        drop_later_rows=getattr(args, "drop_later_rows", False),
        as_of=getattr(args, "as_of", None) if resolve else None,
        resolve=resolve,
        common=data_parameters(args),
    )


def _add_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--jobs",
        type=_whole_number,
        default=None,
        help="studies executed at once, each in its own kernel (default: one per core; 1: one after the other)",
    )


def _whole_number(text: str) -> int:
    """``--jobs``: a whole number, 1 or more (argparse reports anything else as a usage error)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    """Run the chosen studies (default: all, with their default parameters) into a new run folder."""
    parameters = _study_parameters(args)
    result = execute_run(
        parameters,
        reports=args.reports,
        name=args.name,
        command=_recorded(args),
        engine=args.engine or "duckdb",
        run_studies=not args.no_studies,
        jobs=args.jobs,
    )
    for label, facts in result.manifest["data"].items():
        if args.verbose:  # the profile is in the run folder (data/) and in each report's appendix
            print(f"Data profile: {facts['source']} ({facts['first_day']} to {facts['last_day']})")
            print(pd.read_csv(result.folder / "data" / f"{label}_profile.csv", dtype=str).to_string(index=False))
    print(f"Run written to {result.folder}")
    _print_studies(result)
    if result.manifest.get("summary"):
        print(f"Summary: {result.folder / result.manifest['summary']}")
    if result.manifest.get("skipped"):
        return EXIT_CODES["bad parameter or usage"]
    return EXIT_CODES["ok"] if result.ok else EXIT_CODES["a study failed"]


def _recorded(args: argparse.Namespace) -> dict[str, Any]:
    """The command's options as the manifest records them: paths absolute, so a record means one thing."""
    recorded = {k: v for k, v in vars(args).items() if k != "handler"}
    for key in ("reports", "params"):
        if recorded.get(key):
            recorded[key] = str(Path(recorded[key]).absolute())
    return recorded


def _print_studies(result: RunResult) -> None:
    for study, outcome in result.manifest["studies"].items():
        if outcome["status"] == "skipped":
            print(f"{study}: skipped: {command_line_words(outcome['error'])}", file=sys.stderr)
            continue
        where = result.folder / outcome["html"]
        reason = outcome.get("error") or outcome.get("html_error")
        error = f" ({reason})" if outcome["status"] != "ok" and reason else ""
        print(f"{study}: {outcome['status']}{error} in {outcome['seconds']:.1f} s -> {where}")


def _report(args: argparse.Namespace) -> int:
    if args.period and (args.first or args.last):
        raise ParameterError("--period", args.period, "either --period or --from/--to, not both")
    if args.period:
        periods = [args.period]
    elif args.first and args.last:
        first, last = period_end(args.first), period_end(args.last)
        if last < first:
            raise ParameterError("--to", args.last, f"a period on or after --from {args.first}")
        periods = [str(p) for p in pd.period_range(args.first, args.last, freq="M")]
    else:
        raise ParameterError("--period", None, "--period YYYY-MM, or --from YYYY-MM and --to YYYY-MM")
    # Every period's parameters are checked before anything runs.
    args.as_of = None
    given = _study_parameters(args, resolve=False)
    plans = {
        period: {study: period_parameters(study, period_end(period), values) for study, values in given.items()}
        for period in periods
    }
    status = EXIT_CODES["ok"]
    for period, parameters in plans.items():
        try:
            result = _report_period(period, parameters, args)
        except AnalysisError as exc:  # one period's problem: say so, keep the others and the index
            print(f"{period}: not written: {exc}", file=sys.stderr)
            code = EXIT_CODES["bad parameter or usage" if isinstance(exc, ParameterError) else "data problem"]
            status = status or code
            continue
        if not result.ok:
            status = status or EXIT_CODES["a study failed"]
    print(f"index: {write_index(args.reports)}")
    return status


def _report_period(period: str, parameters: dict[str, dict[str, Any]], args: argparse.Namespace) -> RunResult:
    """Run one period of the report."""
    result = execute_run(
        parameters,
        reports=args.reports,
        name=period,
        command=_recorded(args) | {"period": period},
        engine=args.engine or "duckdb",
        jobs=args.jobs,
    )
    print(f"{period}: run written to {result.folder}")
    _print_studies(result)
    return result


def _reproduce(args: argparse.Namespace) -> int:
    result, differences = reproduce(args.manifest)
    print(f"Reproduction written to {result.folder}")
    _print_studies(result)
    if not differences:
        print("identical: every recorded metric was reproduced")
        return EXIT_CODES["ok"] if result.ok else EXIT_CODES["a study failed"]
    print(f"{len(differences)} metric(s) differ:")
    for key, recorded, new in differences:
        print(f"  {key}: recorded {recorded!r}, now {new!r}")
    return EXIT_CODES["reproduction differs"]
