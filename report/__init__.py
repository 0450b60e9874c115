"""The quarterly performance report, rendered from the marts (no Dagster here).

    data = build_report("data/serving.duckdb", "2016/17", 4)
    html = render_html(data)                       # one self-contained page
    render_xlsx(data, "report.xlsx")               # the same table as a workbook
    files = write_report(data, Path("data/reports"))  # both, into reports/2016-17-Q4/

See docs/report.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from catalogue.fiscal import FiscalQuarter
from report.data import ReportData, ReportDataError, build_report, report_areas
from report.html import render_html
from report.publish import publish_folder
from report.quarters import latest_complete_quarter
from report.views import ReportViews, build_views
from report.xlsx import render_xlsx

REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path
    views: ReportViews  # what both files print (built once, for both)


def report_folder(data_folder: Path, quarter: FiscalQuarter) -> Path:
    """``<data>/reports/2016-17-Q4``."""
    return Path(data_folder) / REPORTS_FOLDER / quarter.slug


def report_stem(quarter: FiscalQuarter, area_code: str | None = None) -> str:
    stem = f"csp-performance-{quarter.slug}"
    return f"{stem}-{area_code}" if area_code else stem


def write_report(
    data: ReportData,
    data_folder: Path,
    *,
    with_area_suffix: bool = False,
    generated_at: datetime | None = None,
) -> ReportFiles:
    """Write the HTML page and the workbook into ``<data_folder>/reports/<yyyy-yy>-Q<n>/``.

    Both are published as one (:func:`report.publish.publish_folder`): a
    reader sees the old pair or the new pair, never one file of each build, and never
    half a file.
    """
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    folder = report_folder(data_folder, data.quarter)
    stem = report_stem(data.quarter, data.area_code if with_area_suffix else None)
    views = build_views(data)
    page = render_html(data, generated_at, views)

    def write(build: Path) -> None:
        (build / f"{stem}.html").write_text(page, encoding="utf-8")
        render_xlsx(data, build / f"{stem}.xlsx", generated_at, views)

    publish_folder(folder, write)
    return ReportFiles(folder, folder / f"{stem}.html", folder / f"{stem}.xlsx", views)


__all__ = [
    "FiscalQuarter",
    "ReportData",
    "ReportDataError",
    "ReportFiles",
    "ReportViews",
    "build_report",
    "build_views",
    "latest_complete_quarter",
    "render_html",
    "render_xlsx",
    "report_areas",
    "report_folder",
    "write_report",
]
