"""The quarterly performance report, rendered from the marts (no Dagster here).

    data = build_report("data/serving.duckdb", "2016/17", 4)
    html = render_html(data)                       # one self-contained page
    render_xlsx(data, "report.xlsx")               # the same table as a workbook
    files = write_report(data, Path("data/reports"))  # both, into reports/2016-17-Q4/

See docs/report.md.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from orchestration.report.data import ReportData, ReportDataError, build_report, report_areas
from orchestration.report.html import render_html
from orchestration.report.quarters import FiscalQuarter, latest_complete_quarter
from orchestration.report.xlsx import render_xlsx

REPORTS_FOLDER = "reports"


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    html: Path
    xlsx: Path


def report_folder(data_folder: Path, quarter: FiscalQuarter) -> Path:
    """``<data>/reports/2016-17-Q4``."""
    return Path(data_folder) / REPORTS_FOLDER / quarter.slug


def report_stem(quarter: FiscalQuarter, area_code: str | None = None) -> str:
    stem = f"csp-performance-{quarter.slug}"
    return f"{stem}-{area_code}" if area_code else stem


def _replace_atomically(path: Path, write) -> Path:
    """Write through a temporary name in the same folder, then rename over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_report(
    data: ReportData,
    data_folder: Path,
    *,
    with_area_suffix: bool = False,
    generated_at: datetime | None = None,
) -> ReportFiles:
    """Write the HTML page and the workbook into ``<data_folder>/reports/<yyyy-yy>-Q<n>/``.

    Each file is written under a temporary name and renamed into place, so a reader
    never sees half a report.
    """
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    folder = report_folder(data_folder, data.quarter)
    folder.mkdir(parents=True, exist_ok=True)
    stem = report_stem(data.quarter, data.area_code if with_area_suffix else None)
    page = render_html(data, generated_at)
    html = _replace_atomically(
        folder / f"{stem}.html", lambda p: p.write_text(page, encoding="utf-8")
    )
    xlsx = _replace_atomically(
        folder / f"{stem}.xlsx", lambda p: render_xlsx(data, p, generated_at)
    )
    return ReportFiles(folder, html, xlsx)


__all__ = [
    "FiscalQuarter",
    "ReportData",
    "ReportDataError",
    "ReportFiles",
    "build_report",
    "latest_complete_quarter",
    "render_html",
    "render_xlsx",
    "report_areas",
    "report_folder",
    "write_report",
]
