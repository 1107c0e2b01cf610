"""Figures as a report shows them: alt text, readable date and log axes, Chinese labels in a CJK font.

:func:`use_report_figures` is called once in a study notebook's first cell.
From then on every figure the notebook shows passes :func:`finish_figure`
before it is drawn:

* its text (titles, axis labels, legend entries) is translated through the
  message catalogue when the report is not in English, and a CJK font
  (Noto Sans CJK, Debian's ``fonts-noto-cjk``) is used;
* date axes get matplotlib's concise date formatter (no overlapping labels);
* log axes get plain labels (``1``, ``10``, ``1,000``, not ``10^3``);
* the image carries an alt text built from the figure's titles and axis
  labels, which the HTML report writes into ``<img alt=...>``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.dates import AutoDateFormatter, AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FuncFormatter, LogFormatter

from analysis.presentation.messages import check_language, translate, translate_text

__all__ = ["CJK_FONTS", "alt_text", "finish_figure", "use_report_figures"]

#: Fonts tried, in order, for Chinese text (Debian's fonts-noto-cjk provides the first).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei")


def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None.

    A font installed after matplotlib cached its font list is found on disk
    and added (the cache is not rebuilt).
    """
    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        for path in font_manager.findSystemFonts():
            if "CJK" in Path(path).name or "wqy" in Path(path).name.lower():
                font_manager.fontManager.addfont(path)
        installed = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in installed), None)
    return found


def alt_text(fig: Figure) -> str:
    """A one-line description of ``fig``: its title, then each panel's title and axes.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set(title="Churn by horizon", xlabel="horizon (days)", ylabel="churn rate")
    >>> alt_text(fig)
    'Churn by horizon: churn rate against horizon (days).'
    >>> plt.close(fig)
    """
    parts = []
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.get_title() or ax.get_xlabel() or ax.get_ylabel()):
            continue
        title, x, y = ax.get_title(), ax.get_xlabel(), ax.get_ylabel()
        axes = f"{y} against {x}" if x and y else (x or y)
        parts.append(f"{title}: {axes}" if title and axes else title or axes)
    text = "; ".join(part for part in parts if part)
    text = f"{suptitle}. {text}" if suptitle and text else suptitle or text
    return (text or "Figure") + "."


def _plain_log_label(value: float, _position: Any) -> str:
    if value <= 0:
        return ""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _translate_texts(fig: Figure, language: str) -> None:
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)
        legend = ax.get_legend()
        if legend is not None:
            texts += [*list(legend.get_texts()), legend.get_title()]
        for axis in (ax.xaxis, ax.yaxis):  # category ticks (a heatmap's tiers and bands)
            formatter = axis.get_major_formatter()
            if isinstance(formatter, FixedFormatter):
                formatter.seq = [translate(str(item), language, "label") for item in formatter.seq]
    for text in texts:
        if text is not None and text.get_text():
            shown = text.get_text()
            found = translate(shown, language, "figure")
            text.set_text(found if found != shown else translate_text(shown, language))


def finish_figure(fig: Figure, language: str = "en") -> Figure:
    """``fig`` ready for a report: translated text, readable date and log axes (changed in place)."""
    check_language(language)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), AutoDateFormatter):
                locator = axis.get_major_locator()
                if not isinstance(locator, AutoDateLocator):
                    locator = AutoDateLocator()
                    axis.set_major_locator(locator)
                axis.set_major_formatter(ConciseDateFormatter(locator))
            if axis.get_scale() == "log" and isinstance(axis.get_major_formatter(), LogFormatter):
                axis.set_major_formatter(FuncFormatter(_plain_log_label))
    if language != "en":
        _translate_texts(fig, language)
    return fig


def _png_with_alt(language: str):
    def render(fig: Figure) -> tuple[bytes, dict[str, str]]:
        finish_figure(fig, language)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight", dpi=mpl.rcParams["figure.dpi"])
        return buffer.getvalue(), {"alt": alt_text(fig)}

    return render


def use_report_figures(language: str = "en") -> None:
    """Show this notebook's figures finished for the report (see the module), in ``language``.

    Outside IPython (a script, a test) it only sets the fonts.
    """
    check_language(language)
    if language == "zh":
        font = cjk_font()
        if font is not None:
            mpl.rcParams["font.sans-serif"] = [font, *mpl.rcParams["font.sans-serif"]]
            mpl.rcParams["font.family"] = "sans-serif"
            mpl.rcParams["axes.unicode_minus"] = False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks' kernel
        return
    shell = get_ipython()
    if shell is None:
        return
    render = _png_with_alt(language)

    def register(*_: Any) -> None:  # matplotlib's inline backend sets its own formatter once it starts
        shell.display_formatter.formatters["image/png"].for_type(Figure, render)

    register()
    shell.events.register("pre_run_cell", register)
    shell.events.register("post_run_cell", register)
