"""Where a figure came from: file -> raw rows -> staging -> intermediate -> mart -> report.

    make trace MEASURE=1.3 QUARTER=2016-17-Q4 [SERIES=total] [AREA=E06000004]
    python -m orchestration.trace 1.3 2016-17-Q4

Reads only: the warehouse (read-only), the serving copy, the dbt manifest and the
quarter's report workbook.  The path is found in the dbt lineage, not written here:
the models between the measure's source feed (``raw.<feed>``, from
``marts.dim_measure.source``) and ``marts.fct_measure_quarter`` that keep the
ledger's ``load_id``.  The deepest of them, filtered to the area and quarter, names the
loads the figure was counted from; each step prints its rows from those loads.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.config import Settings
from ingest.warehouse_file import open_warehouse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
MART = "model.csp_warehouse.fct_measure_quarter"
QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")


class TraceError(Exception):
    """The figure cannot be traced: says why."""


@dataclass(frozen=True)
class Quarter:
    fiscal_year: str  # '2016/17'
    quarter: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = QUARTER.match(text.strip())
        if not match:
            raise TraceError(f"QUARTER={text!r}: expected a fiscal quarter like 2016-17-Q4")
        return cls(f"{match[1]}/{match[2]}", int(match[3]))

    @property
    def label(self) -> str:
        return f"{self.fiscal_year} Q{self.quarter}"

    @property
    def key(self) -> str:
        return f"{self.fiscal_year.replace('/', '-')}-Q{self.quarter}"


def lineage_models(manifest: dict, feed: str) -> list[dict]:
    """The models on a path from source ``raw.<feed>`` to the mart, upstream first."""
    sources = [
        uid
        for uid, node in manifest["sources"].items()
        if node["source_name"] == "raw" and node["name"] == feed
    ]
    if not sources:
        raise TraceError(f"feed {feed!r} is not a dbt source")
    below, queue = set(), list(sources)
    while queue:
        for child in manifest["child_map"].get(queue.pop(), []):
            if child.startswith("model.") and child not in below:
                below.add(child)
                queue.append(child)
    above, queue = set(), [MART]
    while queue:
        for parent in manifest["parent_map"].get(queue.pop(), []):
            if parent not in above:
                above.add(parent)
                queue.append(parent)
    nodes = [manifest["nodes"][uid] for uid in below & above]
    depth: dict[str, int] = {}

    def level(uid: str) -> int:
        if uid not in depth:
            parents = [p for p in manifest["parent_map"].get(uid, []) if p in below]
            depth[uid] = 1 + max((level(p) for p in parents), default=0)
        return depth[uid]

    return sorted(nodes, key=lambda n: (level(n["unique_id"]), n["name"]))


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def trace(
    settings: Settings, measure: str, quarter: Quarter, series: str | None = None
) -> list[str]:
    """The chain for one figure, as lines to print."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    area = settings.area_code
    con = open_warehouse(settings.warehouse, read_only=True)
    try:
        found = con.execute(
            "select f.series, f.value, f.data_status, d.source, d.title"
            " from marts.fct_measure_quarter as f join marts.dim_measure as d"
            " using (area_code, measure_id, series)"
            " where f.area_code = ? and f.measure_id = ? and f.fiscal_year = ? and f.quarter = ?"
            " and (? is null or f.series = ?) order by f.series",
            [area, measure, quarter.fiscal_year, quarter.quarter, series, series],
        ).fetchall()
        if not found:
            raise TraceError(f"no figure {measure} {series or ''} {quarter.label} for {area}")
        if len(found) > 1:
            names = ", ".join(row[0] for row in found)
            raise TraceError(f"measure {measure} has several series ({names}): give SERIES=")
        series, value, status, feed, title = found[0]
        lines = [f"{measure} {series} {quarter.label} ({area}): {title}; source feed {feed}"]
        lines += _chain(con, manifest, feed, area, quarter)
        lines.append(f"mart      marts.fct_measure_quarter: {_number(value)} ({status})")
    finally:
        con.close()
    lines += _published(settings, measure, series, quarter)
    return lines


def _chain(con, manifest: dict, feed: str, area: str, quarter: Quarter) -> list[str]:
    steps = []
    for node in lineage_models(manifest, feed):
        schema, table = node["schema"], node.get("alias") or node["name"]
        columns = _columns(con, schema, table)
        if "load_id" in columns:
            steps.append((node, schema, table, columns))
    scoped = [s for s in steps if {"fiscal_year", "quarter", "area_code"} <= s[3]]
    if not scoped:
        return [f"(no model from raw.{feed} keeps its load ids: lineage stops at the mart)"]
    _, schema, table, _ = scoped[-1]
    loads = [
        row[0]
        for row in con.execute(
            f'select distinct load_id from {schema}."{table}"'
            " where area_code = ? and fiscal_year = ? and quarter = ? order by load_id",
            [area, quarter.fiscal_year, quarter.quarter],
        ).fetchall()
    ]
    if not loads:
        return [f"(no rows of raw.{feed} in {area} {quarter.label})"]
    lines = []
    files = con.execute(
        "select load_id, file_name, cast(received_at as date), rows_loaded from raw.load_log"
        " where load_id in (select unnest(?)) order by load_id",
        [loads],
    ).fetchall()
    raw = dict(
        con.execute(
            f"select _load_id, count(*) from raw.{feed} where _load_id in (select unnest(?))"
            " group by all",
            [loads],
        ).fetchall()
    )
    for load_id, name, received, _rows in files:
        lines.append(
            f"file      {name} (load {load_id}, received {received}):"
            f" {raw.get(load_id, 0):,} rows in raw.{feed}"
        )
    for _node, schema, table, columns in steps:
        where = "load_id in (select unnest($loads))"
        if {"fiscal_year", "quarter", "area_code"} <= columns:
            where += " and area_code = $area and fiscal_year = $fy and quarter = $q"
        total = "sum(record_count)" if "record_count" in columns else "count(*)"
        params = {"loads": loads, "area": area, "fy": quarter.fiscal_year, "q": quarter.quarter}
        used = {k: v for k, v in params.items() if f"${k}" in where}
        rows, counted = con.execute(
            f'select count(*), {total} from {schema}."{table}" where {where}', used
        ).fetchone()
        layer = "staging" if schema == "staging" else "inter."
        counted_text = f", counting {_number(counted)}" if total != "count(*)" else ""
        lines.append(f"{layer:<9} {schema}.{table}: {rows:,} rows{counted_text}")
    return lines


def _published(settings: Settings, measure: str, series: str, quarter: Quarter) -> list[str]:
    from orchestration.publish import serving_path

    lines = []
    serving = serving_path(settings.warehouse)
    if serving.exists():
        con = duckdb.connect(str(serving), read_only=True)
        try:
            row = con.execute(
                "select value from marts.fct_measure_quarter where area_code = ?"
                " and measure_id = ? and series = ? and fiscal_year = ? and quarter = ?",
                [settings.area_code, measure, series, quarter.fiscal_year, quarter.quarter],
            ).fetchone()
        finally:
            con.close()
        lines.append(f"serving   {serving}: {_number(row[0]) if row else 'not published'}")
    workbook = (
        Path(settings.warehouse).resolve().parent
        / "reports"
        / quarter.key
        / f"csp-performance-{quarter.key}.xlsx"
    )
    if workbook.exists():
        lines.append(_report_cell(workbook, measure, series))
    return lines


def _report_cell(workbook: Path, measure: str, series: str) -> str:
    import openpyxl

    book = openpyxl.load_workbook(workbook, read_only=True)
    try:
        sheet = book["Report"]
        column = None
        for row in sheet.iter_rows():
            values = [cell.value for cell in row]
            if column is None and "This quarter" in values:
                column = values.index("This quarter")
            elif column is not None and values[:2] == [measure, series]:
                cell = row[column]
                return f"report    {workbook} sheet Report {cell.coordinate}: {_number(cell.value)}"
    finally:
        book.close()
    return f"report    {workbook}: no row for {measure} {series}"


def _number(value) -> str:
    if value is None:
        return "no figure"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measure", help="measure id, e.g. 1.3")
    parser.add_argument("quarter", help="fiscal quarter, e.g. 2016-17-Q4")
    parser.add_argument("--series", help="series, when the measure has several")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        lines = trace(settings, args.measure, Quarter.parse(args.quarter), args.series)
    except TraceError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
