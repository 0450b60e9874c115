"""Turn one delivered file into a DuckDB table of text columns with source row numbers.

CSV files stream through DuckDB's own reader (nothing is held in Python memory);
Windows-1252 files are transcoded to UTF-8 in fixed-size chunks first.  Excel
workbooks are small by nature and go through pandas/openpyxl, with the header row
found below any title rows.
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
from contextlib import contextmanager, suppress
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd

from ingest.errors import IngestError
from ingest.feeds import Feed, normalise_header

CSV_SUFFIXES = {".csv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
HEADER_SEARCH_ROWS = 10
CHUNK = 1 << 20

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


def _read_header(path: Path, display: str) -> list[str]:
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


def _register_columns(header: list[str], display: str) -> list[str]:
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


_DUCK_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _explain_duckdb_csv_error(exc: duckdb.Error, display: str, encoding: str) -> IngestError:
    text = str(exc)
    match = _DUCK_LINE.search(text)
    line = int(match.group(1)) if match else None
    if "Invalid unicode" in text:
        return IngestError(
            display,
            f"not valid {encoding} text; the contract says {encoding}"
            " (was it saved as Windows-1252 / ANSI?)",
            row=line,
        )
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if found:
        return IngestError(
            display,
            f"expected {found.group(1)} fields but found {found.group(2)}"
            " (truncated or malformed line)",
            row=line,
        )
    if "unterminated quotes" in text.lower() or "quote" in text.lower():
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
    header = _read_header(source, display)
    names = _register_columns(header, display)
    columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(
            f"""
            create temp table _in as
            select row_number() over () + 1 as _source_row, *
            from read_csv(
                {sql_literal(str(source))}, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                null_padding = false, columns = {columns}
            )
            """
        )
    except duckdb.Error as exc:
        raise _explain_duckdb_csv_error(exc, display, encoding) from exc
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


def _stage_excel(con: duckdb.DuckDBPyConnection, path: Path, feed: Feed, display: str):
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise IngestError(display, f"cannot open the workbook: {exc}") from exc
    required = {c.name for c in feed.columns if c.required}
    for frame in sheets.values():
        for index in range(min(HEADER_SEARCH_ROWS, len(frame))):
            cells = [_cell_text(v) for v in frame.iloc[index].tolist()]
            normalised = {normalise_header(c) for c in cells if c}
            if required <= normalised:
                return _register_excel(con, frame, index, cells, display)
    missing = ", ".join(sorted(required))
    raise IngestError(
        display,
        f"no header row with the required columns ({missing}) in the first"
        f" {HEADER_SEARCH_ROWS} rows of any sheet ({', '.join(map(str, sheets))})",
        row=1,
    )


def _register_excel(con, frame: pd.DataFrame, index: int, cells: list, display: str):
    header = [c or "" for c in cells]
    names = _register_columns(header, display)
    body = frame.iloc[index + 1 :].map(_cell_text)
    body.columns = names
    body.insert(0, "_source_row", range(index + 2, index + 2 + len(body)))
    body = body.dropna(how="all", subset=names)
    body = body.astype({n: "string" for n in names})
    con.register("_in_frame", body)
    try:
        con.execute("create temp table _in as select * from _in_frame")
    finally:
        con.unregister("_in_frame")
    return dict(zip(names, header, strict=True))
