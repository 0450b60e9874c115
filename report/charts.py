"""Charts as inline SVG (matplotlib, object API: no pyplot state, no GUI backend).

Each chart is a self-contained ``<svg>`` element: text stays text (``svg.fonttype:
none``), ids are salted per chart so that many charts can share one page, and no
creation date is written, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence

import matplotlib
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from catalogue import statuses
from report.suppression import BOROUGH, Level, suppress

VALUE_COLOUR = "#1f4e79"  # the series line (dark blue)
TARGET_COLOUR = "#c55a11"  # the baseline / target (dark orange), dashed
GAP_COLOUR = "#d9d9d9"  # quarters without a usable figure
RAG_COLOURS = {"Green": "#2e7d32", "Amber": "#f0a30a", "Red": "#c62828", "Grey": "#8c8c8c"}

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#7f7f7f",
    "axes.linewidth": 0.6,
    "xtick.major.size": 2,
    "ytick.major.size": 2,
    "xtick.color": "#404040",
    "ytick.color": "#404040",
}


def _svg(figure: Figure, chart_id: str, label: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": chart_id}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, transparent=False)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    aria = (
        f'<svg role="img" aria-label="{_escape(label)}" class="chart"'
        f' data-chart="{_escape(chart_id)}"'
    )
    return text.replace("<svg", aria, 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _quarter_labels(points: pd.DataFrame) -> list[str]:
    labels = []
    for fiscal_year, quarter in zip(points["fiscal_year"], points["quarter"], strict=True):
        labels.append(f"Q{quarter}\n{fiscal_year}" if quarter == 1 else f"Q{quarter}")
    return labels


def plotted_values(points: pd.DataFrame, unit: str, level: Level) -> list[float]:
    """Usable values, NaN for gaps and for figures small-number suppression hides."""
    values = []
    for value, denominator, status in zip(
        points["value"], points["denominator"], points["data_status"], strict=True
    ):
        shown = suppress(value, level=level, unit=unit, denominator=denominator)
        usable = (
            status in statuses.usable() and isinstance(shown, int | float) and not pd.isna(shown)
        )
        values.append(float(shown) if usable else math.nan)
    return values


def target_line(points: pd.DataFrame, ytd_method: str) -> tuple[list[float], str]:
    """The baseline or target per quarter, and its legend label ('' when none).

    A target on the year's total (counts summed over the year) is drawn as its
    quarterly share (baseline / 4); a rate's, or a rolling figure's, as it stands.
    """
    if "target_value" not in points or points["target_value"].isna().all():
        return [math.nan] * len(points), ""
    per_quarter = ytd_method == "sum"
    values = [
        (float(v) / 4 if per_quarter else float(v)) if not pd.isna(v) else math.nan
        for v in points["target_value"]
    ]
    rules = set(points.get("target_rule", pd.Series(dtype=str)).dropna())
    word = "target" if rules == {"at_least_target"} else "baseline"
    return values, (f"{word} \N{DIVISION SIGN} 4" if per_quarter else word)


def trend_svg(
    points: pd.DataFrame,
    *,
    unit: str,
    ytd_method: str,
    chart_id: str,
    title: str,
    level: Level = BOROUGH,
    width: float = 3.3,
    height: float = 1.45,
) -> str:
    """Quarterly values of one series with its baseline or target, as an ``<svg>``."""
    points = points.sort_values(["fiscal_year", "quarter"]).reset_index(drop=True)
    values = plotted_values(points, unit, level)
    target, target_label = target_line(points, ytd_method)
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0.13, 0.26, 0.85, 0.6))
        xs = list(range(len(points)))
        _draw_gaps(axes, xs, values)
        if target_label:
            axes.step(
                xs,
                target,
                where="mid",
                color=TARGET_COLOUR,
                linestyle=(0, (3, 2)),
                linewidth=1.1,
                label=target_label,
            )
        axes.plot(
            xs,
            values,
            color=VALUE_COLOUR,
            linewidth=1.6,
            marker="o",
            markersize=2.6,
            label="quarter",
            solid_capstyle="round",
        )
        if xs and not math.isnan(values[-1]):
            axes.plot(
                [xs[-1]],
                [values[-1]],
                marker="o",
                markersize=5,
                color=VALUE_COLOUR,
                markeredgecolor="white",
                markeredgewidth=0.8,
                linestyle="none",
            )
        _axes_style(axes, points, values + target, unit)
        if target_label:
            axes.legend(
                loc="lower left",
                bbox_to_anchor=(0.0, 1.0),
                fontsize=6,
                frameon=False,
                ncol=2,
                handlelength=1.8,
                borderaxespad=0.1,
            )
    return _svg(figure, chart_id, f"Trend of {title}")


def _draw_gaps(axes, xs: Sequence[int], values: Sequence[float]) -> None:
    for x, value in zip(xs, values, strict=True):
        if math.isnan(value):
            axes.axvspan(x - 0.45, x + 0.45, color=GAP_COLOUR, alpha=0.6, linewidth=0)


def _axes_style(axes, points: pd.DataFrame, plotted: Sequence[float], unit: str) -> None:
    finite = [v for v in plotted if not math.isnan(v)]
    top = max(finite) if finite else 1.0
    axes.set_ylim(0, (100.0 if unit == "percent" and top > 60 else top * 1.25) or 1.0)
    axes.set_xlim(-0.6, len(points) - 0.4)
    axes.set_xticks(range(len(points)), _quarter_labels(points), fontsize=5.5)
    axes.tick_params(axis="y", labelsize=6)
    if unit == "percent":
        axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    else:
        axes.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.yaxis.set_major_locator(ticker.MaxNLocator(4, integer=unit != "percent"))
    axes.grid(axis="y", color="#e6e6e6", linewidth=0.5)
    axes.set_axisbelow(True)
    if not finite:
        axes.text(
            0.5,
            0.5,
            "no usable figures",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color="#7f7f7f",
            fontsize=7,
        )


def rag_summary_svg(counts_by_theme: Mapping[str, Mapping[str, int]], chart_id: str = "rag") -> str:
    """Stacked bars: series per theme by RAG, each segment labelled with its count."""
    themes = list(counts_by_theme)
    with matplotlib.rc_context(_RC):
        height = 0.3 * len(themes) + 0.8
        figure = Figure(figsize=(6.2, height))
        axes = figure.add_axes((0.3, 0.45 / height, 0.68, 1 - 0.8 / height))
        lefts = [0] * len(themes)
        for rag, colour in RAG_COLOURS.items():
            widths = [counts_by_theme[t].get(rag, 0) for t in themes]
            bars = axes.barh(
                themes,
                widths,
                left=lefts,
                color=colour,
                label=rag,
                height=0.62,
                edgecolor="white",
                linewidth=0.6,
            )
            for bar, width in zip(bars, widths, strict=True):
                if width:
                    axes.text(
                        bar.get_x() + width / 2,
                        bar.get_y() + bar.get_height() / 2,
                        str(width),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="black" if rag == "Amber" else "white",
                        fontweight="bold",
                    )
            lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
        axes.invert_yaxis()
        axes.set_xlabel("series", fontsize=7)
        axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes.tick_params(axis="y", labelsize=7, length=0)
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=4,
            fontsize=7,
            frameon=False,
            borderaxespad=0.2,
        )
    return _svg(figure, chart_id, "Series by RAG rating and theme")
