"""The peer panel's ranked "ski-slope" chart: the area and its most similar areas by
rate, highest first, the area's bar highlighted, with the peers' rate and the funnel
limits around it (fct_peer_comparison) as lines.  Inline SVG like report/charts.py.
"""

from __future__ import annotations

import math

import matplotlib
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from report.charts import _RC, _svg

AREA_COLOUR = "#1f4e79"  # our area (dark blue)
PEER_COLOUR = "#bdd7ee"  # the peers (light blue)
MISSING_COLOUR = "#d9d9d9"  # a peer missing a police.uk month (not in the peers' rate)
LIMIT_COLOUR = "#c55a11"


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number


def ranked_rates(peer_rates: pd.DataFrame, area_name: str, area_rate: object) -> pd.DataFrame:
    """The peers' and the area's rates, highest first (``is_area`` marks ours)."""
    rows = [
        {
            "name": str(r.area_name),
            "rate": _number(r.rate_per_1000),
            "complete": bool(r.is_complete),
            "is_area": False,
        }
        for r in peer_rates.itertuples()
    ]
    rows.append({"name": area_name, "rate": _number(area_rate), "complete": True, "is_area": True})
    frame = pd.DataFrame(rows)
    frame["sort"] = frame["rate"].fillna(-1.0)
    return frame.sort_values(["sort", "name"], ascending=[False, True]).reset_index(drop=True)


def peer_svg(
    peer_rates: pd.DataFrame,
    area_name: str,
    comparison,
    *,
    chart_id: str,
    width: float = 3.6,  # a third of the A4 landscape page, about 23 mm high in print
    height: float = 1.0,
) -> str:
    """One series' ski-slope: bars per area, ranked, ours dark; peers' rate solid line,
    99.8 % funnel limits dashed."""
    ranked = ranked_rates(peer_rates, area_name, comparison.rate_per_1000)
    colours = [
        AREA_COLOUR if a else (PEER_COLOUR if c else MISSING_COLOUR)
        for a, c in zip(ranked["is_area"], ranked["complete"], strict=True)
    ]
    heights = [0.0 if math.isnan(v) else v for v in ranked["rate"]]
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((0.1, 0.06, 0.88, 0.78))
        xs = list(range(len(ranked)))
        axes.bar(xs, heights, color=colours, width=0.8, linewidth=0)
        lines = [
            (comparison.peer_weighted_rate, "-", "peers' rate"),
            (comparison.upper_998, "--", "99.8% limits"),
            (comparison.lower_998, "--", None),
        ]
        for value, style, label in lines:
            number = _number(value)
            if not math.isnan(number):
                axes.axhline(
                    number, color=LIMIT_COLOUR, linestyle=style, linewidth=0.8, label=label
                )
        area_x = int(ranked.index[ranked["is_area"]][0])
        axes.annotate(
            area_name,
            (area_x, heights[area_x]),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=6,
            color=AREA_COLOUR,
            fontweight="bold",
        )
        axes.set_xticks([])
        axes.set_xlim(-0.7, len(ranked) - 0.3)
        top = max([h for h in heights if h] + [_number(comparison.upper_998)], default=1.0)
        axes.set_ylim(0, (top if not math.isnan(top) else max(heights, default=1.0)) * 1.2 or 1.0)
        axes.yaxis.set_major_locator(ticker.MaxNLocator(4))
        axes.tick_params(axis="y", labelsize=6)
        axes.set_ylabel("per 1,000", fontsize=6)
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=5.5,
            frameon=False,
            ncol=2,
            borderaxespad=0.1,
        )
    return _svg(
        figure,
        chart_id.replace(".", "_").replace(" ", "-"),
        f"Ranked rates: {area_name} and its peers",
    )
