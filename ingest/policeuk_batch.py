"""The police.uk batch load: many files per ``read_csv`` and transaction.

police.uk publishes national street-level files, one per force and month (about 500 a
year, some gigabytes); the warehouse keeps the rows of its areas (``ingest/areas.py``).
Loading them one file at a time costs a statement, a transaction and a full scan per
file; :class:`BatchLoader` loads up to :data:`BATCH_FILES` files / :data:`BATCH_BYTES`
bytes per statement, in parallel parts, with the same ledger, rules and messages as the
one-file path (``ingest/file_load.py``), which takes every file a batch cannot.

A broken row stops a part's statement through DuckDB's ``error()``, whose message is
the only thing it hands back: :func:`marked_file` reads the file index from our own
marker in that message (never from DuckDB's wording), and only from the
``InvalidInputException`` that ``error()`` raises.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from ingest import ledger
from ingest.errors import IngestError
from ingest.feeds import Feed
from ingest.file_load import (
    FileLoader,
    check_header,
    ignored_columns_note,
    loaded,
    period_sql,
    safe_text,
)
from ingest.ledger import FileResult
from ingest.readers import (
    UTF8_BOM,
    csv_options,
    quote_ident,
    read_header,
    register_columns,
    sql_literal,
)
from ingest.validate import build_rules, clean_text, typed_value

log = logging.getLogger("csp.ingest")

# files and bytes per read_csv / transaction
BATCH_FILES = 600
BATCH_BYTES = 1 << 30
BROKEN_ROW = "csp: a row breaks the contract in file index "
MISCOUNTED = "csp: rows miscounted in file index "
_MARKED = re.compile(f"(?:{re.escape(BROKEN_ROW)}|{re.escape(MISCOUNTED)})(\\d+)")


def plain_csv_header(path: Path) -> list[str] | None:
    """The header of a UTF-8 .csv without BOM, else None (such files go one by one)."""
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as fh:
        if fh.read(3) == UTF8_BOM:
            return None
    try:
        return read_header(path, path.name)
    except (IngestError, StopIteration):
        return None


def split(files: list, parts: int) -> list[list]:
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


def csv_source(paths: list[Path], names: list[str]) -> str:
    """``read_csv`` of many files with one header, every column as text, strict quoting."""
    files = "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    return f"read_csv({files}, {csv_options(columns)})"


class Miscounted(Exception):
    """The last file of a part has another number of rows than its line ends said."""

    def __init__(self, index: int) -> None:
        super().__init__(f"{MISCOUNTED}{index}")
        self.index = index


def marked_file(exc: BaseException) -> int | None:
    """The index (in its part) of the file a part's statement stopped at, or None when
    it failed for another reason."""
    if isinstance(exc, Miscounted):
        return exc.index
    if isinstance(exc, duckdb.InvalidInputException):
        found = _MARKED.search(str(exc))
        return int(found.group(1)) if found else None
    return None


class BatchLoader:
    """Loads the files of a CSV feed in batches; :class:`FileLoader` takes the rest."""

    def __init__(self, loader: FileLoader) -> None:
        self.loader = loader
        self.con = loader.con

    def load_many(self, feed: Feed, paths: list[Path]) -> list[FileResult]:
        """Load files of a CSV feed in batches of up to :data:`BATCH_FILES` files /
        :data:`BATCH_BYTES` bytes (see :meth:`_load_batch`).

        Only files that are plainly new (not in the ledger by name, size and time; a
        digest not seen before; a UTF-8 CSV without BOM whose header matches the
        batch's) go into a batch.  Any other file, and every file a batch cannot take
        (a broken row, no rows, a load that fails), goes through
        :meth:`FileLoader.load` one by one, so the ledger, duplicates, superseding and
        error messages are exactly those of the one-file path.  Results come back in
        the order of ``paths``.
        """
        displays = [self.loader.display(p) for p in paths]
        known = ledger.known_files(self.con, feed.name)
        todo = [
            (p, d)
            for p, d in zip(paths, displays, strict=True)
            if (d, *ledger.size_and_time(p)) not in known
        ]
        known_digests = ledger.known_digests(self.con)
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
            digests = [hashing.submit(ledger.sha256_file, p) for p, _ in todo]
            try:
                for (path, display), digest in zip(todo, digests, strict=True):
                    sha = digest.result()
                    header = plain_csv_header(path)
                    fresh = sha not in seen and sha not in known_digests
                    seen.add(sha)
                    if header is None or not fresh:
                        flush(final=True)
                        results[display] = self.loader.load(feed, path, sha)
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
        (see :class:`PartLoad`), so a wrong one never reaches the warehouse.
        """
        header = plain_csv_header(batch[0][0])
        names = register_columns(header, batch[0][1])
        headers = dict(zip(names, header, strict=True))
        present = {c.name: c.name for c in feed.columns if c.name in headers}
        check_header(feed, headers, present, batch[0][1])
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
           through :meth:`FileLoader.load` for its exact error.  Load ids are taken for
           the whole batch in delivery order.
        2. The files are split into as many parts as DuckDB has threads; each part loads
           on its own cursor, in its own transaction (rows and ledger rows together),
           with one ``INSERT … SELECT`` straight from ``read_csv`` that also applies the
           contract rules to every row, inside or outside the areas kept: a row that
           breaks one stops the statement naming its file (:func:`marked_file`), the
           part is rolled back, that file goes through :meth:`FileLoader.load` (which
           names row, column and value) and the rest of the part is loaded again.
           Row numbers come from ``row_number() over ()``, which keeps file order but
           reads on one thread (hence one loader per thread), less the counted rows of
           the part's earlier files; a row number outside its file's counted rows
           stops the statement the same way, and the part's last file is counted
           exactly.
        3. Latest delivery wins (:func:`ingest.ledger.supersede`) over the feed's ledger.
        """
        try:
            names, headers, present, counts = counted.result()
        except (IngestError, duckdb.Error) as exc:
            log.info("batch of %d files goes one by one: %s", len(batch), safe_text(str(exc)))
            return [self.loader.load(feed, path, sha) for path, _, sha in batch]
        # load ids in delivery order, whichever part or path loads the file
        ids = ledger.take_load_ids(self.con, len(batch))
        good, one_by_one = [], []
        for i, (path, display, sha) in enumerate(batch):
            if counts.get(i):
                good.append((path, display, sha, counts[i], ids[i]))
            else:
                one_by_one.append((path, sha, ids[i]))
        part_load = PartLoad(self.loader, feed, present, names, ignored_columns_note(feed, headers))
        results = []
        parts = split(good, self._threads())
        with ThreadPoolExecutor(max_workers=max(1, len(parts))) as loaders:
            for part_results, part_left in loaders.map(part_load.run, parts):
                results += part_results
                one_by_one += part_left
        for path, sha, load_id in sorted(one_by_one, key=lambda item: item[2]):
            results.append(self.loader.load(feed, path, sha, load_id))
        ledger.supersede(self.con, feed.name, None, results)
        return results

    def _threads(self) -> int:
        return int(self.con.execute("select current_setting('threads')").fetchone()[0])


class PartLoad:
    """Loads parts of one batch, each on its own cursor and transaction (thread-safe:
    the only shared state is the warehouse, and DuckDB appends from many connections)."""

    def __init__(self, loader: FileLoader, feed: Feed, present: dict, names: list, notes):
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
            except (duckdb.Error, Miscounted) as exc:
                index = marked_file(exc)
                if index is None:
                    log.info("%d files go one by one: %s", len(part), safe_text(str(exc)))
                    return [], left + [(p, sha, lid) for p, _, sha, _, lid in part]
                left.append((part[index][0], part[index][2], part[index][4]))
                part = part[:index] + part[index + 1 :]
        return [], left

    def _load(self, part: list[tuple[Path, str, str, int, int]]) -> list[FileResult]:
        loader, feed = self.loader, self.feed
        con = loader.con.cursor()
        try:
            con.begin()
            loaded_at = ledger.now()
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
                f" from {csv_source([item[0] for item in part], self.names)})) as _r"
                f" join (values {files})"
                " as _b(_b_fi, _b_load_id, _b_file, _b_sha, _b_first, _b_rows)"
                " on _r._fi = _b._b_fi"
                f" where case when {self.broken} then error('{BROKEN_ROW}' || _fi)"
                f" when _rn > _b_first + _b_rows then error('{MISCOUNTED}' || _fi)"
                f" when _rn <= _b_first then error('{MISCOUNTED}' || (_fi - 1))"
                " else true end) as _in"
            )
            loader.insert(
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
                f"select count(*) from {csv_source([last_path], self.names)}"
            ).fetchone()[0]
            if exact != last_rows:
                raise Miscounted(len(part) - 1)
            period = {
                row[0]: row[1:]
                for row in con.execute(
                    period_sql(feed, "_load_id between ? and ?", group=True),
                    [plan[0][1], plan[-1][1]],
                ).fetchall()
            }
            results = []
            for (path, display, sha, rows_read, load_id), _ in zip(part, plan, strict=True):
                start, end, scope, rows = period.get(load_id, (None, None, None, 0))
                result = loaded(feed, display, rows_read, (start, end, rows), load_id, self.notes)
                results.append(result)
                ledger.record(
                    con,
                    result,
                    sha,
                    path,
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
