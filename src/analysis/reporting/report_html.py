"""A study's executed notebook as the report a manager reads: summary first, appendix last, in one language.

The notebook stays in the order an analyst works in (data, steps, then the
summary). The report reorders it: the title, then the cells tagged
``summary`` (findings, recommendation, what to do this period), a table of
contents, the steps, and the cells tagged ``appendix`` (parameters, data
provenance, model diagnostics, metrics) folded at the end. Markdown cells
are translated through the message catalogue (:mod:`analysis.presentation`)
when the report's language is not English; code is never shown.
"""

from __future__ import annotations

import copy
import re
from importlib.resources import files
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

from analysis.presentation.messages import translate, translate_text

__all__ = ["arrange_cells", "export_report", "report_css"]

_TEMPLATES = files("analysis") / "reporting" / "templates"


def report_css() -> str:
    """The reports' page style (``reporting/templates/report.css``)."""
    return (_TEMPLATES / "report.css").read_text(encoding="utf-8")


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def arrange_cells(notebook: nbformat.NotebookNode, language: str = "en") -> nbformat.NotebookNode:
    """A copy of ``notebook`` in report order: title, summary cells, the rest, then an appendix.

    Cells tagged ``summary`` follow the first cell (the title); cells tagged
    ``appendix`` move to the end under an "Appendix" heading; Markdown is
    translated into ``language``. The title (for the browser tab) is the
    first heading.
    """
    arranged = copy.deepcopy(notebook)
    cells = arranged.cells
    summary = [cell for cell in cells if "summary" in _tags(cell)]
    appendix = [cell for cell in cells if "appendix" in _tags(cell)]
    body = [cell for cell in cells if "summary" not in _tags(cell) and "appendix" not in _tags(cell)]
    order = body[:1] + summary + body[1:]
    if appendix:
        heading = nbformat.v4.new_markdown_cell(f"## {translate('Appendix', language)}")
        heading.metadata["tags"] = ["appendix-heading"]
        order += [heading, *appendix]
    for cell in order:
        if cell.cell_type == "markdown":
            cell.source = translate_text(cell.source, language)
    arranged.cells = order
    title = next((line for line in order[0].source.splitlines() if line.startswith("# ")), "") if order else ""
    if title:
        arranged.metadata["title"] = title[2:].strip()
    return arranged


def _whole_cell(element):
    """The notebook cell's ``div`` holding ``element`` (a tagged cell or its rendered Markdown), or None."""
    if element is None or "jp-Cell" in element.get("class", []):
        return element
    return element.find_parent("div", class_="jp-Cell")


def _finish_page(html: str, language: str) -> str:
    """The exported page with a table of contents, the summary boxed and the appendix folded."""
    soup = BeautifulSoup(html, features="html.parser")
    headings = soup.find_all("h2")
    if headings:
        toc = soup.new_tag("nav", attrs={"class": "report-toc", "aria-label": translate("Contents", language)})
        title = soup.new_tag("strong")
        title.string = translate("Contents", language)
        toc.append(title)
        listing = soup.new_tag("ul")
        for heading in headings:
            anchor = heading.get("id") or re.sub(r"\W+", "-", heading.get_text()).strip("-")
            if heading.find_parent("div", class_="celltag_appendix-heading") is not None:
                anchor = "appendix"
            heading["id"] = anchor
            item, link = soup.new_tag("li"), soup.new_tag("a", href=f"#{anchor}")
            link.string = heading.get_text().replace("¶", "").strip()
            item.append(link)
            listing.append(item)
        toc.append(listing)
        first = soup.find("h1")
        if first is not None:
            first.find_parent("div", class_="jp-Cell").insert_after(toc)
    heading = _whole_cell(soup.find("div", class_="celltag_appendix-heading"))
    if heading is not None:
        folded = soup.new_tag("details", attrs={"class": "report-appendix", "id": "appendix"})
        label = soup.new_tag("summary")
        label.string = translate("Appendix", language)
        folded.append(label)
        for cell in soup.find_all("div", class_="celltag_appendix"):
            folded.append(_whole_cell(cell).extract())
        heading.replace_with(folded)
    for tagged in soup.find_all("div", class_="celltag_summary"):
        cell = _whole_cell(tagged)
        cell["class"] = [*cell.get("class", []), "report-summary"]
    return str(soup)


def export_report(executed: Path, target: Path, language: str = "en") -> None:
    """Write ``executed`` (an executed study notebook) as the HTML report ``target``, without code."""
    from nbconvert import HTMLExporter

    notebook = arrange_cells(nbformat.read(executed, as_version=4), language)
    exporter = HTMLExporter(
        template_name="analysis_report",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.language_code = language
    resources = {"report_css": report_css(), "figure_alt": translate("Figure", language)}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    target.write_text(_finish_page(body, language), encoding="utf-8")
