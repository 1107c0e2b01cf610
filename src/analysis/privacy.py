"""Keyed pseudonyms of customer ids (HMAC-SHA256) and the key they need.

A pseudonym must not be reversible by someone who has the report and the
customer list: a salted hash with the salt in the report is (hash every
known id and compare). So pseudonyms are ``HMAC-SHA256(key, id)`` with a
secret key that is never a parameter, never recorded in a manifest,
notebook or report, and read only when pseudonymisation is asked for:

- from the environment variable :data:`KEY_VARIABLE`
  (``ANALYSIS_PSEUDONYM_KEY``), or
- from a key file the user names (``pseudonym_key_file``; the first line,
  without its line break). Keep it outside the reports folder.

Without a key, pseudonymisation is refused; a key must have at least
:data:`MIN_KEY_LENGTH` characters. The same key gives the same pseudonyms
across runs, so lists can be matched without revealing ids; a new key
unlinks them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import ParameterError

__all__ = ["KEY_VARIABLE", "MIN_KEY_LENGTH", "pseudonym", "pseudonymise", "read_pseudonym_key"]

#: Environment variable holding the pseudonymisation key.
KEY_VARIABLE = "ANALYSIS_PSEUDONYM_KEY"
#: Shortest key accepted (characters).
MIN_KEY_LENGTH = 16


def read_pseudonym_key(key_file: str | os.PathLike = "", environ: Mapping[str, str] | None = None) -> bytes:
    """The secret key of the pseudonyms: from ``key_file`` if given, else from ``$ANALYSIS_PSEUDONYM_KEY``.

    Parameters
    ----------
    key_file : path, optional
        A file whose first line is the key. ``""`` reads the environment.
    environ : mapping, optional
        The environment to read (default: ``os.environ``).

    Returns
    -------
    bytes
        The key, UTF-8 encoded.

    Raises
    ------
    ParameterError
        If no key is found, the file cannot be read, or the key is shorter
        than :data:`MIN_KEY_LENGTH` characters. The message never quotes the key.
    """
    if key_file:
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParameterError("pseudonym_key_file", str(key_file), f"a readable UTF-8 key file ({exc})") from exc
        key, where = (text.splitlines() or [""])[0], f"key file {key_file}"
    else:
        key = (os.environ if environ is None else environ).get(KEY_VARIABLE, "")
        where = f"${KEY_VARIABLE}"
        if not key:
            raise ParameterError(
                "pseudonymise",
                True,
                f"a secret key: set the environment variable {KEY_VARIABLE} or name a key file with "
                "pseudonym_key_file (the key is never recorded)",
            )
    if len(key) < MIN_KEY_LENGTH:
        raise ParameterError(
            "pseudonym_key_file" if key_file else KEY_VARIABLE,
            "<hidden>",
            f"a key of at least {MIN_KEY_LENGTH} characters in {where}",
        )
    return key.encode("utf-8")


def pseudonym(customer_id: Any, key: bytes) -> str:
    """HMAC-SHA256 of ``str(customer_id)`` (UTF-8) under ``key``, as 64 hex digits.

    Examples
    --------
    >>> pseudonym("C001", b"a key of sixteen chars")[:16]
    '159bce520dc5d2c4'
    """
    if not isinstance(key, bytes) or len(key) < MIN_KEY_LENGTH:
        raise ParameterError("key", "<hidden>", f"a key of at least {MIN_KEY_LENGTH} bytes")
    return hmac.new(key, str(customer_id).encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymise(table: pd.DataFrame, key: bytes, id_col: str = "customer_id") -> pd.DataFrame:
    """A copy of ``table`` with ``id_col`` replaced by :func:`pseudonym` (the input is not modified)."""
    if id_col not in table.columns:
        raise ParameterError("id_col", id_col, f"a column of the table ({list(table.columns)})")
    out = table.copy()
    out[id_col] = [pseudonym(value, key) for value in out[id_col]]
    return out
