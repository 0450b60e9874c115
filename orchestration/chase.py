"""Chase lists: per agency, the returns of the plan year to chase, ready to send.

Read from ``marts.fct_missing_returns`` of the serving copy (never the warehouse): every
series-quarter whose return was due by the as-of date and was not received, declared
not available, late, partial or rejected, with its due date, days without data and the
mart's reason.  Per agency (the catalogue ``owner``) three files are written to
``<data>/chase/<as-of>/<agency>.{csv,txt,html}``: the list, and a short plain-text and
HTML e-mail body.  Each file is written under a temporary name and renamed over the
old one; files of an agency no longer on the list are removed.

The plan year is the fiscal year of the latest quarter whose return was due by the
as-of date (``marts.dim_fiscal_quarter``); history stays in the mart.

    python -m orchestration.chase [--fiscal-year 2016/17] [--serving data/serving.duckdb]

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

import argparse
import csv
import html
import io
import os
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from catalogue.fiscal import FiscalQuarter
from catalogue.plan_year import plan_year
from orchestration.publish import GROUP, SERVING_KEY, serving_path
from orchestration.resources import WarehouseSettings
from report.cells import safe_text

CHASE_FOLDER = "chase"
COLUMNS = (
    "agency",
    "area_code",
    "measure_id",
    "title",
    "series",
    "fiscal_year",
    "quarter",
    "feed",
    "due_date",
    "received_date",
    "status",
    "days_without_data",
    "reason",
)


@dataclass(frozen=True)
class ChaseList:
    agency: str
    fiscal_year: str
    as_of: date
    rows: list[dict]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.agency.lower()).strip("-") or "agency"


def chase_folder(warehouse: Path | str, as_of: date) -> Path:
    """``chase/<as-of>/`` beside the warehouse file."""
    return Path(warehouse).resolve().parent / CHASE_FOLDER / as_of.isoformat()


def read_chase_lists(
    serving: Path | str, fiscal_year: str | None = None
) -> tuple[date, list[ChaseList]]:
    """The serving copy's as-of date, and one list per agency with something to chase in
    ``fiscal_year`` (default: the plan year of that as-of date), in a stable order."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        as_of = con.execute("select max(as_of) from meta.publication").fetchone()[0]
        if fiscal_year is None:
            fiscal_year = plan_year(con, as_of)
        cursor = con.execute(
            """
            select coalesce(r.owner, '(no owner)') as agency, r.area_code, r.measure_id,
                   m.title, r.series, r.fiscal_year, r.quarter, r.source as feed,
                   r.due_date, r.received_date, r.status, r.days_overdue as days_without_data,
                   coalesce(r.note, replace(r.status, '_', ' ')) as reason
            from marts.fct_missing_returns as r
            left join marts.dim_measure as m
                on m.area_code = r.area_code and m.measure_id = r.measure_id
                and m.series = r.series
            where r.fiscal_year = ?
            order by agency, r.fiscal_year, r.quarter, r.area_code, r.measure_id, r.series
            """,
            [fiscal_year],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    lists: dict[str, list[dict]] = {}
    for row in rows:
        lists.setdefault(row["agency"], []).append(row)
    return as_of, [ChaseList(agency, fiscal_year, as_of, found) for agency, found in lists.items()]


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str):
        return safe_text(value)  # report/cells.py: the one rule
    return "" if value is None else value


def to_csv(chase: ChaseList) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in chase.rows:
        writer.writerow([safe_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def _subject(chase: ChaseList) -> str:
    count = len(chase.rows)
    returns = "return" if count == 1 else "returns"
    return (
        f"Community Safety Partnership: {count} {returns} to follow up for"
        f" {chase.fiscal_year} (as of {chase.as_of:%d %B %Y})"
    )


def _quarter(row: dict) -> str:
    """'2016/17 Q4' (catalogue.fiscal names quarters)."""
    return FiscalQuarter.of(str(row["fiscal_year"]), int(row["quarter"])).label


def _line(row: dict) -> str:
    title = f" {row['title']}" if row["title"] else ""
    received = f", received {row['received_date']}" if row["received_date"] else ""
    return (
        f"{row['measure_id']}{title} ({row['series']}), {_quarter(row)}:"
        f" due {row['due_date']}{received}, {row['days_without_data']} days without data"
        f" - {row['status'].replace('_', ' ')}: {row['reason']}"
    )


INTRO = (
    "These returns for the Community Safety Plan were due by {as_of} and have not reached"
    " the partnership's performance team complete and on time. Please send each missing or"
    " corrected return, or reply saying why a figure cannot be provided."
)


def to_text(chase: ChaseList) -> str:
    lines = [f"Subject: {_subject(chase)}", f"To: {chase.agency}", ""]
    lines += [INTRO.format(as_of=chase.as_of.isoformat()), ""]
    lines += [f"- {_line(row)}" for row in chase.rows]
    lines += ["", "The attached CSV lists the same returns."]
    return "\n".join(lines) + "\n"


def to_html(chase: ChaseList) -> str:
    e = html.escape
    head = "".join(
        f"<th>{e(c)}</th>"
        for c in ("measure", "series", "quarter", "due", "received", "days", "status", "reason")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                f"{row['measure_id']} {row['title'] or ''}".strip(),
                row["series"],
                _quarter(row),
                row["due_date"],
                row["received_date"] or "",
                row["days_without_data"],
                row["status"].replace("_", " "),
                row["reason"],
            )
        )
        + "</tr>\n"
        for row in chase.rows
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(_subject(chase))}</title></head><body>\n"
        f"<p>To: {e(chase.agency)}</p>\n<p>{e(INTRO.format(as_of=chase.as_of.isoformat()))}</p>\n"
        f'<table border="1" cellpadding="4" cellspacing="0">\n<tr>{head}</tr>\n{body}</table>\n'
        "<p>The attached CSV lists the same returns.</p>\n</body></html>\n"
    )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_chase_lists(lists: list[ChaseList], folder: Path) -> list[Path]:
    """Write each agency's csv/txt/html into ``folder``; remove lists no longer due."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chase in lists:
        for suffix, render in ((".csv", to_csv), (".txt", to_text), (".html", to_html)):
            path = folder / f"{chase.slug}{suffix}"
            _write_atomically(path, render(chase))
            written.append(path)
    for stale in folder.iterdir():
        if stale.is_file() and stale not in written and stale.suffix in (".csv", ".txt", ".html"):
            stale.unlink()
    return written


def make_chase_lists(warehouse: Path | str, fiscal_year: str | None = None) -> tuple[Path, list]:
    as_of, lists = read_chase_lists(serving_path(warehouse), fiscal_year)
    folder = chase_folder(warehouse, as_of)
    write_chase_lists(lists, folder)
    return folder, lists


@dg.asset(
    key=["chase_lists"],
    deps=[SERVING_KEY],
    group_name=GROUP,
    kinds={"csv", "html"},
    description="Per agency, the plan year's returns to chase (missing, declared not"
    " available, late, partial, rejected) as CSV and a plain-text/HTML e-mail body, in"
    " chase/<as-of>/ beside the warehouse; read from the serving copy.",
)
def chase_lists(context: dg.AssetExecutionContext, warehouse: WarehouseSettings):
    folder, lists = make_chase_lists(warehouse.settings().warehouse)
    table = "\n".join(f"| {c.agency} | {len(c.rows)} | `{c.slug}.csv` |" for c in lists)
    context.log.info("chase lists for %d agencies in %s", len(lists), folder)
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "agencies": dg.MetadataValue.int(len(lists)),
            "returns_to_chase": dg.MetadataValue.int(sum(len(c.rows) for c in lists)),
            "lists": dg.MetadataValue.md(f"| agency | returns | file |\n|---|---:|---|\n{table}"),
        }
    )


def main(argv: list[str] | None = None) -> int:
    from ingest.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fiscal-year", help="e.g. 2016/17 (default: the current plan year)")
    parser.add_argument("--warehouse", help="default: CSP_WAREHOUSE")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or Settings.from_env().warehouse
    folder, lists = make_chase_lists(warehouse, args.fiscal_year)
    for chase in lists:
        print(f"{chase.agency}: {len(chase.rows)} returns -> {folder / chase.slug}.csv")
    print(f"chase lists in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
