"""One Great Expectations suite per agency feed, built from its contract in ``ingest/feeds.py``.

For feed ``<name>`` these suites run, because a GX suite validates one batch (one frame):

``feed.<name>``  the contract, over the *current* rows of ``raw.<name>`` (rows of loads
    whose ledger status is ``loaded``): column types, required values present, allowed
    values, counts not negative, numerator not above denominator, personal references
    stored as keyed hashes only, every record's date inside its file's delivered period
    (``raw.load_log`` period_start..period_end), and uniqueness of the natural key across
    current loads (see :func:`checked_rows_ctes` for the latest-load-wins rule).
``feed.<name>.volume``  rows per fiscal quarter within a tolerance (``CSP_VOLUME_TOLERANCE``,
    default 0.5 = ±50 %) of the same months last year, where last year was delivered.

The first makes the blocking ``contract`` check of ``raw/<name>``; the second the
non-blocking ``volume`` check (WARN).  The suite ``feed.<name>.ledger`` (no outstanding
rejected file) is :func:`validate_ledger`, the non-blocking ``rejected_files`` check
(WARN), run after the dbt build (the definition is the dbt view
``int_ingest__rejected_deliveries``, read by ``expectations.ledger``).  See
docs/expectations.md.

The rules are generated from the contract (``expectations.feed_rules``) and the frames
read from DuckDB (``expectations.feed_frames``); this module runs them.

Only what is new is validated: the row rules run on the loads above the feed's watermark
(``expectations.watermark``, moved by a passing check only).  Up to
:data:`ROW_FRAME_LIMIT` new rows go to GX as one frame; above it (national police.uk) the
rules are counted per load in DuckDB (suite ``feed.<name>.loads``) and GX validates a
bounded sample of rows.  Natural-key uniqueness and volume are SQL aggregates over the
whole table; no whole raw table is ever read into pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from expectations import watermark
from expectations.feed_frames import (
    FrameLog,
    ledger_frame,
    new_rows_count,
    rows_frame,
    summary_frames,
    volume_sql,
)
from expectations.feed_rules import (
    SqlRule,
    contract_expectations,
    contract_suite_name,
    ledger_expectations,
    ledger_suite_name,
    loads_expectations,
    loads_suite_name,
    sql_rules,
    volume_expectations,
    volume_suite_name,
    volume_tolerance,
)
from expectations.ledger import Rejection, rejections
from expectations.runner import (
    GxRun,
    SuiteOutcome,
    SuiteRun,
    data_docs_dir,
    failures_markdown,
    md_table,
    run_suites,
    sample_markdown,
)
from ingest.config import Settings
from ingest.feeds import Feed
from ingest.warehouse_file import open_warehouse

if TYPE_CHECKING:
    import pandas as pd

ROW_INDEX = ("_file_name", "_source_row")
LOADS_INDEX = ("_file_name", "_load_id")
LEDGER_INDEX = ("file_name",)
VOLUME_INDEX = ("period", "months_compared", "rows", "rows_last_year")
# new rows up to this many are validated by GX as one pandas frame; above it (a national
# police.uk delivery) the row rules are counted per load in DuckDB and GX sees a sample
ROW_FRAME_LIMIT = 100_000


# -- running -------------------------------------------------------------------------------


@dataclass
class FeedReport:
    """What the checks of one feed found; the Dagster check turns it into metadata."""

    feed: Feed
    rows: int  # rows of the loads validated this time (new since the watermark)
    current_loads: int
    contract: list[SuiteOutcome]
    volume: SuiteOutcome
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
    gx_run: GxRun | None = None,
) -> FeedReport:
    """Run the feed's suites over what is new since its last passing check.

    The contract suite validates the rows of current loads above the feed's watermark
    (``raw.check_watermark``; ``full=True`` ignores it): as a pandas frame when they are
    at most :data:`ROW_FRAME_LIMIT` rows, else as per-load counts computed in DuckDB plus a
    bounded sample of rows.  Natural-key uniqueness and volume are computed over the whole
    table in SQL either way.  A passing contract check moves the watermark to the feed's
    highest load id (``record=False``: leave it); a failing one leaves it where it was.
    ``gx_run``: a GX run shared with other feeds, whose Data Docs (and the outcomes'
    ``docs_url``) the caller builds with ``gx_run.finish()``; by default its own.
    """
    tolerance = volume_tolerance() if tolerance is None else tolerance
    expectations = contract_expectations(feed)
    suite_print = watermark.fingerprint(expectations)
    con = open_warehouse(settings.warehouse, read_only=True)
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
            volume_suite_name(feed),
            f"{feed.table}.volume",
            volume,
            volume_expectations(feed, tolerance),
            VOLUME_INDEX,
        ),
    ]
    if gx_run is None:
        outcomes = run_suites(runs, settings.warehouse, run_name)
    else:
        outcomes = gx_run.validate(runs)
    if summary is not None:
        _true_counts(outcomes[0], summary, rules, new_rows)
    report = FeedReport(
        feed=feed,
        rows=new_rows,
        current_loads=int(current_loads),
        contract=outcomes[:-1],
        volume=outcomes[-1],
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


@dataclass
class LedgerReport:
    """The feed's rejected deliveries (``expectations.ledger``) and the ledger suite's outcome."""

    feed: Feed
    rejections: list[Rejection]
    outcome: SuiteOutcome
    data_docs: Path

    @property
    def outstanding(self) -> list[Rejection]:
        return [r for r in self.rejections if r.outstanding]

    def outstanding_md(self) -> str | None:
        if not self.outstanding:
            return None
        return md_table(
            ["file", "delivered", "period covered", "scope", "error"],
            [
                [
                    r.delivery.file_name,
                    _when(r.delivery.delivered_at),
                    r.period_label,
                    r.scope or "",
                    r.delivery.error,
                ]
                for r in self.outstanding
            ],
        )


def validate_ledger(settings: Settings, feed: Feed, run_name: str = "manual") -> LedgerReport:
    """Suite ``feed.<name>.ledger``: no outstanding rejected delivery of the feed, as the dbt
    view ``int_ingest__rejected_deliveries`` defines it (raises
    ``expectations.ledger.LedgerViewMissing`` before the first dbt build)."""
    [report] = validate_ledgers(settings, [feed], run_name)
    return report


def validate_ledgers(
    settings: Settings, feeds: list[Feed], run_name: str = "manual"
) -> list[LedgerReport]:
    """:func:`validate_ledger` for several feeds: one read of the warehouse, one GX run
    (one context, Data Docs built once)."""
    if not feeds:
        return []
    con = open_warehouse(settings.warehouse, read_only=True)
    try:
        found = [rejections(con, feed) for feed in feeds]
    finally:
        con.close()
    runs = [
        SuiteRun(
            ledger_suite_name(feed),
            f"{feed.table}.ledger",
            ledger_frame(rows),
            ledger_expectations(feed),
            LEDGER_INDEX,
        )
        for feed, rows in zip(feeds, found, strict=True)
    ]
    outcomes = run_suites(runs, settings.warehouse, run_name)
    docs = data_docs_dir(settings.warehouse) / "index.html"
    return [
        LedgerReport(feed, rows, outcome, docs)
        for feed, rows, outcome in zip(feeds, found, outcomes, strict=True)
    ]
