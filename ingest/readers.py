"""Turn one delivered file into a DuckDB table of text columns with source row numbers.

CSV files stream through DuckDB's own reader (nothing is held in Python memory);
Windows-1252 files are transcoded to UTF-8 in fixed-size chunks first.  Excel
workbooks are small by nature and are read with openpyxl (read-only, streaming), with
the header row found below any title rows; a workbook larger than
:data:`XLSX_LIMITS` allows — by its zip entries' uncompressed size or by a sheet's
declared dimensions — is rejected before any sheet is parsed, and no row is read past
:data:`MAX_XLSX_COLUMNS` columns (a 52 KB file with one cell at column XFD on each of
10,000 rows took 2.7 GB through pandas).
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
import zipfile
from contextlib import contextmanager, suppress
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import read_dimension

from ingest.errors import IngestError
from ingest.feeds import Feed, normalise_header

CSV_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
HEADER_SEARCH_ROWS = 10
CHUNK = 1 << 20
# a CSV line longer than this is an error (DuckDB's max_line_size, stated here once)
MAX_LINE_BYTES = 2_000_000
# workbooks: far above any agency export (a dozen columns, thousands of rows)
MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_XLSX_COLUMNS = 100
MAX_XLSX_ROWS = 200_000
XLSX_LIMITS = (
    f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB uncompressed,"
    f" {MAX_XLSX_COLUMNS} columns (to {get_column_letter(MAX_XLSX_COLUMNS)}),"
    f" {MAX_XLSX_ROWS:,} rows per sheet"
)

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _detect_encoding(path: Path, feed: Feed, display: str) -> str:
    """Return 'utf-8' or 'windows-1252' for this file, or raise a clear error."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise IngestError(display, "the file is empty (0 bytes)")
    if head.startswith(UTF16_BOMS):
        raise IngestError(
            display,
            f"the file is UTF-16 encoded; the {feed.name} contract is {feed.encoding}"
            " (re-export as CSV UTF-8)",
            row=1,
        )
    if feed.encoding == "utf-8" or head.startswith(UTF8_BOM):
        return "utf-8"
    # A Windows-1252 feed may also send UTF-8 (plain ASCII is both): prefer UTF-8 when
    # the whole file decodes as UTF-8, else read it as Windows-1252.
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "windows-1252"
    return "utf-8"


def _first_bad_line(path: Path, encoding: str) -> tuple[int, str]:
    """Line number and reason of the first line that does not decode."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                byte = raw[exc.start : exc.start + 1].hex()
                return number, f"byte 0x{byte} at position {exc.start + 1}"
    return 0, "unknown position"


def _transcode(path: Path, display: str, tmpdir: Path) -> Path:
    out = tmpdir / (path.stem + ".utf8.csv")
    try:
        with (
            path.open("r", encoding="windows-1252", newline="") as src,
            out.open("w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(CHUNK):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        line, where = _first_bad_line(path, "windows-1252")
        raise IngestError(
            display, f"not valid Windows-1252 text ({where}): {exc.reason}", row=line
        ) from exc
    return out


def read_header(path: Path, display: str) -> list[str]:
    """The header row of a UTF-8 file (only the first line is decoded here)."""
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(display, "the header is not valid utf-8 text", row=1) from exc
    if not text.strip():
        raise IngestError(display, "the first line is empty: no header row", row=1)
    return next(csv.reader([text]))


def register_columns(header: list[str], display: str) -> list[str]:
    """The header as normalised column names (blank ones numbered); a name twice is an
    error naming both positions."""
    names = [normalise_header(h) for h in header]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            names[index] = f"unnamed_{index + 1}"
        elif name in seen:
            raise IngestError(
                display,
                f"column '{header[index]}' appears twice in the header"
                f" (positions {seen[name] + 1} and {index + 1})",
                row=1,
                column=header[index],
            )
        seen[names[index]] = index
    return names


# read only when DuckDB's rejects table has nothing (see _reject_from_text)
_DUCK_LINE = re.compile(r"CSV Error on Line: (\d+)")
_DUCK_FIELDS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def csv_options(columns: str) -> str:
    """The ``read_csv`` options of every delivered CSV (after the file list)."""
    return (
        "header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"',"
        f" strict_mode = true, null_padding = false, max_line_size = {MAX_LINE_BYTES},"
        f" columns = {columns}"
    )


def _first_reject(con: duckdb.DuckDBPyConnection, source: str, columns: str):
    """(line, error type, column index) of the file's first broken line, from DuckDB's own
    rejects table (a structured signal, unlike the error text); None if none is found.

    A line with too few or too many fields has one rejects row per missing or extra
    field; its first (lowest ``column_idx``) is where the line ends, so ``column_idx`` is
    the number of fields found, as DuckDB's message says."""
    # on a cursor of its own: the failed read may have aborted the caller's transaction
    con = con.cursor()
    try:
        con.execute(
            f"select count(*) from read_csv({sql_literal(source)}, {csv_options(columns)},"
            " store_rejects = true, rejects_table = '_csp_rejects',"
            " rejects_scan = '_csp_scans')"
        ).fetchall()
        return con.execute(
            "select line, error_type, column_idx from _csp_rejects"
            " order by line, column_idx limit 1"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()  # its temporary rejects tables go with it


def _reject_from_text(text: str, expected: int) -> tuple[int | None, str | None, int | None]:
    """What :func:`_first_reject` gives, read from DuckDB's message instead: only when the
    rejects table had nothing (its message is then all DuckDB says)."""
    match = _DUCK_LINE.search(text)
    line = int(match.group(1)) if match else None
    fields = _DUCK_FIELDS.search(text)
    if "Invalid unicode" in text:
        return line, "INVALID UNICODE", None
    if fields:
        found = int(fields.group(2))
        return line, "TOO MANY COLUMNS" if found > expected else "MISSING COLUMNS", found
    if "unterminated quote" in text.lower():
        return line, "UNQUOTED VALUE", None
    return line, None, None


def _explain_duckdb_csv_error(
    exc: duckdb.Error, display: str, encoding: str, expected: int, reject: tuple | None
) -> IngestError:
    """The message for a CSV DuckDB cannot read, chosen by the error type of the first
    rejected line (``reject``, from :func:`_first_reject`)."""
    text = str(exc)
    line, kind, column = reject if reject else _reject_from_text(text, expected)
    if kind == "LINE SIZE OVER MAXIMUM":
        return IngestError(display, f"line too long (maximum {MAX_LINE_BYTES:,} bytes)", row=line)
    if kind == "INVALID UNICODE":
        return IngestError(
            display,
            f"not valid {encoding} text; the contract says {encoding}"
            " (was it saved as Windows-1252 / ANSI?)",
            row=line,
        )
    if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        return IngestError(
            display,
            f"expected {expected} fields but found {column} (truncated or malformed line)",
            row=line,
        )
    if kind == "UNQUOTED VALUE":
        return IngestError(display, "unterminated quoted field", row=line)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return IngestError(display, f"unreadable CSV: {first}", row=line)


@contextmanager
def staged_file(con: duckdb.DuckDBPyConnection, path: Path, feed: Feed, display: str):
    """Create temp table ``_in`` (text columns + ``_source_row``).

    Yields ``{normalised column name: header as delivered}``.

    ``_source_row`` is the row number a person sees in a spreadsheet: the header is
    row 1 of a CSV, and title rows above an Excel header count too.
    """
    suffix = path.suffix.lower()
    con.execute("drop table if exists _in")
    with tempfile.TemporaryDirectory(prefix="csp-ingest-") as tmp:
        if suffix in CSV_SUFFIXES:
            columns = _stage_csv(con, path, feed, display, Path(tmp))
        elif suffix in EXCEL_SUFFIXES:
            columns = _stage_excel(con, path, feed, display)
        else:
            raise IngestError(
                display,
                f"unsupported file type '{path.suffix}': expected .csv or .xlsx",
            )
        try:
            yield columns
        finally:
            with suppress(duckdb.Error):  # an aborted transaction drops it anyway
                con.execute("drop table if exists _in")


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, feed: Feed, display: str, tmp: Path
) -> dict[str, str]:
    encoding = _detect_encoding(path, feed, display)
    source = path if encoding == "utf-8" else _transcode(path, display, tmp)
    header = read_header(source, display)
    names = register_columns(header, display)
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(
            f"""
            create temp table _in as
            select row_number() over () + 1 as _source_row, *
            from read_csv({sql_literal(str(source))}, {csv_options(columns)})
            """
        )
    except duckdb.Error as exc:
        reject = _first_reject(con, str(source), columns)
        raise _explain_duckdb_csv_error(exc, display, encoding, len(names), reject) from None
    return dict(zip(names, header, strict=True))


def _cell_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def check_workbook_limits(path: Path, display: str) -> None:
    """Reject a workbook over :data:`XLSX_LIMITS` from its zip directory and each sheet's
    declared dimensions, before any sheet is parsed."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(display, f"cannot open the workbook: not an .xlsx file ({exc})") from None
    with archive:
        entries = archive.infolist()
        unpacked = sum(info.file_size for info in entries)
        if unpacked > MAX_XLSX_UNCOMPRESSED:
            raise IngestError(
                display,
                f"the workbook unpacks to {unpacked / (1024 * 1024):,.0f} MB; the limit is"
                f" {XLSX_LIMITS}: save the sheet as CSV UTF-8 instead",
            )
        for info in entries:
            name = info.filename
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(info) as source:
                try:
                    dimension = read_dimension(source)
                except Exception:  # a damaged sheet: openpyxl says so when it is read
                    dimension = None
            _, _, columns, rows = dimension or (None, None, None, None)
            if (columns or 0) > MAX_XLSX_COLUMNS or (rows or 0) > MAX_XLSX_ROWS:
                raise IngestError(
                    display,
                    f"a sheet declares {columns or 0:,} columns and {rows or 0:,} rows; the"
                    f" limit is {XLSX_LIMITS} (an empty cell far to the right or below the"
                    " data? delete the unused columns and rows, or save as CSV UTF-8)",
                )


def _sheet_rows(sheet, display: str):
    """The sheet's rows as lists of values, at most :data:`MAX_XLSX_COLUMNS` wide (a
    sheet whose declared size is missing or wrong cannot make openpyxl pad further)."""
    width = min(sheet.max_column or MAX_XLSX_COLUMNS, MAX_XLSX_COLUMNS)
    for number, row in enumerate(
        sheet.iter_rows(min_row=1, min_col=1, max_col=width, values_only=True), start=1
    ):
        if number > MAX_XLSX_ROWS:
            raise IngestError(display, f"more rows than the limit ({XLSX_LIMITS})", row=number)
        yield list(row)


def _stage_excel(con: duckdb.DuckDBPyConnection, path: Path, feed: Feed, display: str):
    check_workbook_limits(path, display)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise IngestError(display, f"cannot open the workbook: {exc}") from None
    required = {c.name for c in feed.columns if c.required}
    try:
        for sheet in workbook.worksheets:
            rows = _sheet_rows(sheet, display)
            try:
                for index in range(HEADER_SEARCH_ROWS):
                    cells = [_cell_text(v) for v in next(rows)]
                    if required <= {normalise_header(c) for c in cells if c}:
                        return _register_excel(con, index, cells, rows, display)
            except StopIteration:
                continue
            except IngestError:
                raise
            except Exception as exc:  # a damaged sheet
                raise IngestError(display, f"cannot read the workbook: {exc}") from None
        names = ", ".join(workbook.sheetnames)
    finally:
        workbook.close()
    missing = ", ".join(sorted(required))
    raise IngestError(
        display,
        f"no header row with the required columns ({missing}) in the first"
        f" {HEADER_SEARCH_ROWS} rows of any sheet ({names})",
        row=1,
    )


def _register_excel(con, index: int, cells: list, rows, display: str):
    """Stage the rows below the header row (``index``, 0-based) as ``_in``."""
    body = [[_cell_text(v) for v in row] for row in rows]
    width = max([_used_width(cells)] + [_used_width(row) for row in body])
    header = [c or "" for c in (cells + [None] * width)[:width]]
    names = register_columns(header, display)
    frame = pd.DataFrame(
        [(row + [None] * width)[:width] for row in body], columns=names, dtype=object
    )
    frame.insert(0, "_source_row", range(index + 2, index + 2 + len(frame)))
    frame = frame.dropna(how="all", subset=names)
    frame = frame.astype({n: "string" for n in names})
    con.register("_in_frame", frame)
    try:
        con.execute("create temp table _in as select * from _in_frame")
    finally:
        con.unregister("_in_frame")
    return dict(zip(names, header, strict=True))


def _used_width(row: list) -> int:
    """Cells up to the last one with a value."""
    for position in range(len(row), 0, -1):
        if row[position - 1] is not None:
            return position
    return 0
