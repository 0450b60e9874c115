"""The frames a feed's suites validate, read from DuckDB: current rows and the
latest-load-wins rule for the natural key, volume per quarter, the ledger, and the
per-load summaries of large deliveries.  No whole raw table is read into pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from catalogue.fiscal import sql_quarter_label, sql_quarter_start
from expectations.feed_rules import HASH_SHAPE, VOLUME_QUARTERS, SqlRule
from expectations.ledger import Rejection
from expectations.runner import SAMPLE_ROWS
from ingest.feeds import Feed
from ingest.readers import quote_ident

if TYPE_CHECKING:
    import pandas as pd

# offending rows fetched (with LIMIT) for GX in summary mode, and rows fetched for the types
SAMPLE_LIMIT = 1_000
TYPE_SAMPLE = 100


# -- frames --------------------------------------------------------------------------------

# Row-level "latest delivery wins": the order of the rows sharing a natural key, latest
# first; dbt staging's macro latest_delivery is the same order (docs/architecture.md).
DELIVERY_ORDER = "_delivered_at desc, _load_id desc"

_LOADS = """
    select load_id, period_start, period_end, coalesce(received_at, loaded_at) as delivered_at
    from raw.load_log where feed = $feed and status = 'loaded'
"""


def record_date_sql(feed: Feed, alias: str = "t") -> str:
    """The day a row is about: its period column (partner returns: its quarter's first day)."""
    col = feed.column(feed.period_column)
    if col.kind == "fiscal_year":
        quarter = next(c for c in feed.columns if c.kind == "quarter")
        fiscal = f"{alias}.{quote_ident(col.raw_name)}"
        q = f"{alias}.{quote_ident(quarter.raw_name)}"
        return sql_quarter_start(fiscal, q)
    return f"cast({alias}.{quote_ident(col.raw_name)} as date)"


def natural_key_sql(feed: Feed, alias: str = "t") -> str:
    if not feed.natural_key:
        return "null"
    parts = [
        f"coalesce(cast({alias}.{quote_ident(feed.column(n).raw_name)} as varchar), '(none)')"
        for n in feed.natural_key
    ]
    return parts[0] if len(parts) == 1 else f"concat_ws(' | ', {', '.join(parts)})"


def _row_selects(feed: Feed) -> list[str]:
    columns = [c.raw_name for c in feed.columns]
    if feed.area_filtered:
        columns += ["area_code", "area_name"]
    selects = [f"t.{quote_ident(c)}" for c in columns]
    for col in feed.columns:
        if col.kind == "personal":
            ref = f"t.{quote_ident(col.raw_name)}"
            selects.append(
                f"case when {ref} is null then null"
                f" when regexp_full_match({ref}, '[0-9a-f]{{64}}') then '{HASH_SHAPE}'"
                f" else 'not a keyed hash' end as {quote_ident(col.raw_name + '_shape')}"
            )
    return selects


def checked_rows_ctes(feed: Feed) -> str:
    """``with`` clauses ending in ``checked`` (current rows, as the contract suite sees them)
    and ``dup_keys`` (natural keys that break uniqueness); parameter ``$feed``.

    Current rows are rows of ``raw.<feed>`` whose load is ``loaded`` in the ledger, with
    their load's period and a ``_natural_key``.  Latest load wins, as in dbt staging
    (order: delivered_at, then load_id).  A row whose key a *later* current load delivers
    again, with this row's date inside that load's period, is a re-delivery (a re-sent
    month inside a quarterly file, a corrected row): its ``_natural_key`` is NULL and
    uniqueness ignores it.  Any other repeat of a key — within one load, or in a later load
    that does not re-deliver this row's period (an id reused for another record) — stays,
    and fails uniqueness with both rows named.

    Everything is aggregates and joins over the repeated keys only (a GROUP BY, then a join
    of the few rows sharing a key), so it scales with the table, not with its square; the
    CTEs are ``not materialized`` so DuckDB streams them into each query's filter.
    """
    current = f"""
        loads as ({_LOADS}),
        current_rows as not materialized (
            select {", ".join(_row_selects(feed))},
                t._load_id, t._file_name, t._source_row,
                {record_date_sql(feed)} as _record_date,
                loads.period_start as _period_start,
                loads.period_end as _period_end,
                loads.delivered_at as _delivered_at,
                {natural_key_sql(feed)} as _key
            from {feed.table} as t
            inner join loads on t._load_id = loads.load_id
        )"""
    if not feed.natural_key:
        return f"""
        with {current},
        checked as not materialized (
            select * exclude (_key, _delivered_at), cast(null as varchar) as _natural_key
            from current_rows
        ),
        dup_keys as (select cast(null as varchar) as _natural_key where false)
        """
    return f"""
        with {current},
        repeated as (
            select _key from current_rows where _key is not null
            group by _key having count(*) > 1
        ),
        repeated_rows as (
            select * from current_rows semi join repeated using (_key)
        ),
        ordered_rows as (
            select *, dense_rank() over (partition by _key order by {DELIVERY_ORDER}) as _recency
            from repeated_rows
        ),
        redelivered as (
            select distinct earlier._load_id, earlier._source_row
            from ordered_rows as earlier
            inner join ordered_rows as later
                on later._key = earlier._key
                and later._recency < earlier._recency
                and earlier._record_date between later._period_start and later._period_end
        ),
        checked as not materialized (
            select current_rows.* exclude (_key, _delivered_at),
                case when redelivered._load_id is null then current_rows._key end
                    as _natural_key
            from current_rows
            left join redelivered using (_load_id, _source_row)
        ),
        dup_keys as (
            select _natural_key from checked where _natural_key is not null
            group by _natural_key having count(*) > 1
        )
        """


def volume_sql(feed: Feed) -> str:
    """Rows per fiscal quarter (after latest-load-wins) against the same months last year.

    Only months inside the period of a current load count ("delivered"); a quarter is
    compared on the months delivered this year, and only when all those months were
    delivered last year too.  A month delivered with no rows counts as 0.  The
    expectation reads ``ratio_checked``: the ratio of the latest :data:`VOLUME_QUARTERS`
    delivered quarters only (older quarters were checked when they arrived; warning
    about them every night would be noise).
    """
    winners = (
        "select record_date from records qualify row_number() over"
        f" (partition by k order by {DELIVERY_ORDER}) = 1"
        if feed.natural_key
        else "select record_date from records"
    )
    return f"""
        with loads as ({_LOADS}),
        records as (
            select {record_date_sql(feed)} as record_date, {natural_key_sql(feed)} as k,
                loads.delivered_at as _delivered_at, loads.load_id as _load_id
            from {feed.table} as t
            inner join loads on t._load_id = loads.load_id
        ),
        winners as ({winners}),
        per_month as (
            select cast(date_trunc('month', record_date) as date) as month, count(*) as n
            from winners where record_date is not null group by all
        ),
        delivered as (
            select distinct cast(unnest(generate_series(
                cast(period_start as timestamp), cast(period_end as timestamp), interval 1 month
            )) as date) as month
            from loads where period_start is not null and period_end is not null
        ),
        counts as (
            select delivered.month, coalesce(per_month.n, 0) as n
            from delivered left join per_month using (month)
        ),
        compared as (
            select cast(date_trunc('quarter', this.month) as date) as quarter_start,
                count(*) as months,
                string_agg(strftime(this.month, '%b %Y'), ', ' order by this.month)
                    as months_compared,
                cast(sum(this.n) as bigint) as rows,
                count(last.month) as months_last_year,
                cast(sum(last.n) as bigint) as rows_last_year
            from counts as this
            left join counts as last
                on last.month = cast(this.month - interval 12 month as date)
            group by all
        ),
        labelled as (
            select quarter_start,
                {sql_quarter_label("quarter_start")} as period,
                months_compared,
                rows,
                case when months_last_year = months then rows_last_year end as rows_last_year
            from compared
        )
        select period, months_compared, rows, rows_last_year,
            case when rows_last_year > 0 then rows / rows_last_year end as ratio,
            case when rows_last_year > 0
                then round(100.0 * (rows - rows_last_year) / rows_last_year, 1) end
                as change_pct,
            case when rows_last_year > 0 and recency <= {VOLUME_QUARTERS}
                then rows / rows_last_year end as ratio_checked
        from (
            select *, row_number() over (order by quarter_start desc) as recency from labelled
        )
        order by quarter_start
    """


def ledger_frame(found: list[Rejection]) -> pd.DataFrame:
    import pandas as pd

    columns = [
        "file_name",
        "delivered_at",
        "period_in_file",
        "state",
        "resolved_by",
        "error",
        "outstanding_error",
    ]
    rows = []
    for r in found:
        d = r.delivery
        rows.append(
            [
                d.file_name,
                None if d.delivered_at is None else f"{d.delivered_at:%Y-%m-%d %H:%M}",
                r.period_label,
                "outstanding" if r.outstanding else "resolved",
                "; ".join(r.resolved_by) or None,
                d.error,
                (d.error or "rejected (no error recorded)") if r.outstanding else None,
            ]
        )
    return pd.DataFrame(rows, columns=columns, dtype=object)


class FrameLog:
    """Reads query results into pandas, remembering how many rows each frame held."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows: list[int] = []

    def df(self, sql: str, params: dict) -> pd.DataFrame:
        frame = self.con.execute(sql, params).df()
        self.rows.append(len(frame))
        return frame


def new_rows_count(con: duckdb.DuckDBPyConnection, feed: Feed, after: int) -> tuple[int, int]:
    """(loads, rows) of current loads above the watermark: no pandas, no full scan."""
    loads, rows = con.execute(
        f"""
        select count(distinct _load_id), count(*) from {feed.table}
        where _load_id > $after and _load_id in (
            select load_id from raw.load_log where feed = $feed and status = 'loaded'
              and load_id > $after)
        """,
        {"feed": feed.name, "after": after},
    ).fetchone()
    return int(loads), int(rows)


def rows_frame(frames: FrameLog, feed: Feed, after: int) -> pd.DataFrame:
    """Every row of the new loads, plus the current rows of older loads that share a
    natural key with another row (so that GX names both rows of a duplicate)."""
    ctes = checked_rows_ctes(feed)
    partners = ""
    if feed.natural_key:
        partners = f"""
            union all
            select * from (
                select * from checked where _load_id <= $after
                  and _natural_key in (select _natural_key from dup_keys)
                order by _natural_key, _load_id, _source_row limit {SAMPLE_LIMIT}
            )"""
    sql = f"""{ctes}
        select * from (
            select * from checked where _load_id > $after
            {partners}
        ) order by _load_id, _source_row
    """
    return frames.df(sql, {"feed": feed.name, "after": after})


def summary_frames(
    frames: FrameLog, feed: Feed, rules: list[SqlRule], after: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For large deliveries: one row per new load with the count of rows breaking each
    rule (DuckDB aggregates), and a bounded sample of rows — the first rows of the new
    loads (for the column types) and up to :data:`SAMPLE_LIMIT` offending rows (LIMIT per
    failing rule; for duplicates, every row sharing the key, whatever its load)."""
    ctes = checked_rows_ctes(feed)
    params = {"feed": feed.name, "after": after}
    counts = ", ".join(
        f"count(*) filter (where {r.predicate}) as {quote_ident(r.column)}" for r in rules
    )
    scope = "_load_id > $after"
    if feed.natural_key:
        scope += " or _natural_key in (select _natural_key from dup_keys)"
    summary = frames.df(
        f"""{ctes}
        select _load_id, any_value(_file_name) as _file_name, count(*) as rows, {counts}
        from checked where {scope} group by _load_id order by _load_id
        """,
        params,
    )
    failing = [r for r in rules if len(summary) and int(summary[r.column].sum()) > 0]
    per_rule = max(SAMPLE_ROWS, SAMPLE_LIMIT // max(1, len(failing)))
    parts = [
        f"select * from (select * from checked where _load_id > $after"
        f" order by _load_id, _source_row limit {TYPE_SAMPLE})"
    ]
    for r in failing:
        if r.rule.type == "ExpectColumnValuesToBeUnique":
            parts.append(
                f"select * from (select * from checked where {r.predicate}"
                f" order by _natural_key, _load_id, _source_row limit {per_rule})"
            )
        else:
            parts.append(
                f"select * from (select * from checked where _load_id > $after"
                f" and {r.predicate} order by _load_id, _source_row limit {per_rule})"
            )
    sample = frames.df(
        f"""{ctes}
        select distinct on (_load_id, _source_row) *
        from ({" union all ".join(parts)}) order by _load_id, _source_row
        """,
        params,
    )
    return summary, sample
