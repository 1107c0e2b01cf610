"""How results are shown to people: numbers, tables, sentences and figures, in English or Chinese.

:mod:`~analysis.presentation.numbers` formats one number (babel's locale
data), :mod:`~analysis.presentation.messages` is the message catalogue
(``locale/*.po``), :mod:`~analysis.presentation.tables` turns a result table
into a report table, and :mod:`~analysis.presentation.figures` gives figures
their alt text, fonts and date axes.
"""

from analysis.presentation.messages import LANGUAGES, check_language, say, translate, translate_text
from analysis.presentation.tables import ReportTable, show

__all__ = ["LANGUAGES", "ReportTable", "check_language", "say", "show", "translate", "translate_text"]
