"""The HTML report in a real browser: headless Chromium draws it, charts and all.

Chromium loads the page from disk with networking off, and
- its screenshot shows the trend lines, the baselines and the RAG colours;
- its DOM holds every chart as an SVG element with drawn paths;
- printing it gives A4 landscape pages.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped without it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from report.charts import RAG_COLOURS, TARGET_COLOUR, VALUE_COLOUR
from tests.test_report import SampleReport, sample_report

pytestmark = pytest.mark.browser

SERIES = 29
WINDOW = (1200, 8400)  # the page is 297 mm wide; tall enough for every chart
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
A4_LANDSCAPE_POINTS = (841.92, 594.96)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("needs headless Chromium: apt-get install chromium (Debian)")
    return found


def run_chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    chromium()  # skip before building anything
    return sample_report(tmp_path_factory)


def rgb(png: Path) -> np.ndarray:
    """The screenshot as int16 RGB (0-255)."""
    picture = image.imread(png)[..., :3]
    scaled = picture * 255 if picture.dtype.kind == "f" else picture
    return np.rint(scaled).astype(np.int16)


def pixels_like(picture: np.ndarray, colour: str, tolerance: int = 40) -> int:
    """Pixels within ``tolerance`` (per channel, 0-255) of ``colour``."""
    wanted = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return int((np.abs(picture - wanted) <= tolerance).all(axis=-1).sum())


def test_screenshot_shows_the_charts_and_rag_colours(report: SampleReport, tmp_path: Path):
    png = tmp_path / "report.png"
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    run_chromium(tmp_path / "profile", f"--screenshot={png}", size, report.html.as_uri())
    assert png.exists() and png.stat().st_size > 50_000
    picture = rgb(png)
    assert picture.shape[:2] == (WINDOW[1], WINDOW[0])
    # the blue series line of 29 charts: a few hundred pixels each at least
    assert pixels_like(picture, VALUE_COLOUR, tolerance=30) > SERIES * 150
    assert pixels_like(picture, TARGET_COLOUR, tolerance=30) > 12 * 40  # dashed baselines
    for rag in ("Green", "Amber", "Red", "Grey"):  # coloured RAG cells (and the summary)
        assert pixels_like(picture, RAG_COLOURS[rag], tolerance=12) > 1_000, rag
    shutil.copy(png, report.html.with_suffix(".png"))  # kept beside the report to look at


def test_dom_holds_every_chart_with_its_paths(report: SampleReport, tmp_path: Path):
    dom = run_chromium(tmp_path / "profile", "--dump-dom", report.html.as_uri()).stdout
    charts = re.findall(r'<svg[^>]*class="chart"[^>]*>(.*?)</svg>', dom, flags=re.S)
    assert len(charts) == SERIES + 1  # every series, and the RAG summary
    for chart in charts:
        paths = re.findall(r'<path[^>]* d="([^"]+)"', chart)
        assert paths and all(len(d) > 10 for d in paths)
    series_lines = [c for c in charts if f"stroke: {VALUE_COLOUR}" in c]
    assert len(series_lines) == SERIES
    assert dom.count('data-series="') == SERIES


def test_prints_on_a4_landscape(report: SampleReport, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    run_chromium(
        tmp_path / "profile",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        report.html.as_uri(),
    )
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert len(boxes) >= 5  # several pages
    for width, height in boxes:
        assert (round(float(width)), round(float(height))) == tuple(
            round(v) for v in A4_LANDSCAPE_POINTS
        )


MAX_PAGES = 8  # issue 13: the board report of 2016/17 Q4 on at most 8 A4 landscape pages


def test_the_sample_report_prints_on_at_most_eight_pages(report: SampleReport, tmp_path: Path):
    """Chromium's own print of the sample's 2016/17 Q4 report: at most 8 A4 landscape
    pages, every series row (figures, commentary and chart) on one page."""
    pdf = tmp_path / "report.pdf"
    run_chromium(
        tmp_path / "profile",
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
        report.html.as_uri(),
    )
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert 5 <= len(pages) <= MAX_PAGES, f"{len(pages)} pages"
    assert "tbody.series { break-inside: avoid; }" in report.text  # no row split across pages
