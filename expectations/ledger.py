"""Rejected files of a feed, and whether a later delivery has put each one right.

Ingest never loads a file that breaks its contract: the file gets a ``rejected`` row in
``raw.load_log`` whose ``error`` names file, row and column, with the period and scope
read from the file when they can be (``ingest/ledger.py``).  Which rejections are still
*outstanding* on the as-of date is defined once, in SQL: the dbt view
``intermediate.int_ingest__rejected_deliveries`` (a rejection is cleared by later good
deliveries of the same feed and scope covering every month of its period, or by a later
delivery under the same file name).  This module only reads that view for one feed; the
feed's ``rejected_files`` check (``orchestration/checks.py``) warns while any is
outstanding, and ``int_measure_quarter`` marks the series-quarters it would have fed
``rejected`` — nothing else is held back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from ingest.feeds import Feed

VIEW = "intermediate.int_ingest__rejected_deliveries"


class LedgerViewMissing(RuntimeError):
    """The dbt view of rejected deliveries is not built yet (no dbt build has run)."""


@dataclass
class Delivery:
    load_id: int
    file_name: str
    status: str
    delivered_at: datetime | None
    error: str | None


@dataclass
class Rejection:
    delivery: Delivery
    period: tuple[date, date] | None = None  # the period the rejection covers
    scope: str | None = None
    period_read: bool = False  # read from the file (else the feed's latest period ended)
    resolved_by: list[str] = field(default_factory=list)

    @property
    def outstanding(self) -> bool:
        return not self.resolved_by

    @property
    def period_label(self) -> str:
        if self.period is None:
            return "unknown"
        label = f"{self.period[0]} .. {self.period[1]}"
        return label if self.period_read else f"{label} (not readable; latest period ended)"


def view_exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, name = VIEW.split(".")
    return (
        con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
            [schema, name],
        ).fetchone()[0]
        > 0
    )


def rejections(con: duckdb.DuckDBPyConnection, feed: Feed) -> list[Rejection]:
    """The feed's rejected deliveries known on the as-of date of the last dbt build, oldest
    first, each with what cleared it (empty while outstanding)."""
    if not view_exists(con):
        raise LedgerViewMissing(
            f"{VIEW} does not exist yet: run the dbt build (make run) to create it"
        )
    rows = con.execute(
        f"""
        select load_id, file_name, received_at, error_message, period_start, period_end,
               is_period_read, load_scope, cleared_by_load_id, cleared_by_file_name,
               cleared_by_load_status
        from {VIEW} where feed_name = ? order by load_id
        """,
        [feed.name],
    ).fetchall()
    out = []
    for load_id, name, received, error, start, end, read, scope, by_id, by_name, by_status in rows:
        out.append(
            Rejection(
                Delivery(load_id, name, "rejected", received, error),
                period=(start, end) if start is not None else None,
                scope=scope,
                period_read=bool(read),
                resolved_by=[f"{by_name} (load {by_id}, {by_status})"] if by_id else [],
            )
        )
    return out
