"""What a reader sees of an HTML report: its visible text, and any English left in a Chinese report.

Used by the report tests (and by whoever translates: run a ``zh`` report and
print :func:`english_left`).
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

#: Names that stay as they are in a Chinese report (models, tests, units, file formats).
KEPT = (
    "BG/NBD", "Pareto/NBD", "Gamma-Gamma", "Kaplan-Meier", "Kruskal-Wallis", "Spearman", "Gini", "Cox",
    "Hosmer-Lemeshow", "Grambsch-Therneau", "Brier", "AUC", "AIC", "BIC", "RFM", "CLV", "CDNOW", "IBM Telco",
    "Telco", "DuckDB", "Excel", "CSV", "xlsx", "Wilson", "Mann-Whitney", "Log-rank", "log-rank", "VIP",
)

#: A Python warning shown in a report (``UserWarning``, ``RuntimeWarning: ...``), not the word in "Warning sign".
PYTHON_WARNING = re.compile(r"\b[A-Z]\w*Warning\b|\bWarning: ")

_ENGLISH_RUN = re.compile(r"[A-Za-z][a-z]+(?:[ ,'’-]+[A-Za-z][a-z]+){3,}")


def visible_text(html: str) -> str:
    """The text a reader sees: no scripts, styles, code or preformatted blocks."""
    soup = BeautifulSoup(html, features="html.parser")
    for hidden in soup(["script", "style", "code", "pre", "head", "title"]):
        hidden.decompose()
    return soup.get_text(" ")


def english_left(path: Path | str, kept: tuple[str, ...] = KEPT) -> list[str]:
    """Runs of four or more English words in the visible text of the report at ``path`` (a ``zh`` report has none).

    Names in ``kept`` (models, tests) are removed first; identifiers in code
    are not visible text.
    """
    text = visible_text(Path(path).read_text(encoding="utf-8"))
    for name in kept:
        text = text.replace(name, " ")
    return sorted(set(_ENGLISH_RUN.findall(text)))
