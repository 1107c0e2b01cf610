"""The message catalogue: every heading, sentence, header and label of a report, in English or Chinese.

The catalogue is gettext's: ``locale/<language>/*.po`` files read with
babel, one catalogue per language (several files, one per part of the
reports, so each can be edited on its own). A message id is the English
text; the studies keep writing English and the reports translate what they
show:

* a table header or a label (a grade, a signal, a scheme) is looked up in the
  ``column`` or ``label`` context;
* a notebook's Markdown cell is looked up whole;
* a sentence a study writes with numbers in it ("8,332 of 23,570 customers
  are active") is matched against the catalogue's *templates*, message ids
  with ``{placeholders}`` ("{active} of {customers} customers are active");
  the values are carried over (and translated when they are labels).

English is the source language: an English report shows the text as
written, except column headers, which the ``en`` catalogue names in words.
A message with no translation shows its English text; the report test of a
``zh`` run fails on any English sentence left, so a missing translation is
found, never hidden.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from typing import Any

from babel.messages.pofile import read_po

from analysis.errors import ParameterError

__all__ = ["LANGUAGES", "check_language", "say", "translate", "translate_text"]

#: Languages a report can be written in.
LANGUAGES = ("en", "zh")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+(?=[A-Z0-9`*(\"'“¥$€£-])")


def check_language(language: str) -> str:
    """``language`` if the reports can be written in it, else a :class:`ParameterError`."""
    if language not in LANGUAGES:
        raise ParameterError("language", language, f"one of {list(LANGUAGES)}")
    return language


@functools.cache
def _catalogue(language: str) -> dict[tuple[str | None, str], str]:
    """``{(context, English text): translation}`` of every ``.po`` file of ``language``."""
    messages: dict[tuple[str | None, str], str] = {}
    folder = files("analysis") / "locale" / language
    if not folder.is_dir():
        return messages
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            catalogue = read_po(handle, locale=None)
        for message in catalogue:
            if message.id and message.string and not message.fuzzy:
                messages[(message.context, str(message.id))] = str(message.string)
    if language != "en":  # a label already put in English words ("days since last purchase") translates too
        for (context, name), english in _catalogue("en").items():
            if context == "label" and ("label", name) in messages:
                messages.setdefault(("label", english), messages[("label", name)])
    return messages


@functools.cache
def _templates(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The catalogue's sentence templates (message ids with ``{placeholders}``) as anchored patterns."""
    found = []
    for (context, text), translation in _catalogue(language).items():
        if context is None and _PLACEHOLDER.search(text):
            pattern, position = "", 0
            for match in _PLACEHOLDER.finditer(text):
                pattern += re.escape(text[position : match.start()]) + f"(?P<{match.group(1)}>.*?)"
                position = match.end()
            pattern += re.escape(text[position:])
            found.append((re.compile(f"^{pattern}$", re.DOTALL), translation))
    # the most specific (longest literal text) first, so a general template never hides a precise one
    found.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[0].pattern)))
    return tuple(found)


def translate(text: str, language: str, context: str | None = None) -> str:
    """``text`` in ``language``: its catalogue entry (in ``context``), or ``text`` itself when it has none.

    Examples
    --------
    >>> translate("customers", "zh", "column"), translate("customers", "en", "column")
    ('客户数', 'Customers')
    >>> translate("no such message", "zh")
    'no such message'
    """
    found = _catalogue(language).get((context, text))
    if found is None and context is not None and language != "en":
        found = _catalogue("en").get((context, text))
    return text if found is None else found


def _label(value: str, language: str) -> str:
    """A value carried into a translated sentence: a label or a phrase of the catalogue, else as it is."""
    found = _catalogue(language).get(("label", value))
    if found is None and re.search(r"[A-Za-z]{2}", value):  # words, not a number or a date
        found = _translate_sentence(value, language)
    return value if found is None else found


def _translate_sentence(sentence: str, language: str) -> str:
    exact = _catalogue(language).get((None, sentence))
    if exact is not None:
        return exact
    for pattern, translation in _templates(language):
        match = pattern.match(sentence)
        if match:
            values = {name: _label(value, language) for name, value in match.groupdict().items()}
            return translation.format(**values)
    return sentence


def translate_text(text: str, language: str) -> str:
    """A study's Markdown (paragraphs of sentences) in ``language``, sentence by sentence.

    A paragraph found whole is replaced whole; otherwise each sentence is
    looked up, then matched against the templates. English text is returned
    as it is.

    Examples
    --------
    >>> translate_text("No customer is churned.", "en")
    'No customer is churned.'
    """
    if language == "en" or not text:
        return text
    paragraphs = []
    for paragraph in re.split(r"(\n\s*\n)", text):
        if not paragraph.strip():
            paragraphs.append(paragraph)
            continue
        whole = _catalogue(language).get((None, paragraph.strip()))
        if whole is not None:
            paragraphs.append(whole)
            continue
        lines = []
        for line in paragraph.split("\n"):
            bullet = re.match(r"^(\s*(?:[-*]|\d+\.)\s+)(.*)$", line)
            prefix, body = (bullet.group(1), bullet.group(2)) if bullet else ("", line)
            whole_line = _catalogue(language).get((None, body.strip()))
            if whole_line is not None:
                lines.append(prefix + whole_line)
                continue
            joined = ""
            for sentence in _SENTENCE_END.split(body):
                shown = _translate_sentence(sentence, language)
                # Chinese sentences follow each other without a space; text left in English keeps its space
                gap = "" if not joined or re.search(r"[\u3000-\u9fff\uff00-\uffef]$", joined) else " "
                joined += gap + shown
            lines.append(prefix + joined)
        paragraphs.append("\n".join(lines))
    return "".join(paragraphs)


def say(text: str, params: Any = None, *, language: str | None = None) -> Any:
    """A study's Markdown sentence(s) for display in the report's language (``params.language``)."""
    from IPython.display import Markdown

    return Markdown(translate_text(text, language or getattr(params, "language", "en")))
