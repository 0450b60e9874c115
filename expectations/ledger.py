"""Rejected files of a feed, and whether a later delivery has put each one right.

Ingest never loads a file that breaks its contract: the file gets a ``rejected`` row in
``raw.load_log`` whose ``error`` names file, row and column.  A rejected file is
*outstanding* (the feed's contract check fails) until the agency's next good delivery
replaces it, without anyone touching the ledger:

0. a later ledger row for the same file name replaces it: a good one resolves it (the
   file was corrected in place); a rejected one takes its place as the outstanding one;
1. otherwise, when its period can be read from the file (still in the landing folder:
   the feed's period column, leniently parsed, ignoring unreadable values), it is resolved
   once later good deliveries of the feed, of the same scope where both have one
   (partner returns: the agency; police.uk: the force), together cover every month of it;
2. when no period can be read (the file is gone, unreadable, or has no readable date),
   any later good delivery of the feed from the same folder resolves it.

"Good" is ``loaded``, ``superseded`` (it was loaded, then corrected again) or
``duplicate`` (a re-send of a file already loaded: its period is that file's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import duckdb

from ingest.errors import IngestError
from ingest.feeds import Feed
from ingest.readers import quote_ident, staged_file
from ingest.validate import typed_expr

GOOD = ("loaded", "superseded", "duplicate")


@dataclass
class Delivery:
    load_id: int
    file_name: str
    status: str
    sha256: str
    delivered_at: datetime | None
    period_start: date | None
    period_end: date | None
    scope: str | None
    error: str | None


@dataclass
class Rejection:
    delivery: Delivery
    period: tuple[date, date] | None = None  # read from the file, when possible
    scope: str | None = None
    resolved_by: list[str] = field(default_factory=list)

    @property
    def outstanding(self) -> bool:
        return not self.resolved_by

    @property
    def period_label(self) -> str:
        return f"{self.period[0]} .. {self.period[1]}" if self.period else "unreadable"


def deliveries(con: duckdb.DuckDBPyConnection, feed: Feed) -> list[Delivery]:
    """Every ledger row of the feed, oldest first; a duplicate gets its original's period."""
    rows = con.execute(
        """
        select load_id, file_name, status, sha256, coalesce(received_at, loaded_at),
               period_start, period_end, scope, error
        from raw.load_log where feed = ? order by load_id
        """,
        [feed.name],
    ).fetchall()
    found = [Delivery(*row) for row in rows]
    loaded = {d.sha256: d for d in found if d.status in ("loaded", "superseded")}
    for d in found:
        original = loaded.get(d.sha256)
        if d.status == "duplicate" and original is not None and d.period_start is None:
            d.period_start, d.period_end = original.period_start, original.period_end
            d.scope = original.scope
    return found


def months(start: date, end: date) -> set[tuple[int, int]]:
    out = set()
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.add((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def read_period(
    landing: Path, feed: Feed, file_name: str
) -> tuple[tuple[date, date] | None, str | None]:
    """Best-effort (period, scope) of a delivered file, read leniently from the file itself."""
    path = Path(landing) / file_name
    if not path.is_file():
        return None, None
    con = duckdb.connect()
    try:
        with staged_file(con, path, feed, file_name) as headers:
            period_col = feed.column(feed.period_column)
            if period_col.kind == "fiscal_year":
                quarter_col = next(c for c in feed.columns if c.kind == "quarter")
                if period_col.name not in headers or quarter_col.name not in headers:
                    return None, None
                fiscal = typed_expr(period_col, quote_ident(period_col.name))
                quarter = typed_expr(quarter_col, quote_ident(quarter_col.name))
                start = (
                    f"make_date(try_cast(left({fiscal}, 4) as integer) + ({quarter} = 4)::integer,"
                    f" ({quarter} * 3) % 12 + 1, 1)"
                )
                bounds = f"min({start}), max({start} + interval 3 month - interval 1 day)"
            else:
                if period_col.name not in headers:
                    return None, None
                day = f"cast({typed_expr(period_col, quote_ident(period_col.name))} as date)"
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


def _folder(file_name: str) -> str:
    return str(PurePosixPath(file_name).parent)


def rejections(con: duckdb.DuckDBPyConnection, landing: Path, feed: Feed) -> list[Rejection]:
    """The feed's rejected files that are not replaced by a newer ledger row of the same name,
    each with what resolved it (empty while outstanding)."""
    found = deliveries(con, feed)
    out = []
    for index, rejected in enumerate(found):
        if rejected.status != "rejected":
            continue
        later = found[index + 1 :]
        same_name = [d for d in later if d.file_name == rejected.file_name]
        if same_name:
            good = [d for d in same_name if d.status in GOOD]
            if good:
                out.append(Rejection(rejected, resolved_by=[_label(good[0])]))
            # a newer rejection of the same file name stands in for this one
            continue
        later_good = [d for d in later if d.status in GOOD]
        period, scope = read_period(landing, feed, rejected.file_name)
        rejection = Rejection(rejected, period=period, scope=scope)
        if period is not None:
            wanted = months(*period)
            covering = [
                d
                for d in later_good
                if d.period_start is not None
                and d.period_end is not None
                and (scope is None or d.scope is None or d.scope == scope)
                and wanted & months(d.period_start, d.period_end)
            ]
            covered = set().union(*(months(d.period_start, d.period_end) for d in covering))
            if wanted <= covered:
                rejection.resolved_by = [_label(d) for d in covering]
        else:
            same_folder = [
                d for d in later_good if _folder(d.file_name) == _folder(rejected.file_name)
            ]
            if same_folder:
                rejection.resolved_by = [_label(same_folder[0])]
        out.append(rejection)
    return out


def _label(delivery: Delivery) -> str:
    return f"{delivery.file_name} (load {delivery.load_id}, {delivery.status})"
