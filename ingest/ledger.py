"""The ledger, ``raw.load_log``: one row for every file seen in the landing folder.

Its rules live here and nowhere else:

- a file is *unchanged* (not read again, not even hashed) when the ledger holds it
  under the same name, size and modification time (:func:`known_files`);
- a file whose sha256 the ledger already holds under another name is a *duplicate*
  (:func:`loads_of_digest`);
- latest delivery wins: a load with the same feed, period and scope as a later load
  with rows is *superseded* by it (:func:`supersede`);
- a *rejected* file's row carries the period and scope read leniently from the file
  when they can be read (:func:`read_period`), so the rejection costs only the series
  of that feed, period and scope (``int_ingest__rejected_deliveries`` in dbt says
  which rejections are outstanding);
- load ids come from one sequence, so ``max(load_id)`` is the ledger's high-water mark
  (:func:`last_load_id`), which the nightly skip, the build fingerprint and ``make
  run``'s summary compare.

Statuses: loaded | duplicate | superseded | rejected (and ``unchanged``, which is
reported but never written).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from catalogue.fiscal import sql_quarter_end, sql_quarter_start
from ingest.errors import IngestError
from ingest.feeds import FEEDS, Feed
from ingest.readers import quote_ident, staged_file
from ingest.validate import typed_expr
from ingest.warehouse_file import open_warehouse

log = logging.getLogger("csp.ingest")

NEXT_LOAD_ID = "select nextval('raw.load_id_seq')"


@dataclass
class FileResult:
    feed: str | None
    file_name: str
    status: str  # loaded | duplicate | superseded | rejected | unchanged
    rows_loaded: int = 0
    rows_outside_area: int = 0
    period_start: date | None = None
    period_end: date | None = None
    error: str | None = None
    load_id: int | None = None
    notes: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def size_and_time(path: Path) -> tuple[int, datetime]:
    """A file's size and modification time as the ledger records them."""
    stat = path.stat()
    return stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)


def now() -> datetime:
    """``loaded_at`` of a load: UTC, without a time zone (as the ledger stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    sha: str,
    path: Path,
    *,
    rows_read: int | None = None,
    scope: str | None = None,
    loaded_at: datetime | None = None,
) -> int:
    """Write ``result``'s ledger row (under its load id, else the next one); -> load id.

    A rejected file of a feed gets the period and scope read from it, when they can be.
    """
    load_id = result.load_id or next_load_id(con)
    if result.status == "rejected" and result.feed in FEEDS and result.period_start is None:
        period, read_scope = read_period(path, FEEDS[result.feed], result.file_name)
        if period is not None:
            result.period_start, result.period_end = period
        scope = scope or read_scope
    size, received = size_and_time(path)
    con.execute(
        """
        insert into raw.load_log (load_id, feed, file_name, sha256, size_bytes, received_at,
            loaded_at, rows_read, rows_loaded, rows_outside_area, period_start, period_end,
            scope, status, error, notes)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            load_id,
            result.feed,
            result.file_name,
            sha,
            size,
            received,
            loaded_at or now(),
            rows_read,
            result.rows_loaded,
            result.rows_outside_area,
            result.period_start,
            result.period_end,
            scope,
            result.status,
            result.error,
            result.notes,
        ],
    )
    result.load_id = load_id
    return load_id


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(NEXT_LOAD_ID).fetchone()[0]


def take_load_ids(con: duckdb.DuckDBPyConnection, count: int) -> list[int]:
    """``count`` load ids, ascending (a batch takes its files' ids in delivery order)."""
    return sorted(
        row[0] for row in con.execute(f"{NEXT_LOAD_ID} from range(?)", [count]).fetchall()
    )


def is_unchanged(con: duckdb.DuckDBPyConnection, display: str, path: Path) -> bool:
    """Already in the ledger under this name, size and modification time: not re-read.

    (Like make and rsync: a file rewritten with the same size inside the same
    microsecond is the one change this misses.)  Saves hashing gigabytes of police.uk
    archives every night.  :func:`known_files` is the same rule for many files.
    """
    return (
        con.execute(
            "select count(*) from raw.load_log where file_name = ? and size_bytes = ?"
            " and received_at = ?",
            [display, *size_and_time(path)],
        ).fetchone()[0]
        > 0
    )


def known_files(
    con: duckdb.DuckDBPyConnection, feed: str | None = None
) -> set[tuple[str, int, datetime]]:
    """(name, size, modification time) of every file in the ledger (of one feed): a
    landing file whose ``(display name, *size_and_time(path))`` is in it is unchanged."""
    sql = "select file_name, size_bytes, received_at from raw.load_log"
    if feed is None:
        return set(con.execute(sql).fetchall())
    return set(con.execute(f"{sql} where feed = ?", [feed]).fetchall())


def known_digests(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select sha256 from raw.load_log").fetchall()}


def loads_of_digest(con: duckdb.DuckDBPyConnection, sha: str) -> list[tuple[int, str, str]]:
    """(load id, file name, status) of every ledger row with this sha256, oldest first."""
    return con.execute(
        "select load_id, file_name, status from raw.load_log where sha256 = ? order by load_id",
        [sha],
    ).fetchall()


def supersede(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    load_ids: list[int] | None,
    results: list[FileResult] = (),
) -> None:
    """Latest delivery wins: a ``loaded`` load of ``feed`` with the same period and scope
    as a later ``loaded`` load with rows becomes ``superseded`` by the latest.

    ``load_ids`` limits the later loads looked at (the ones just loaded); None looks at
    all of them, which repairs a ledger left by a run that stopped between a batch's
    commit and its superseding.  The superseding loads' notes (in the ledger and in
    ``results``) name what they supersede.
    """
    if load_ids is not None and not load_ids:
        return
    same = (
        "{a}.feed = {b}.feed and {a}.period_start = {b}.period_start"
        " and {a}.period_end = {b}.period_end and {a}.scope is not distinct from {b}.scope"
    )
    latest = "new.status = 'loaded' and new.rows_loaded > 0"
    restrict = ""
    if load_ids is not None:
        restrict = f" and new.load_id in ({', '.join(map(str, load_ids))})"
    superseded = con.execute(
        f"""
        update raw.load_log as old set status = 'superseded', superseded_by = new.load_id
        from raw.load_log as new
        where new.feed = ? and {latest}{restrict}
          and old.status = 'loaded' and old.load_id < new.load_id
          and {same.format(a="old", b="new")}
          and not exists (
              select 1 from raw.load_log as newer
              where newer.status = 'loaded' and newer.rows_loaded > 0
                and newer.load_id > new.load_id and {same.format(a="newer", b="new")})
        returning superseded_by, file_name
        """,
        [feed],
    ).fetchall()
    names: dict[int, list[str]] = {}
    for load_id, file_name in superseded:
        names.setdefault(load_id, []).append(file_name)
    by_id = {r.load_id: r for r in results}
    for load_id, files in sorted(names.items()):
        note = f"supersedes {', '.join(sorted(files))}"
        old = con.execute(
            "select notes, file_name from raw.load_log where load_id = ?", [load_id]
        ).fetchone()
        notes = f"{old[0]}; {note}" if old[0] else note
        con.execute("update raw.load_log set notes = ? where load_id = ?", [notes, load_id])
        if load_id in by_id:
            by_id[load_id].notes = notes
        log.info("%s %s", old[1], note)


def last_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """The ledger's newest load id (0 when it is empty)."""
    return con.execute("select coalesce(max(load_id), 0) from raw.load_log").fetchone()[0]


def ledger_last_load_id(warehouse: Path | str) -> int:
    """:func:`last_load_id` of a warehouse file, opened read-only (waiting for a writer as
    ``open_warehouse`` does); 0 when the file or its ledger does not exist yet."""
    if not Path(warehouse).exists():
        return 0
    con = open_warehouse(warehouse, read_only=True)
    try:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw'"
            " and table_name = 'load_log'"
        ).fetchone()[0]
        return last_load_id(con) if exists else 0
    finally:
        con.close()


def read_period(
    path: Path, feed: Feed, display: str
) -> tuple[tuple[date, date] | None, str | None]:
    """Best-effort (period, scope) of a delivered file, read leniently from the file itself
    (unreadable values ignored): the feed's period column (partner returns: fiscal year and
    quarter) and its scope column.  (None, None) when nothing can be read."""
    if not Path(path).is_file():
        return None, None
    con = duckdb.connect()
    try:
        with staged_file(con, Path(path), feed, display) as headers:
            period_col = feed.column(feed.period_column)
            if period_col.kind == "fiscal_year":
                quarter_col = next(c for c in feed.columns if c.kind == "quarter")
                if period_col.name not in headers or quarter_col.name not in headers:
                    return None, None
                fiscal = typed_expr(period_col, quote_ident(period_col.name))
                quarter = typed_expr(quarter_col, quote_ident(quarter_col.name))
                quarter = f"case when {quarter} between 1 and 4 then {quarter} end"
                start = sql_quarter_start(fiscal, quarter)
                bounds = f"min({start}), max({sql_quarter_end(fiscal, quarter)})"
            else:
                if period_col.name not in headers:
                    return None, None
                day = f"try_cast({typed_expr(period_col, quote_ident(period_col.name))} as date)"
                bounds = (
                    f"cast(date_trunc('month', min({day})) as date),"
                    f" cast(last_day(max({day})) as date)"
                )
            scope = "null"
            if feed.scope_column and feed.scope_column in headers:
                value = f"nullif(trim({quote_ident(feed.scope_column)}), '')"
                scope = f"string_agg(distinct {value}, ' | ' order by {value})"
            start_day, end_day, scope_value = con.execute(
                f"select {bounds}, {scope} from _in"
            ).fetchone()
    except (IngestError, duckdb.Error, OSError, ValueError, KeyError, StopIteration):
        return None, None
    finally:
        con.close()
    if start_day is None or end_day is None:
        return None, scope_value
    return (_as_date(start_day), _as_date(end_day)), scope_value


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
