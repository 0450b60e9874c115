"""Load one landing file in one transaction: either all of its rows and its ledger row
land, or none of its rows do and the ledger says why (``rejected``, with file, row and
column).

The steps of :meth:`FileLoader.load`: skip a file the ledger already holds (same name,
size and time; or same sha256 under the same name); record a ``duplicate`` of a file
loaded under another name; otherwise stage the file as text (``ingest/readers.py``),
check the header, every row against the feed's contract and its natural key
(``ingest/validate.py``), insert the typed rows with the load's metadata, write the
ledger row and let the latest delivery win (``ingest/ledger.py``).  The police.uk batch
path (``ingest/policeuk_batch.py``) sends every file it cannot take through here.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path

import duckdb

from catalogue.fiscal import sql_quarter_end, sql_quarter_start
from ingest import ledger
from ingest.areas import area_match, areas_sql, resolve_area
from ingest.config import Settings
from ingest.coverage import partial_quarter_note
from ingest.errors import IngestError
from ingest.feeds import FEEDS, Feed
from ingest.landing import display_name
from ingest.ledger import FileResult
from ingest.readers import quote_ident, sql_literal, staged_file
from ingest.redact import mask_refs, one_line
from ingest.schema import LOAD_METADATA
from ingest.validate import build_rules, check_rules, check_unique, typed_columns, typed_expr

log = logging.getLogger("csp.ingest")


def safe_text(text: str) -> str:
    """The first line of a library's message, as safe to log as an IngestError."""
    lines = text.strip().splitlines()
    return one_line(mask_refs(lines[0] if lines else text))


def ignored_columns_note(feed: Feed, headers: dict[str, str]) -> str | None:
    extra = sorted(set(headers) - {c.name for c in feed.columns})
    if not extra:
        return None
    return "ignored columns not in the contract: " + ", ".join(headers[c] for c in extra)


def check_header(feed: Feed, headers: dict, present: dict, display: str) -> None:
    """Every required column, and one of each ``one_of`` group, is in the header."""
    found = ", ".join(headers.values())
    for col in feed.columns:
        if col.required and col.name not in present:
            raise IngestError(
                display,
                f"required column '{col.name}' is missing (the header has: {found})",
                row=1,
                column=col.name,
            )
    for group in feed.one_of:
        if not any(name in present for name in group):
            raise IngestError(
                display,
                f"one of the columns {' / '.join(group)} is required (the header has: {found})",
                row=1,
                column=" / ".join(group),
            )


def period_sql(feed: Feed, where: str, group: bool = False) -> str:
    """(period start, period end, scope, rows) of the loads of ``feed.table`` that match
    ``where`` (per ``_load_id`` first when ``group``)."""
    if feed.name == "partner_returns":
        bounds = (
            f"min({sql_quarter_start('fiscal_year', 'quarter')}),"
            f" max({sql_quarter_end('fiscal_year', 'quarter')})"
        )
    else:
        column = quote_ident(feed.column(feed.period_column).raw_name)
        bounds = (
            f"cast(date_trunc('month', min({column})) as date),"
            f" cast(last_day(max({column})) as date)"
        )
    scope = (
        f"string_agg(distinct {quote_ident(feed.scope_column)}, ' | '"
        f" order by {quote_ident(feed.scope_column)})"
        if feed.scope_column
        else "null"
    )
    if group:
        return (
            f"select _load_id, {bounds}, {scope}, count(*) from {feed.table}"
            f" where {where} group by _load_id"
        )
    return f"select {bounds}, {scope}, count(*) from {feed.table} where {where}"


def loaded(
    feed: Feed,
    display: str,
    rows_read: int,
    period: tuple[date | None, date | None, int],
    load_id: int,
    notes: str | None,
) -> FileResult:
    """The result of a file whose rows are in: ``period`` is (start, end, rows kept) as
    :func:`period_sql` gives them; the rest of the rows read were outside the areas."""
    start, end, rows = period
    return FileResult(
        feed.name,
        display,
        "loaded",
        rows_loaded=rows,
        rows_outside_area=rows_read - rows,
        period_start=start,
        period_end=end,
        load_id=load_id,
        notes=notes,
    )


class FileLoader:
    """Loads files, one at a time, into one open warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.settings = settings
        self.landing = Path(settings.landing)
        self.area = resolve_area(settings.area_code)
        self.today = date.today()

    def display(self, path: Path) -> str:
        return display_name(self.landing, path, self.settings.effective_key)

    def record_unowned(self, path: Path) -> FileResult:
        display = self.display(path)
        sha = ledger.sha256_file(path)
        if any(prev[1] == display for prev in ledger.loads_of_digest(self.con, sha)):
            return FileResult(None, display, "unchanged")
        folder = (
            path.relative_to(self.landing).parts[0]
            if len(path.relative_to(self.landing).parts) > 1
            else None
        )
        where = f"folder '{folder}'" if folder else "the top of the landing folder"
        error = str(
            IngestError(
                display,
                f"no feed owns {where}; put it in one of: {', '.join(FEEDS)}",
            )
        )
        result = FileResult(None, display, "rejected", error=error)
        ledger.record(self.con, result, sha, path)
        log.error(error)
        return result

    def load(
        self, feed: Feed, path: Path, sha: str | None = None, load_id: int | None = None
    ) -> FileResult:
        """Load one file in one transaction.  ``load_id``: one already taken for this file
        (a batch takes its files' ids in delivery order), else the next one."""
        display = self.display(path)
        if ledger.is_unchanged(self.con, display, path):
            return FileResult(feed.name, display, "unchanged")
        sha = sha or ledger.sha256_file(path)
        previous = ledger.loads_of_digest(self.con, sha)
        if any(prev[1] == display for prev in previous):
            return FileResult(feed.name, display, "unchanged")
        earlier = [prev for prev in previous if prev[2] in ("loaded", "superseded")]
        if earlier:
            result = FileResult(
                feed.name,
                display,
                "duplicate",
                notes=f"identical to {earlier[0][1]} (load {earlier[0][0]}); nothing loaded",
                load_id=load_id,
            )
            ledger.record(self.con, result, sha, path)
            return result
        self.con.begin()
        try:
            result, extra = self._load_rows(feed, path, display, sha, load_id)
            ledger.record(self.con, result, sha, path, **extra)
            ledger.supersede(self.con, feed.name, [result.load_id], [result])
            self.con.commit()
        except (IngestError, duckdb.Error) as exc:
            self.con.rollback()
            message = str(exc)
            if not isinstance(exc, IngestError):
                message = f"{display}: could not load: {safe_text(message)}"
            result = FileResult(feed.name, display, "rejected", error=message, load_id=load_id)
            ledger.record(self.con, result, sha, path)
            log.error("rejected %s", message)
        return result

    def _load_rows(
        self, feed: Feed, path: Path, display: str, sha: str, load_id: int | None = None
    ):
        with staged_file(self.con, path, feed, display) as headers:
            present = {c.name: c.name for c in feed.columns if c.name in headers}
            check_header(feed, headers, present, display)
            rows_read = self.con.execute("select count(*) from _in").fetchone()[0]
            if rows_read == 0:
                raise IngestError(display, "the file has a header but no data rows", row=2)
            # each column cleaned and typed once, for the rules and for the insert
            query, values = typed_columns(feed, present)
            self.con.execute(f"create or replace temp table _typed as {query}")
            try:
                rules = build_rules(feed, present, self.today, values=values)
                check_rules(self.con, rules, display, headers, source="_typed")
                check_unique(self.con, feed, present, display, headers)
                load_id = load_id or ledger.next_load_id(self.con)
                loaded_at = ledger.now()
                self.insert(
                    feed,
                    present,
                    str(load_id),
                    sql_literal(display),
                    sql_literal(sha),
                    loaded_at,
                    source="_typed",
                    source_row="_typed._source_row",
                    values={c: f"_typed.{typed}" for c, (_, typed) in values.items()},
                )
            finally:
                with suppress(duckdb.Error):  # an aborted transaction drops it anyway
                    self.con.execute("drop table if exists _typed")
        period_start, period_end, scope, rows = self.con.execute(
            period_sql(feed, "_load_id = ?"), [load_id]
        ).fetchone()
        partial = partial_quarter_note(feed.name, period_end)
        if partial:
            log.warning("%s: %s", display, partial)
        notes = "; ".join(n for n in (ignored_columns_note(feed, headers), partial) if n) or None
        result = loaded(feed, display, rows_read, (period_start, period_end, rows), load_id, notes)
        return result, {"rows_read": rows_read, "scope": scope, "loaded_at": loaded_at}

    def insert(
        self,
        feed: Feed,
        present: dict[str, str],
        load_id: str,
        display: str,
        sha: str,
        loaded_at: datetime,
        source: str = "_in",
        source_row: str = "_source_row",
        con: duckdb.DuckDBPyConnection | None = None,
        values: dict[str, str] | None = None,
    ) -> None:
        """``INSERT … SELECT`` of typed rows from ``source`` (SQL expressions for the
        load metadata; ``values``: contract name -> SQL of the typed value, by default
        converted here from the ``_in`` column); area-filtered feeds keep only rows whose
        LSOA is in an area."""
        if values is None:
            values = {
                c: typed_expr(feed.column(c), f"_in.{quote_ident(name)}")
                for c, name in present.items()
            }
        targets, selects = [], []
        for col in feed.columns:
            targets.append(quote_ident(col.raw_name))
            selects.append(values.get(col.name, "null"))
        if feed.area_filtered:
            targets += ["area_code", "area_name"]
            selects += ["_areas.area_code", "_areas.area_name"]
            source += f" join {areas_sql(self.area)} on {area_match(values['lsoa_name'])}"
        targets += [name for name, _ in LOAD_METADATA]
        selects += [
            load_id,
            display,
            sha,
            f"timestamp '{loaded_at.isoformat(sep=' ')}'",
            source_row,
        ]
        (con or self.con).execute(
            f"insert into {feed.table} ({', '.join(targets)})"
            f" select {', '.join(selects)} from {source}"
        )
