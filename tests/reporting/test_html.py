"""The HTML reports of an English and a Chinese run, opened in headless Chromium as a reader would.

Chromium is Debian's package and the CJK font Debian's ``fonts-noto-cjk``
(both installed by .ci/run); Playwright drives the browser. Screenshots of
every page are kept under reports/_test_artifacts/ (git-ignored) for a
person to look at.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from analysis.cli import main
from analysis.presentation.figures import cjk_font
from report_text import english_left, visible_text

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "_test_artifacts"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "b2b" / "sources.yaml"
#: The one report whose Chinese catalogue has not landed yet (issue 16): checked last, expected to fail.
CATALOGUE_PENDING = "02_churn_signals.html"
PAGES = ("summary.html", "01_grading_thresholds.html", "02_churn_signals.html", "03_value_tiers.html")

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency (make test)")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]

#: Per page: console errors, images (loaded, alt text), tables wider than their box with no scroll box, links.
INSPECT = """() => ({
  images: Array.from(document.images).map(i => ({loaded: i.complete && i.naturalWidth > 0, alt: i.alt || ""})),
  uncontained: Array.from(document.querySelectorAll('table')).filter(t => {
      const box = t.closest('.report-table-scroll');
      const scrolls = box && getComputedStyle(box).overflowX === 'auto';
      const width = (box || t.parentElement).clientWidth;
      return t.scrollWidth > width + 1 && !scrolls;
  }).length,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
      .filter(h => !h.startsWith('#') && !h.startsWith('http')),
  title: document.title,
})"""


def _run(tmp_path: Path, name: str, *extra: str) -> Path:
    assert main(["run", "--reports", str(tmp_path), "--name", name, *extra]) == 0
    return tmp_path / name


def _inspect(folder: Path, language: str) -> dict[str, dict]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found = {}
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for page_name in PAGES:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors: list[str] = []
                page.on(
                    "console",
                    lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None,
                )
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                page.goto((folder / page_name).resolve().as_uri())
                page.wait_for_load_state("load")
                facts = page.evaluate(INSPECT) | {"errors": errors}
                page.screenshot(path=str(ARTIFACTS / f"{language}_{Path(page_name).stem}.png"), full_page=True)
                if page_name != "summary.html":
                    page.emulate_media(media="print")
                    facts["print_uncontained"] = page.evaluate(INSPECT)["uncontained"]
                found[page_name] = facts
                page.close()
        finally:
            browser.close()
    return found


def _check_pages(folder: Path, found: dict[str, dict]) -> None:
    for page_name, facts in found.items():
        assert facts["errors"] == [], (page_name, facts["errors"])
        assert all(image["loaded"] for image in facts["images"]), page_name
        assert all(image["alt"] for image in facts["images"]), page_name
        assert facts["uncontained"] == 0, page_name
        for link in facts["links"]:
            assert (folder / link).exists(), (page_name, link)
    summary = found["summary.html"]["links"]
    for page_name in PAGES[1:]:
        assert page_name in summary  # the summary links every report
        assert len(found[page_name]["images"]) >= 3  # the figures are drawn
    assert "02_churn_signals" not in found["02_churn_signals.html"]["title"]  # a title, not a file name


def test_an_english_run_reads_as_a_report_in_the_browser(tmp_path):
    folder = _run(tmp_path, "en")
    found = _inspect(folder, "en")
    _check_pages(folder, found)
    text = " ".join(visible_text((folder / "01_grading_thresholds.html").read_text(encoding="utf-8")).split())
    assert text.index("Findings") < text.index("Share of value held by the top customers")  # findings first
    assert text.index("Parameters of this run") > text.index("Recommendation")  # the appendix last
    assert "GradingParameters(" not in text and ".partial" not in text  # no dataclass repr, no staging path
    assert "e+0" not in text  # no scientific notation


@pytest.mark.skipif(cjk_font() is None, reason="no CJK font (Debian's fonts-noto-cjk; .ci/run installs it)")
def test_a_chinese_run_of_the_b2b_export_is_chinese_throughout(tmp_path):
    folder = _run(tmp_path, "zh", "--data", str(FIXTURE), "--currency", "CNY", "--language", "zh")
    found = _inspect(folder, "zh")
    _check_pages(folder, found)
    for page_name in PAGES:
        if page_name != CATALOGUE_PENDING:
            assert english_left(folder / page_name) == [], page_name
    # every figure was drawn with a font that has its glyphs (matplotlib warns of a missing glyph)
    for notebook in sorted(folder.glob("0*.ipynb")):
        outputs = [o for cell in nbformat.read(notebook, as_version=4).cells for o in cell.get("outputs", [])]
        assert not any("missing from font" in str(o.get("text", "")) for o in outputs), notebook.name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert all(study["parameters"]["language"] == "zh" for study in manifest["studies"].values())
    left = english_left(folder / CATALOGUE_PENDING)
    if left:  # the last check: every other page and figure has been checked above
        pytest.xfail(f"{CATALOGUE_PENDING}: its catalogue (locale/zh/churn.po) is not complete ({len(left)} left)")
