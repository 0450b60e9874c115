"""One Great Expectations suite per agency feed, built from its contract in ``ingest/feeds.py``.

For feed ``<name>`` three suites run, because a GX suite validates one batch (one frame):

``feed.<name>``  the contract, over the *current* rows of ``raw.<name>`` (rows of loads
    whose ledger status is ``loaded``): column types, required values present, allowed
    values, counts not negative, numerator not above denominator, personal references
    stored as keyed hashes only, every record's date inside its file's delivered period
    (``raw.load_log`` period_start..period_end), and uniqueness of the natural key across
    current loads (see :func:`checked_rows_ctes` for the latest-load-wins rule).
``feed.<name>.ledger``  no outstanding rejected file (``expectations.ledger``).
``feed.<name>.volume``  rows per fiscal quarter within a tolerance (``CSP_VOLUME_TOLERANCE``,
    default 0.5 = ±50 %) of the same months last year, where last year was delivered.

The first two make the blocking ``contract`` check of ``raw/<name>``; the third the
non-blocking ``volume`` check (WARN).  See docs/expectations.md.

Only what is new is validated: the row rules run on the loads above the feed's watermark
(``expectations.watermark``, moved by a passing check only).  Up to
:data:`ROW_FRAME_LIMIT` new rows go to GX as one frame; above it (national police.uk) the
rules are counted per load in DuckDB (suite ``feed.<name>.loads``) and GX validates a
bounded sample of rows.  Natural-key uniqueness and volume are SQL aggregates over the
whole table; no whole raw table is ever read into pandas.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from expectations import watermark
from expectations.ledger import Rejection, rejections
from expectations.runner import (
    SAMPLE_ROWS,
    Expect,
    SuiteOutcome,
    SuiteRun,
    data_docs_dir,
    expect,
    failures_markdown,
    md_table,
    run_suites,
    sample_markdown,
)
from ingest.config import Settings
from ingest.feeds import Feed
from ingest.readers import quote_ident, sql_literal

if TYPE_CHECKING:
    import pandas as pd

ROW_INDEX = ("_file_name", "_source_row")
LOADS_INDEX = ("_file_name", "_load_id")
LEDGER_INDEX = ("file_name",)
VOLUME_INDEX = ("period", "months_compared", "rows", "rows_last_year")
TOLERANCE_ENV = "CSP_VOLUME_TOLERANCE"
DEFAULT_TOLERANCE = 0.5
# the volume expectation covers the latest delivered quarters only
VOLUME_QUARTERS = 4
# new rows up to this many are validated by GX as one pandas frame; above it (a national
# police.uk delivery) the row rules are counted per load in DuckDB and GX sees a sample
ROW_FRAME_LIMIT = 100_000
# offending rows fetched (with LIMIT) for GX in summary mode, and rows fetched for the types
SAMPLE_LIMIT = 1_000
TYPE_SAMPLE = 100

# how DuckDB column types arrive in pandas (nullable extension types when a column has NULLs)
_DATETIMES = ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"]
PANDAS_TYPES = {
    "VARCHAR": ["object", "str", "StringDtype"],
    "DATE": _DATETIMES,
    "TIMESTAMP": _DATETIMES,
    "BIGINT": ["int64", "Int64Dtype"],
    "INTEGER": ["int32", "Int32Dtype", "int64", "Int64Dtype"],
    "DOUBLE": ["float64", "Float64Dtype"],
    "BOOLEAN": ["bool", "BooleanDtype"],
}
HASH_SHAPE = "keyed hash"


def contract_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}"


def loads_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.loads"


def ledger_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.ledger"


def volume_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.volume"


def volume_tolerance(environ: dict[str, str] | None = None) -> float:
    """``CSP_VOLUME_TOLERANCE``: a fraction (0.5) or a percentage (50%); default ±50 %."""
    raw = (os.environ if environ is None else environ).get(TOLERANCE_ENV, "").strip()
    if not raw:
        return DEFAULT_TOLERANCE
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 < value < 10:
        raise ValueError(f"{TOLERANCE_ENV}={raw!r}: expected a fraction like 0.5 or a percentage")
    return value


# -- suites --------------------------------------------------------------------------------


def contract_expectations(feed: Feed) -> list[Expect]:
    """The contract suite of a feed, derived from its columns in ``ingest/feeds.py``."""
    out = []
    for col in feed.columns:
        name = col.raw_name
        out.append(
            expect(
                "ExpectColumnValuesToBeInTypeList",
                column=name,
                type_list=PANDAS_TYPES[col.sql_type],
                description=f"{name} is stored as {col.sql_type}",
            )
        )
        if col.required and not col.nullable:
            out.append(
                expect(
                    "ExpectColumnValuesToNotBeNull",
                    column=name,
                    description=f"{name} is present on every row (required by the contract)",
                )
            )
        if col.kind == "enum":
            out.append(
                expect(
                    "ExpectColumnValuesToBeInSet",
                    column=name,
                    value_set=list(col.allowed),
                    description=f"{name} is one of {', '.join(col.allowed)}",
                )
            )
        elif col.kind in ("count", "number"):
            out.append(
                expect(
                    "ExpectColumnValuesToBeBetween",
                    column=name,
                    min_value=0,
                    description=f"{name} is not negative",
                )
            )
        elif col.kind == "fiscal_year":
            out.append(
                expect(
                    "ExpectColumnValuesToMatchRegex",
                    column=name,
                    regex=r"^\d{4}/\d{2}$",
                    description=f"{name} is a fiscal year such as 2016/17",
                )
            )
        elif col.kind == "quarter":
            out.append(
                expect(
                    "ExpectColumnValuesToBeBetween",
                    column=name,
                    min_value=1,
                    max_value=4,
                    description=f"{name} is a quarter 1..4",
                )
            )
        elif col.kind == "personal":
            # checked on a derived column so that no raw reference is ever quoted back
            out.append(
                expect(
                    "ExpectColumnValuesToBeInSet",
                    column=f"{name}_shape",
                    value_set=[HASH_SHAPE],
                    description=f"{name} holds keyed hashes (64 hex characters), never a raw"
                    " reference",
                )
            )
    for numerator, denominator in feed.ratio_pairs:
        out.append(
            expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                column_A=denominator,
                column_B=numerator,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=f"{numerator} is not above {denominator}",
            )
        )
    if feed.area_filtered:
        out.append(
            expect(
                "ExpectColumnValuesToNotBeNull",
                column="area_code",
                description="every row is matched to the partnership's local authority",
            )
        )
    period = feed.period_column
    out += [
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="_record_date",
            column_B="_period_start",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=f"{period} is not before the start of its file's delivered period"
            " (raw.load_log.period_start)",
        ),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="_period_end",
            column_B="_record_date",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=f"{period} is not after the end of its file's delivered period"
            " (raw.load_log.period_end)",
        ),
    ]
    if feed.natural_key:
        out.append(
            expect(
                "ExpectColumnValuesToBeUnique",
                column="_natural_key",
                description=f"the natural key ({', '.join(feed.natural_key)}) is unique across"
                " current loads, except where a later load re-delivers the period of the"
                " earlier row (latest load wins)",
            )
        )
    return out


def ledger_expectations(feed: Feed) -> list[Expect]:
    return [
        expect(
            "ExpectColumnValuesToBeNull",
            column="outstanding_error",
            description=f"no rejected {feed.name} file is outstanding: each was followed by a"
            " good delivery of its period",
        )
    ]


def volume_expectations(feed: Feed, tolerance: float) -> list[Expect]:
    return [
        expect(
            "ExpectColumnValuesToBeBetween",
            column="ratio_checked",
            min_value=round(max(0.0, 1 - tolerance), 6),
            max_value=round(1 + tolerance, 6),
            description=f"rows per fiscal quarter (latest {VOLUME_QUARTERS} delivered) are within"
            f" ±{tolerance:.0%} of the same months last year",
        )
    ]


# -- frames --------------------------------------------------------------------------------

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
        return (
            f"make_date(try_cast(left({fiscal}, 4) as integer) + ({q} = 4)::integer,"
            f" ({q} * 3) % 12 + 1, 1)"
        )
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
        redelivered as (
            select distinct earlier._load_id, earlier._source_row
            from repeated_rows as earlier
            inner join repeated_rows as later
                on later._key = earlier._key
                and (later._delivered_at > earlier._delivered_at
                     or (later._delivered_at = earlier._delivered_at
                         and later._load_id > earlier._load_id))
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
        " (partition by k order by delivered_at desc, load_id desc) = 1"
        if feed.natural_key
        else "select record_date from records"
    )
    return f"""
        with loads as ({_LOADS}),
        records as (
            select {record_date_sql(feed)} as record_date, {natural_key_sql(feed)} as k,
                loads.delivered_at, loads.load_id
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
                (year(quarter_start) - (month(quarter_start) < 4)::integer)::varchar || '/'
                || lpad(((year(quarter_start) - (month(quarter_start) < 4)::integer + 1) % 100)
                    ::varchar, 2, '0')
                || ' Q' || (((month(quarter_start) + 8) % 12) // 3 + 1)::varchar as period,
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


# -- rules as SQL (large deliveries) -------------------------------------------------------

_SHORT = {
    "ExpectColumnValuesToNotBeNull": "missing",
    "ExpectColumnValuesToBeInSet": "not_allowed",
    "ExpectColumnValuesToBeBetween": "out_of_range",
    "ExpectColumnValuesToMatchRegex": "bad_format",
    "ExpectColumnPairValuesAToBeGreaterThanB": "out_of_order",
    "ExpectColumnValuesToBeUnique": "duplicate",
}


def violation_sql(rule: Expect) -> str | None:
    """The rows of ``checked`` that break a contract expectation, as a SQL predicate.

    The same semantics as GX's pandas expectation (NULLs are ignored except by the
    not-null rule; pairs with a missing side are ignored).  ``None`` for a rule that is
    not about values: the column types, which GX checks on the sample frame's dtypes.
    """
    k = rule.kwargs
    if rule.type == "ExpectColumnValuesToBeInTypeList":
        return None
    if rule.type == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = quote_ident(k["column_A"]), quote_ident(k["column_B"])
        below = "<" if k.get("or_equal") else "<="
        return f"({a} is not null and {b} is not null and {a} {below} {b})"
    c = quote_ident(k["column"])
    if rule.type == "ExpectColumnValuesToNotBeNull":
        return f"({c} is null)"
    if rule.type == "ExpectColumnValuesToBeInSet":
        values = ", ".join(sql_literal(str(v)) for v in k["value_set"])
        return f"({c} is not null and {c} not in ({values}))"
    if rule.type == "ExpectColumnValuesToBeBetween":
        parts = []
        if k.get("min_value") is not None:
            parts.append(f"{c} < {k['min_value']}")
        if k.get("max_value") is not None:
            parts.append(f"{c} > {k['max_value']}")
        return f"({c} is not null and ({' or '.join(parts)}))"
    if rule.type == "ExpectColumnValuesToMatchRegex":
        return f"({c} is not null and not regexp_matches({c}, {sql_literal(k['regex'])}))"
    if rule.type == "ExpectColumnValuesToBeUnique":
        return f"({c} in (select _natural_key from dup_keys))"
    raise ValueError(f"no SQL for {rule.type}: add it to violation_sql")


@dataclass(frozen=True)
class SqlRule:
    """A contract expectation computed in DuckDB: its per-load count column."""

    rule: Expect
    column: str
    predicate: str


def sql_rules(expectations: list[Expect]) -> list[SqlRule]:
    out: list[SqlRule] = []
    for rule in expectations:
        predicate = violation_sql(rule)
        if predicate is None:
            continue
        k = rule.kwargs
        on = k.get("column") or f"{k.get('column_A')}_vs_{k.get('column_B')}"
        name = f"{on.strip('_')}__{_SHORT[rule.type]}"
        if any(r.column == name for r in out):
            name = f"{name}_{len(out)}"
        out.append(SqlRule(rule, name, predicate))
    return out


def loads_expectations(rules: list[SqlRule]) -> list[Expect]:
    """``feed.<name>.loads``: per new load, no row breaks any rule (counts from SQL)."""
    return [
        expect(
            "ExpectColumnValuesToBeBetween",
            column=r.column,
            min_value=0,
            max_value=0,
            description=r.rule.kwargs.get("description") or r.rule.type,
        )
        for r in rules
    ]


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


# -- running -------------------------------------------------------------------------------


@dataclass
class FeedReport:
    """What the checks of one feed found; the Dagster check turns it into metadata."""

    feed: Feed
    rows: int  # rows of the loads validated this time (new since the watermark)
    current_loads: int
    contract: list[SuiteOutcome]
    volume: SuiteOutcome
    rejections: list[Rejection]
    volume_frame: pd.DataFrame
    tolerance: float
    data_docs: Path
    loads_checked: int = 0
    checked_after: int = 0  # the watermark: loads above this id were validated
    checked_through: int = 0  # the highest load id of the feed when the check ran
    mode: str = "rows"  # "rows": every new row in GX; "summary": SQL counts + sample
    frame_rows: list[int] = field(default_factory=list)  # rows of each frame read to pandas
    watermark_advanced: bool = False

    @property
    def contract_passed(self) -> bool:
        return all(o.success for o in self.contract)

    @property
    def volume_passed(self) -> bool:
        return self.volume.success

    @property
    def outstanding(self) -> list[Rejection]:
        return [r for r in self.rejections if r.outstanding]

    @property
    def largest_frame(self) -> int:
        return max(self.frame_rows, default=0)

    def failed_expectations_md(self) -> str | None:
        failures = [f for o in self.contract for f in o.failures]
        return failures_markdown(failures) if failures else None

    def offending_rows_md(self) -> str | None:
        return sample_markdown(self.contract[0].failures, ROW_INDEX)

    def failing_loads_md(self) -> str | None:
        """Summary mode: the new loads (files) breaking each rule, with their counts."""
        loads = [o for o in self.contract if o.suite.endswith(".loads")]
        return sample_markdown(loads[0].failures, LOADS_INDEX) if loads else None

    def outstanding_md(self) -> str | None:
        if not self.outstanding:
            return None
        return md_table(
            ["file", "delivered", "period in file", "error"],
            [
                [
                    r.delivery.file_name,
                    _when(r.delivery.delivered_at),
                    r.period_label,
                    r.delivery.error,
                ]
                for r in self.outstanding
            ],
        )

    def volume_md(self, only_failing: bool) -> str | None:
        frame = self.volume_frame
        if frame.empty:
            return None
        if only_failing:
            ratio = frame["ratio_checked"]
            low, high = 1 - self.tolerance, 1 + self.tolerance
            frame = frame[ratio.notna() & ((ratio < low) | (ratio > high))]
            if frame.empty:
                return None
        else:
            frame = frame.tail(8)
        return md_table(
            ["period", "months compared", "rows", "same months last year", "change %"],
            [
                [
                    row.period,
                    row.months_compared,
                    row.rows,
                    _blank(row.rows_last_year),
                    _blank(row.change_pct),
                ]
                for row in frame.itertuples()
            ],
        )


def _when(value) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _blank(value) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else str(value)


def validate_feed(
    settings: Settings,
    feed: Feed,
    run_name: str = "manual",
    tolerance: float | None = None,
    full: bool = False,
    record: bool = True,
) -> FeedReport:
    """Run the feed's suites over what is new since its last passing check.

    The contract suite validates the rows of current loads above the feed's watermark
    (``raw.check_watermark``; ``full=True`` ignores it): as a pandas frame when they are
    at most :data:`ROW_FRAME_LIMIT` rows, else as per-load counts computed in DuckDB plus a
    bounded sample of rows.  Natural-key uniqueness and volume are computed over the whole
    table in SQL either way.  A passing contract check moves the watermark to the feed's
    highest load id (``record=False``: leave it); a failing one leaves it where it was.
    """
    tolerance = volume_tolerance() if tolerance is None else tolerance
    expectations = contract_expectations(feed)
    suite_print = watermark.fingerprint(expectations)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    frames = FrameLog(con)
    summary = None
    try:
        after = 0 if full else watermark.after(con, feed.name, suite_print)
        through, current_loads = con.execute(
            "select coalesce(max(load_id), 0),"
            " count(*) filter (where status = 'loaded' and rows_loaded > 0)"
            " from raw.load_log where feed = ?",
            [feed.name],
        ).fetchone()
        loads_checked, new_rows = new_rows_count(con, feed, after)
        rules = sql_rules(expectations)
        if new_rows <= ROW_FRAME_LIMIT:
            mode = "rows"
            rows = rows_frame(frames, feed, after)
        else:
            mode = "summary"
            summary, rows = summary_frames(frames, feed, rules, after)
        volume = frames.df(volume_sql(feed), {"feed": feed.name})
        found = rejections(con, Path(settings.landing), feed)
    finally:
        con.close()
    runs = [SuiteRun(contract_suite_name(feed), feed.table, rows, expectations, ROW_INDEX)]
    if summary is not None:
        runs.append(
            SuiteRun(
                loads_suite_name(feed),
                f"{feed.table}.loads",
                summary,
                loads_expectations(rules),
                LOADS_INDEX,
            )
        )
    runs += [
        SuiteRun(
            ledger_suite_name(feed),
            f"{feed.table}.ledger",
            ledger_frame(found),
            ledger_expectations(feed),
            LEDGER_INDEX,
        ),
        SuiteRun(
            volume_suite_name(feed),
            f"{feed.table}.volume",
            volume,
            volume_expectations(feed, tolerance),
            VOLUME_INDEX,
        ),
    ]
    outcomes = run_suites(runs, settings.warehouse, run_name)
    if summary is not None:
        _true_counts(outcomes[0], summary, rules, new_rows)
    report = FeedReport(
        feed=feed,
        rows=new_rows,
        current_loads=int(current_loads),
        contract=outcomes[:-1],
        volume=outcomes[-1],
        rejections=found,
        volume_frame=volume,
        tolerance=tolerance,
        data_docs=data_docs_dir(settings.warehouse) / "index.html",
        loads_checked=loads_checked,
        checked_after=after,
        checked_through=max(int(through), after),
        mode=mode,
        frame_rows=frames.rows,
    )
    if record and report.contract_passed:
        watermark.record(
            settings.warehouse, feed.name, report.checked_through, suite_print, new_rows, run_name
        )
        report.watermark_advanced = True
    return report


def _true_counts(outcome: SuiteOutcome, summary: pd.DataFrame, rules: list[SqlRule], rows: int):
    """Summary mode: GX counted offending rows in the sample; report the SQL totals."""
    totals = {
        r.rule.kwargs.get("description"): int(summary[r.column].sum()) if len(summary) else 0
        for r in rules
    }
    for failure in outcome.failures:
        if failure.description in totals:
            failure.unexpected_count = totals[failure.description]
            failure.element_count = rows
