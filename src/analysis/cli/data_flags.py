"""The command line's data flags (``--data``, ``-c``, ``--encoding`` ...) and messages in the flags' words."""

from __future__ import annotations

import argparse
import re
from typing import Any

from analysis.errors import ParameterError

__all__ = [
    "FORMAT_FLAGS",
    "add_data_flags",
    "add_format_flags",
    "column_map",
    "command_line_words",
    "data_parameters",
    "format_options",
]


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """``--data``, the format flags and ``--currency``: what ``run`` and ``report`` take to study the user's data."""
    parser.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="your data: a transactions file (.csv, .csv.gz, .parquet or a folder, .xlsx) or a sources .yaml"
        " listing your tables (sets every study's data_source; default: the shipped CDNOW data)",
    )
    add_format_flags(parser)
    parser.add_argument(
        "--currency", default=None, help="currency of the amounts, e.g. CNY, USD or 万元 (reports; the tiers' scale)"
    )
    parser.add_argument(
        "--language", default=None, choices=("en", "zh"), help="language of the reports: en (default) or zh (中文)"
    )


def add_format_flags(parser: argparse.ArgumentParser) -> None:
    """``-c NAME=YOURS``, the :data:`FORMAT_FLAGS` and ``--drop-missing-ids``: how a user's file is read."""
    parser.add_argument(
        "-c",
        "--column",
        action="append",
        default=[],
        metavar="NAME=YOURS",
        help="map a contract column to your column name, e.g. -c customer_id=客户编号 (repeatable)",
    )
    for flag, meaning in FORMAT_FLAGS.items():
        parser.add_argument(flag, default=None, help=meaning)
    parser.add_argument(
        "--drop-missing-ids",
        action="store_true",
        help="leave out rows without a customer id and say how many (default: refuse them)",
    )


#: The format flags of a user file, with their meanings (each sets the study parameter of the same name).
FORMAT_FLAGS = {
    "--date-format": "strptime format of the dates, e.g. %%Y/%%m/%%d (default: ISO 8601)",
    "--encoding": "text encoding of a CSV file, e.g. gb18030 for a Chinese (GBK) export (default: utf-8)",
    "--delimiter": "field delimiter of a CSV file, e.g. ';' (default: ',')",
    "--decimal": "decimal separator: '.' (default) or ','",
    "--thousands": "thousands separator, e.g. ',' for 12,451.30 (default: none)",
    "--currency-symbol": "currency symbol written beside amounts, stripped, e.g. ¥ or 元 (default: none)",
    "--sheet": "sheet of a spreadsheet (default: the first)",
}


def format_options(args: argparse.Namespace) -> dict[str, Any]:
    """The format flags given, as study parameters / reader options (``{"encoding": "gb18030", ...}``)."""
    options = {}
    for flag in FORMAT_FLAGS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            options[flag.lstrip("-").replace("-", "_")] = value
    if args.drop_missing_ids:
        options["missing_ids"] = "drop"
    return options


def column_map(args: argparse.Namespace) -> dict[str, str]:
    """``-c customer_id=Kunde`` flags as ``{contract name: your column name}``."""
    mapping = {}
    for item in args.column:
        name, sep, theirs = item.partition("=")
        if not sep:
            raise ParameterError("--column", item, "NAME=YOURS, e.g. customer_id=Kunde")
        mapping[name.strip()] = theirs.strip()
    return mapping


def data_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The study parameters ``--data``, ``-c`` and the format flags set (for every study)."""
    common = format_options(args)
    if args.column:
        common["column_map"] = column_map(args)
    if args.currency:
        common["currency"] = args.currency
    language = getattr(args, "language", None)
    if args.data is not None:
        common["data_source"] = args.data
    elif common:
        raise ParameterError(
            "--data", None, "your data file, with the format options given (" + ", ".join(common) + ")"
        )
    if language:  # a report option, with or without the user's data
        common["language"] = language
    return common


def command_line_words(message: str) -> str:
    """A message's hints in the command line's words: ``encoding='gb18030'`` -> ``--encoding gb18030``.

    Examples
    --------
    >>> command_line_words("Pass the file's encoding, e.g. encoding='gb18030'")
    "Pass the file's encoding, e.g. --encoding gb18030"
    >>> command_line_words("pass thousands=',' and later_rows='drop'")
    "pass --thousands ',' and --drop-later-rows"
    """
    message = re.sub(
        r"\blater_rows='drop'(?: \(--drop-later-rows on the command line\))?", "--drop-later-rows", message
    )
    message = message.replace("missing_ids='drop'", "--drop-missing-ids")
    message = re.sub(r"\bcolumns=\{contract name: your name\}", "-c NAME=YOURS", message)

    def flag(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        text = value[1:-1] if value[0] == "'" else value
        shown = text if re.fullmatch(r"[\w%/.-]+", text) else f"'{text}'"
        return f"--{name.replace('_', '-')} {shown}"

    options = "|".join(["encoding", "delimiter", "decimal", "thousands", "currency_symbol", "date_format", "sheet"])
    return re.sub(rf"\b({options})=('[^']*'|\S+?)(?=[\s,.;)]|$)", flag, message)
