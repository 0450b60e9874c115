"""Load the landing folder into the warehouse's ``raw`` schema, one file at a time.

Every file seen gets one row in ``raw.load_log``.  A file loads in its own
transaction: either all of its rows and its ledger row land, or none of its rows
do and the ledger says why (``rejected``, with file, row and column).  Other
files and feeds carry on; nothing loaded before is touched, except that a
corrected file for the same feed, period and scope marks the earlier load
``superseded`` (its rows stay in the raw table as history).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import logging
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ingest.config import SAMPLE_MARKER, Settings, warn_if_demo_key_on_real_data
from ingest.coverage import partial_quarter_note
from ingest.errors import IngestError
from ingest.feeds import FEEDS, Feed
from ingest.landing import (
    discover,
    display_name,
    held_back,
    link_message,
    scan,
    settled_only,
    unsettled_files,
)
from ingest.pseudonymise import check_key
from ingest.pseudonymise import register as register_pseudonymiser
from ingest.readers import (
    UTF8_BOM,
    _read_header,
    _register_columns,
    csv_options,
    quote_ident,
    sql_literal,
    staged_file,
)
from ingest.redact import mask_refs, one_line
from ingest.schema import LOAD_METADATA, ensure_schema
from ingest.validate import (
    build_rules,
    check_rules,
    check_unique,
    clean_text,
    typed_expr,
    typed_value,
)

log = logging.getLogger("csp.ingest")

REFERENCE = Path(__file__).parent / "reference"
# police.uk batches: files and bytes per read_csv / transaction
BATCH_FILES = 600
BATCH_BYTES = 1 << 30
ALL_AREAS = "all"


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


def local_authorities() -> dict[str, str]:
    """Local authority code -> name (England and Wales, April 2022 boundaries)."""
    return {code: name for code, (name, _) in _authorities().items()}


@functools.cache
def _authorities() -> dict[str, tuple[str, str]]:
    """Local authority code -> (name, how its police.uk LSOA names start)."""
    with (REFERENCE / "local_authorities.csv").open(encoding="utf-8") as fh:
        return {r["area_code"]: (r["area_name"], r["lsoa_prefix"]) for r in csv.DictReader(fh)}


def resolve_area(area: str) -> tuple[str, str] | None:
    """``CSP_AREA`` (a code or a name) -> (code, name); None means every area."""
    if area.strip().lower() == ALL_AREAS:
        return None
    areas = local_authorities()
    if area in areas:
        return area, areas[area]
    for code, name in areas.items():
        if name.lower() == area.strip().lower():
            return code, name
    raise ValueError(
        f"CSP_AREA={area!r} is not a local authority code or name known to"
        f" ingest/reference/local_authorities.csv (or 'all')"
    )


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing, with the memory cap; waits (bounded) for DuckDB's file
    lock and explains a damaged file or a full disk (ingest/warehouse_file.py)."""
    from ingest.warehouse_file import disk_full, open_warehouse

    Path(settings.warehouse).parent.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(settings.warehouse)
    with disk_full(settings.warehouse):
        ensure_schema(con)
    register_pseudonymiser(con, settings.effective_key)
    return con


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _plain_csv_header(path: Path) -> list[str] | None:
    """The header of a UTF-8 .csv without BOM, else None (such files go one by one)."""
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as fh:
        if fh.read(3) == UTF8_BOM:
            return None
    try:
        return _read_header(path, path.name)
    except (IngestError, StopIteration):
        return None


def _safe_text(text: str) -> str:
    """The first line of a library's message, as safe to log as an IngestError."""
    lines = text.strip().splitlines()
    return one_line(mask_refs(lines[0] if lines else text))


class Loader:
    """Loads files into one open warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.settings = settings
        self.landing = Path(settings.landing)
        self.area = resolve_area(settings.area_code)
        self.today = date.today()

    # -- ledger -------------------------------------------------------------------
    def _display(self, path: Path) -> str:
        return display_name(self.landing, path, self.settings.effective_key)

    def _ledger(
        self,
        result: FileResult,
        sha: str,
        path: Path,
        con: duckdb.DuckDBPyConnection | None = None,
        **extra,
    ) -> int:
        con = con or self.con
        load_id = result.load_id or con.execute("select nextval('raw.load_id_seq')").fetchone()[0]
        size, received = _size_and_time(path)
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
                extra.get("loaded_at") or datetime.now(UTC).replace(tzinfo=None),
                extra.get("rows_read"),
                result.rows_loaded,
                result.rows_outside_area,
                result.period_start,
                result.period_end,
                extra.get("scope"),
                result.status,
                result.error,
                result.notes,
            ],
        )
        result.load_id = load_id
        return load_id

    def _next_load_id(self) -> int:
        return self.con.execute("select nextval('raw.load_id_seq')").fetchone()[0]

    def _known_unchanged(self, display: str, path: Path) -> bool:
        """Already in the ledger under this name, size and modification time: not re-read.

        (Like make and rsync: a file rewritten with the same size inside the same
        microsecond is the one change this misses.)  Saves hashing gigabytes of
        police.uk archives every night.
        """
        return (
            self.con.execute(
                "select count(*) from raw.load_log where file_name = ? and size_bytes = ?"
                " and received_at = ?",
                [display, *_size_and_time(path)],
            ).fetchone()[0]
            > 0
        )

    def _previous(self, sha: str) -> list[tuple]:
        return self.con.execute(
            "select load_id, file_name, status from raw.load_log where sha256 = ? order by load_id",
            [sha],
        ).fetchall()

    # -- files --------------------------------------------------------------------
    def record_unowned(self, path: Path) -> FileResult:
        display = self._display(path)
        sha = sha256_file(path)
        if any(prev[1] == display for prev in self._previous(sha)):
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
        self._ledger(result, sha, path)
        log.error(error)
        return result

    def load(
        self, feed: Feed, path: Path, sha: str | None = None, load_id: int | None = None
    ) -> FileResult:
        """Load one file in one transaction.  ``load_id``: one already taken for this file
        (a batch takes its files' ids in delivery order), else the next one."""
        display = self._display(path)
        if self._known_unchanged(display, path):
            return FileResult(feed.name, display, "unchanged")
        sha = sha or sha256_file(path)
        previous = self._previous(sha)
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
            self._ledger(result, sha, path)
            return result
        self.con.begin()
        try:
            result, extra = self._load_rows(feed, path, display, sha, load_id)
            self._ledger(result, sha, path, **extra)
            self._supersede(feed, [result.load_id], [result])
            self.con.commit()
        except (IngestError, duckdb.Error) as exc:
            self.con.rollback()
            message = str(exc)
            if not isinstance(exc, IngestError):
                message = f"{display}: could not load: {_safe_text(message)}"
            result = FileResult(feed.name, display, "rejected", error=message, load_id=load_id)
            self._ledger(result, sha, path)
            log.error("rejected %s", message)
        return result

    # -- police.uk: many files per statement --------------------------------------
    def load_many(self, feed: Feed, paths: list[Path]) -> list[FileResult]:
        """Load files of a CSV feed in batches of up to :data:`BATCH_FILES` files /
        :data:`BATCH_BYTES` bytes (see :meth:`_load_batch`).

        Only files that are plainly new (not in the ledger by name, size and time; a
        digest not seen before; a UTF-8 CSV without BOM whose header matches the
        batch's) go into a batch.  Any other file, and every file a batch cannot take
        (a broken row, no rows, a load that fails), goes through :meth:`load` one by
        one, so the ledger, duplicates, superseding and error messages are exactly
        those of the one-file path.  Results come back in the order of ``paths``.
        """
        displays = [self._display(p) for p in paths]
        known = set(
            self.con.execute(
                "select file_name, size_bytes, received_at from raw.load_log where feed = ?",
                [feed.name],
            ).fetchall()
        )
        todo = [
            (p, d)
            for p, d in zip(paths, displays, strict=True)
            if (d, *_size_and_time(p)) not in known
        ]
        known_digests = {
            row[0] for row in self.con.execute("select sha256 from raw.load_log").fetchall()
        }
        results: dict[str, FileResult] = {
            d: FileResult(feed.name, d, "unchanged") for d in displays
        }
        seen: set[str] = set()
        batch: list[tuple[Path, str, str]] = []
        batch_header: list[str] | None = None
        batch_bytes = 0
        # a full batch is counted (step 1 of _load_batch) while the one before it loads
        pending: tuple[list, int, Future] | None = None
        counter = self.con.cursor()

        def finish() -> None:
            nonlocal pending
            if pending is not None:
                files, size, counted = pending
                pending = None
                started = time.monotonic()
                for result in self._load_batch(feed, files, counted):
                    results[result.file_name] = result
                log.info(
                    "[%s] batch of %d files (%.2f GB) in %.1fs",
                    feed.name,
                    len(files),
                    size / 1e9,
                    time.monotonic() - started,
                )

        def flush(final: bool = False) -> None:
            nonlocal batch, batch_header, batch_bytes, pending
            if batch:
                counted = counting.submit(self._count_batch, counter, feed, batch)
                finish()
                pending = (batch, batch_bytes, counted)
            if final:
                finish()
            batch, batch_header, batch_bytes = [], None, 0

        # digests on two threads, running ahead of the loads they feed (hashlib and
        # DuckDB both release the GIL, so hashing overlaps the previous batch's load)
        with (
            contextlib.closing(counter),  # closed after the executors below have shut down
            ThreadPoolExecutor(max_workers=2) as hashing,
            ThreadPoolExecutor(max_workers=1) as counting,
        ):
            digests = [hashing.submit(sha256_file, p) for p, _ in todo]
            try:
                for (path, display), digest in zip(todo, digests, strict=True):
                    sha = digest.result()
                    header = _plain_csv_header(path)
                    fresh = sha not in seen and sha not in known_digests
                    seen.add(sha)
                    if header is None or not fresh:
                        flush(final=True)
                        results[display] = self.load(feed, path, sha)
                        continue
                    if batch_header and header != batch_header:
                        flush()
                    batch.append((path, display, sha))
                    batch_header = header
                    batch_bytes += path.stat().st_size
                    if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
                        flush()
                flush(final=True)
            finally:
                for digest in digests:
                    digest.cancel()
        return [results[d] for d in displays]

    def _count_batch(
        self, con: duckdb.DuckDBPyConnection, feed: Feed, batch: list[tuple[Path, str, str]]
    ) -> tuple[list[str], dict[str, str], dict[str, str], dict[int, int]]:
        """Step 1 of :meth:`_load_batch`, on its own cursor: the header's columns and each
        file's data rows (file index -> rows) as its line ends say.

        Line ends are counted on the text, not by the CSV parser: three times cheaper,
        and exact unless a quoted value spans lines or a line is blank (DuckDB skips
        blank lines).  The loaders check every count against DuckDB's own row numbers
        (see :class:`_PartLoad`), so a wrong one never reaches the warehouse.
        """
        header = _plain_csv_header(batch[0][0])
        names = _register_columns(header, batch[0][1])
        headers = dict(zip(names, header, strict=True))
        present = {c.name: c.name for c in feed.columns if c.name in headers}
        self._check_header(feed, headers, present, batch[0][1])
        index = {str(path): i for i, (path, _, _) in enumerate(batch)}
        files = "[" + ", ".join(sql_literal(p) for p in index) + "]"
        counts = con.execute(
            "select filename, len(string_split(content, chr(10))) - 1"
            f" - ends_with(content, chr(10))::integer from read_text({files})"
        ).fetchall()
        return names, headers, present, {index[name]: rows for name, rows in counts}

    def _load_batch(
        self, feed: Feed, batch: list[tuple[Path, str, str]], counted: Future
    ) -> list[FileResult]:
        """One batch: rows counted per file, the rows in parallel loaders, superseding.

        1. Each file's rows, counted from its line ends (:meth:`_count_batch`;
           ``counted`` ran while the previous batch loaded); a file with none goes
           through :meth:`load` for its exact error.  Load ids are taken for the whole
           batch in delivery order.
        2. The files are split into as many parts as DuckDB has threads; each part loads
           on its own cursor, in its own transaction (rows and ledger rows together),
           with one ``INSERT … SELECT`` straight from ``read_csv`` that also applies the
           contract rules to every row, inside or outside the areas kept: a row that
           breaks one stops the statement naming its file, the part is rolled back, that
           file goes through :meth:`load` (which names row, column and value) and the
           rest of the part is loaded again.  Row numbers come from ``row_number() over
           ()``, which keeps file order but reads on one thread (hence one loader per
           thread), less the counted rows of the part's earlier files; a row number
           outside its file's counted rows stops the statement the same way, and the
           part's last file is counted exactly.
        3. Latest delivery wins (:meth:`_supersede`) over the feed's ledger.
        """
        try:
            names, headers, present, counts = counted.result()
        except (IngestError, duckdb.Error) as exc:
            log.info("batch of %d files goes one by one: %s", len(batch), _safe_text(str(exc)))
            return [self.load(feed, path, sha) for path, _, sha in batch]
        # load ids in delivery order, whichever part or path loads the file
        ids = sorted(
            row[0]
            for row in self.con.execute(
                "select nextval('raw.load_id_seq') from range(?)", [len(batch)]
            ).fetchall()
        )
        good, one_by_one = [], []
        for i, (path, display, sha) in enumerate(batch):
            if counts.get(i):
                good.append((path, display, sha, counts[i], ids[i]))
            else:
                one_by_one.append((path, sha, ids[i]))
        part_load = _PartLoad(self, feed, present, names, _ignored_columns_note(feed, headers))
        results = []
        parts = _split(good, self._threads())
        with ThreadPoolExecutor(max_workers=max(1, len(parts))) as loaders:
            for part_results, part_left in loaders.map(part_load.run, parts):
                results += part_results
                one_by_one += part_left
        for path, sha, load_id in sorted(one_by_one, key=lambda item: item[2]):
            results.append(self.load(feed, path, sha, load_id))
        self._supersede(feed, None, results)
        return results

    def _threads(self) -> int:
        return int(self.con.execute("select current_setting('threads')").fetchone()[0])

    def _load_rows(
        self, feed: Feed, path: Path, display: str, sha: str, load_id: int | None = None
    ):
        with staged_file(self.con, path, feed, display) as headers:
            present = {c.name: c.name for c in feed.columns if c.name in headers}
            self._check_header(feed, headers, present, display)
            rows_read = self.con.execute("select count(*) from _in").fetchone()[0]
            if rows_read == 0:
                raise IngestError(display, "the file has a header but no data rows", row=2)
            check_rules(self.con, build_rules(feed, present, self.today), display, headers)
            check_unique(self.con, feed, present, display, headers)
            load_id = load_id or self._next_load_id()
            loaded_at = datetime.now(UTC).replace(tzinfo=None)
            self._insert(
                feed, present, str(load_id), sql_literal(display), sql_literal(sha), loaded_at
            )
        period_start, period_end, scope, rows = self._period(feed, load_id)
        partial = partial_quarter_note(feed.name, period_end)
        if partial:
            log.warning("%s: %s", display, partial)
        notes = "; ".join(n for n in (_ignored_columns_note(feed, headers), partial) if n) or None
        result = FileResult(
            feed.name,
            display,
            "loaded",
            rows_loaded=rows,
            rows_outside_area=rows_read - rows,
            period_start=period_start,
            period_end=period_end,
            load_id=load_id,
            notes=notes,
        )
        return result, {"rows_read": rows_read, "scope": scope, "loaded_at": loaded_at}

    def _check_header(self, feed: Feed, headers: dict, present: dict, display: str) -> None:
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

    def _insert(
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
            source += f" join {self._areas_sql()} on {_area_match(values['lsoa_name'])}"
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

    def _areas_sql(self) -> str:
        """The areas this warehouse keeps, as an inline table ``_areas``."""
        areas = _authorities()
        if self.area is not None:
            areas = {self.area[0]: areas[self.area[0]]}
        values = ", ".join(
            f"({sql_literal(code)}, {sql_literal(name)}, {sql_literal(prefix)})"
            for code, (name, prefix) in areas.items()
        )
        return f"(values {values}) as _areas(area_code, area_name, lsoa_prefix)"

    def _period(self, feed: Feed, load_id: int):
        return self.con.execute(self._period_sql(feed, "_load_id = ?"), [load_id]).fetchone()

    def _period_sql(self, feed: Feed, where: str, group: bool = False) -> str:
        if feed.name == "partner_returns":
            start = (
                "make_date(cast(left(fiscal_year, 4) as integer) + (quarter = 4)::integer,"
                " (quarter * 3) % 12 + 1, 1)"
            )
            bounds = f"min({start}), max({start} + interval 3 month - interval 1 day)"
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

    def _supersede(
        self, feed: Feed, load_ids: list[int] | None, results: list[FileResult] = ()
    ) -> None:
        """Latest delivery wins: a ``loaded`` load of this feed with the same period and
        scope as a later ``loaded`` load with rows becomes ``superseded`` by the latest.

        ``load_ids`` limits the later loads looked at (the ones just loaded); None looks
        at all of them, which repairs a ledger left by a run that stopped between a
        batch's commit and its superseding.  The superseding loads' notes (in the ledger
        and in ``results``) name what they supersede.
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
        superseded = self.con.execute(
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
            [feed.name],
        ).fetchall()
        names: dict[int, list[str]] = {}
        for load_id, file_name in superseded:
            names.setdefault(load_id, []).append(file_name)
        by_id = {r.load_id: r for r in results}
        for load_id, files in sorted(names.items()):
            note = f"supersedes {', '.join(sorted(files))}"
            old = self.con.execute(
                "select notes, file_name from raw.load_log where load_id = ?", [load_id]
            ).fetchone()
            notes = f"{old[0]}; {note}" if old[0] else note
            self.con.execute(
                "update raw.load_log set notes = ? where load_id = ?", [notes, load_id]
            )
            if load_id in by_id:
                by_id[load_id].notes = notes
            log.info("%s %s", old[1], note)


def _csv_source(paths: list[Path], names: list[str]) -> str:
    """``read_csv`` of many files with one header, every column as text, strict quoting."""
    files = "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return f"read_csv({files}, {csv_options(columns)})"


BROKEN_ROW = "csp: a row breaks the contract in file index "
MISCOUNTED = "csp: rows miscounted in file index "


class _Miscounted(Exception):
    """The last file of a part has another number of rows than its line ends said."""

    def __init__(self, index: int) -> None:
        super().__init__(f"{MISCOUNTED}{index}")


class _PartLoad:
    """Loads parts of one batch, each on its own cursor and transaction (thread-safe:
    the only shared state is the warehouse, and DuckDB appends from many connections)."""

    def __init__(self, loader: Loader, feed: Feed, present: dict, names: list, notes):
        self.loader, self.feed, self.present, self.names = loader, feed, present, names
        self.notes = notes
        # each column cleaned and typed once, for the rules and for the insert
        self.clean = {c: quote_ident(f"_c_{c}") for c in present}
        self.typed = {c: quote_ident(f"_t_{c}") for c in present}
        rules = build_rules(
            feed,
            present,
            loader.today,
            values={c: (self.clean[c], self.typed[c]) for c in present},
        )
        self.broken = " or ".join(f"coalesce({r.condition}, false)" for r in rules) or "false"

    def run(self, part: list[tuple[Path, str, str, int, int]]):
        """Load ``part`` (path, name, sha256, rows counted, load id); -> (results,
        [(path, sha256, load id)] left for the one-file path)."""
        left: list[tuple[Path, str, int]] = []
        while part:
            try:
                return self._load(part), left
            except (duckdb.Error, _Miscounted) as exc:
                message = str(exc)
                marker = next((m for m in (BROKEN_ROW, MISCOUNTED) if m in message), None)
                if marker is None:
                    log.info("%d files go one by one: %s", len(part), _safe_text(message))
                    return [], left + [(p, sha, lid) for p, _, sha, _, lid in part]
                index = int(message.split(marker, 1)[1].split()[0].strip("'\"."))
                left.append((part[index][0], part[index][2], part[index][4]))
                part = part[:index] + part[index + 1 :]
        return [], left

    def _load(self, part: list[tuple[Path, str, str, int, int]]) -> list[FileResult]:
        loader, feed = self.loader, self.feed
        con = loader.con.cursor()
        try:
            con.begin()
            loaded_at = datetime.now(UTC).replace(tzinfo=None)
            plan, first = [], 0
            for index, (_, display, sha, rows, load_id) in enumerate(part):
                plan.append((index, load_id, display, sha, first))
                first += rows
            cleaned = ", ".join(
                f"{clean_text(quote_ident(self.present[c]))} as {self.clean[c]}"
                for c in self.present
            )
            typed = ", ".join(
                f"{typed_value(feed.column(c), self.clean[c])} as {self.typed[c]}"
                for c in self.present
            )
            files = ", ".join(
                f"({i}, {load_id}, {sql_literal(d)}, {sql_literal(sha)}, {first}, {rows})"
                for (i, load_id, d, sha, first), (*_, rows, _) in zip(plan, part, strict=True)
            )
            # every row is checked before the area join; error() stops the statement: a
            # broken row, or a row number outside its file's counted rows (too few counted
            # for this file, or too many for the file before it)
            source = (
                f"(select * from (select *, {typed} from ("
                f"select row_number() over () as _rn, file_index as _fi, {cleaned}"
                f" from {_csv_source([item[0] for item in part], self.names)})) as _r"
                f" join (values {files})"
                " as _b(_b_fi, _b_load_id, _b_file, _b_sha, _b_first, _b_rows)"
                " on _r._fi = _b._b_fi"
                f" where case when {self.broken} then error('{BROKEN_ROW}' || _fi)"
                f" when _rn > _b_first + _b_rows then error('{MISCOUNTED}' || _fi)"
                f" when _rn <= _b_first then error('{MISCOUNTED}' || (_fi - 1))"
                " else true end) as _in"
            )
            loader._insert(
                feed,
                self.present,
                con=con,
                source=source,
                load_id="_in._b_load_id",
                display="_in._b_file",
                sha="_in._b_sha",
                loaded_at=loaded_at,
                source_row="_in._rn - _in._b_first + 1",
                values={c: f"_in.{self.typed[c]}" for c in self.present},
            )
            # no later file can show the last one's count too high: count it exactly
            last_path, _, _, last_rows, _ = part[-1]
            exact = con.execute(
                f"select count(*) from {_csv_source([last_path], self.names)}"
            ).fetchone()[0]
            if exact != last_rows:
                raise _Miscounted(len(part) - 1)
            period = {
                row[0]: row[1:]
                for row in con.execute(
                    loader._period_sql(feed, "_load_id between ? and ?", group=True),
                    [plan[0][1], plan[-1][1]],
                ).fetchall()
            }
            results = []
            for (path, display, sha, rows_read, load_id), _ in zip(part, plan, strict=True):
                start, end, scope, rows = period.get(load_id, (None, None, None, 0))
                result = FileResult(
                    feed.name,
                    display,
                    "loaded",
                    rows_loaded=rows,
                    rows_outside_area=rows_read - rows,
                    period_start=start,
                    period_end=end,
                    load_id=load_id,
                    notes=self.notes,
                )
                results.append(result)
                loader._ledger(
                    result,
                    sha,
                    path,
                    con=con,
                    rows_read=rows_read,
                    scope=scope,
                    loaded_at=loaded_at,
                )
            con.commit()
            return results
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            raise
        finally:
            con.close()


def _size_and_time(path: Path) -> tuple[int, datetime]:
    """A file's size and modification time as the ledger records them."""
    stat = path.stat()
    return stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)


def _area_match(lsoa: str) -> str:
    """Join condition: a police.uk LSOA name is its authority's name, a space and a
    4-character code (``Stockton-on-Tees 011D``).  A suffix cut that must equal a known
    authority's name, not a regular expression: this runs on every national row."""
    return f"left({lsoa}, length({lsoa}) - 5) = _areas.lsoa_prefix"


def _split(files: list, parts: int) -> list[list]:
    """Consecutive parts of about equal bytes (a file's size from its path, item[0])."""
    if not files:
        return []
    parts = max(1, min(parts, len(files)))
    total = sum(item[0].stat().st_size for item in files)
    out: list[list] = [[]]
    done = 0
    for item in files:
        if len(out) < parts and out[-1] and done >= total * len(out) / parts:
            out.append([])
        out[-1].append(item)
        done += item[0].stat().st_size
    return out


def _ignored_columns_note(feed: Feed, headers: dict[str, str]) -> str | None:
    extra = sorted(set(headers) - {c.name for c in feed.columns})
    if not extra:
        return None
    return "ignored columns not in the contract: " + ", ".join(headers[c] for c in extra)


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed_name: str,
    files: Iterable[Path] | None = None,
) -> list[FileResult]:
    """Load every new file of one feed's landing folder."""
    feed = FEEDS[feed_name]
    check_key(con, settings)
    if files is None:
        files = discover(Path(settings.landing))[0][feed_name]
    files = settled_only(settings, list(files))
    loader = Loader(con, settings)
    loader._supersede(feed, None)  # repairs a run stopped between a commit and its superseding
    results = []
    started = time.monotonic()
    if feed.area_filtered:  # police.uk: national volumes, many files a month
        batched = loader.load_many(feed, files)
    for index, path in enumerate(files, start=1):
        result = batched[index - 1] if feed.area_filtered else loader.load(feed, path)
        results.append(result)
        if result.status != "unchanged":
            log.info(
                "[%s] %d/%d %s: %s%s",
                feed_name,
                index,
                len(files),
                result.file_name,
                result.status,
                f" {result.rows_loaded:,} rows" if result.status == "loaded" else "",
            )
    if files:
        log.info("[%s] %d files in %.1fs", feed_name, len(files), time.monotonic() - started)
    return results


def record_unowned(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[FileResult]:
    """Ledger rows for settled files no feed owns; each symbolic link is logged (WARNING)."""
    check_key(con, settings)
    found = scan(Path(settings.landing))
    for link in found.links:
        log.warning("skipped: %s", link_message(settings, link))
    loader = Loader(con, settings)
    return [loader.record_unowned(p) for p in settled_only(settings, found.unowned)]


def ingest_landing(settings: Settings, feeds: Iterable[str] | None = None) -> list[FileResult]:
    """Load every new file of the landing folder (all feeds unless ``feeds`` is given)."""
    warn_if_demo_key_on_real_data(settings)
    landing = Path(settings.landing)
    owned, _ = discover(landing)
    con = connect(settings)
    try:
        results = []
        for name in feeds or FEEDS:
            results += ingest_feed(con, settings, name, owned[name])
        if feeds is None:
            results += record_unowned(con, settings)
        return results
    finally:
        con.close()


__all__ = [
    "SAMPLE_MARKER",
    "FileResult",
    "connect",
    "discover",
    "held_back",
    "ingest_feed",
    "ingest_landing",
    "record_unowned",
    "resolve_area",
    "unsettled_files",
]


# -- is there anything to do? (the nightly schedule asks before it starts a run) ------
def build_state_path(settings: Settings) -> Path:
    """Where the last build that was published records what it was built from (written
    atomically by the ``serving`` asset after the publication succeeded)."""
    return Path(settings.warehouse).with_suffix(".last_build.json")


def read_build_state(settings: Settings) -> dict | None:
    """The recorded build fingerprint; None when absent, empty or corrupt (a corrupt
    state file only means "rebuild", never an error)."""
    import json

    try:
        recorded = json.loads(build_state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None


def build_fingerprint(settings: Settings, last_load_id: int) -> dict[str, str | int]:
    return {
        "last_load_id": last_load_id,
        "as_of": settings.effective_as_of.isoformat(),
        "area": settings.area_code,
    }


def pending_files(settings: Settings) -> list[str]:
    """Landing files not in the ledger under the same name, size and modification time.

    Opens the warehouse read-only and hashes nothing: a scan of the landing folder and
    one query, so a nightly with nothing new costs well under a second.
    """
    owned, unowned = discover(Path(settings.landing))
    files = [p for paths in owned.values() for p in paths] + unowned
    if not files:
        return []
    landing = Path(settings.landing)
    names = [display_name(landing, p, settings.effective_key) for p in files]
    if not Path(settings.warehouse).exists():
        return names
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        known = set(
            con.execute("select file_name, size_bytes, received_at from raw.load_log").fetchall()
        )
    except duckdb.Error:
        return names
    finally:
        con.close()
    pending = []
    for path, name in zip(files, names, strict=True):
        if (name, *_size_and_time(path)) not in known:
            pending.append(name)
    return pending


def nothing_to_do(settings: Settings) -> str | None:
    """Why a nightly run can be skipped, or None when it must run.

    Skipped only when no landing file is new or changed *and* the last successful
    build was made from the same ledger, as-of date and area (an as-of date that moves
    every day, the default, therefore rebuilds the marts every night).
    """
    if pending_files(settings):
        return None
    recorded = read_build_state(settings)
    if recorded is None:
        return None
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:  # a run is writing it: let the run queue decide
        return None
    try:
        last = con.execute("select coalesce(max(load_id), 0) from raw.load_log").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()
    if recorded != build_fingerprint(settings, last):
        return None
    return (
        f"no new or changed files in {settings.landing} and the marts were built from"
        f" this ledger for as-of {recorded['as_of']}"
    )
