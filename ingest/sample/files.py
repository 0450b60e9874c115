"""Writing landing files: CSV and reproducible XLSX, each stamped with its delivery time."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from ingest.feeds import FEEDS

# --------------------------------------------------------------------------------------
# Writing files


def reproducible_xlsx(workbook: Workbook, stamp: datetime) -> bytes:
    """openpyxl stamps 'now' into the zip entries and docProps/core.xml: pin both."""
    workbook.properties.created = stamp.replace(tzinfo=None)
    raw = io.BytesIO()
    workbook.save(raw)
    out = io.BytesIO()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            dst.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass
class Landing:
    """Writes files into the landing folder, stamps their delivery time, counts rows."""

    root: Path
    summary: dict[str, dict[str, int]] = field(default_factory=dict)

    def _path(self, feed: str, name: str, rows: int) -> Path:
        if feed not in FEEDS:
            raise KeyError(f"{feed} is not a feed of ingest.feeds")
        folder = self.root / feed
        folder.mkdir(parents=True, exist_ok=True)
        tally = self.summary.setdefault(feed, {"files": 0, "rows": 0})
        tally["files"] += 1
        tally["rows"] += rows
        return folder / name

    def csv(
        self,
        feed: str,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        when: datetime,
        encoding: str = "utf-8",
        newline: str = "\r\n",
    ) -> Path:
        path = self._path(feed, name, len(rows))
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh, lineterminator=newline)
            writer.writerow(header)
            writer.writerows(rows)
        _stamp(path, when)
        return path

    def xlsx(
        self,
        feed: str,
        name: str,
        title: str,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        when: datetime,
    ) -> Path:
        """A workbook as agencies send them: a title row and a blank row above the header."""
        path = self._path(feed, name, len(rows))
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Requests"
        sheet.append([title])
        sheet.append([])
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        for (cell,) in sheet.iter_rows(min_row=4, min_col=2, max_col=2):
            cell.number_format = "DD/MM/YYYY"
        path.write_bytes(reproducible_xlsx(workbook, when))
        _stamp(path, when)
        return path

    def copy(self, feed: str, source: Path, name: str, when: datetime) -> Path:
        """A second delivery of an identical file under another name (its rows count)."""
        with source.open("rb") as fh:
            rows = sum(1 for _ in fh) - 1
        path = self._path(feed, name, rows)
        shutil.copyfile(source, path)
        _stamp(path, when)
        return path


def _stamp(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def month_groups(records: Iterable, day_of) -> dict[date, list]:
    months: dict[date, list] = {}
    for record in records:
        day = day_of(record)
        months.setdefault(date(day.year, day.month, 1), []).append(record)
    return months
