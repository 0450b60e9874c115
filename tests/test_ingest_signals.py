"""Small tests where the ingest reads DuckDB's structured signals, and of the ledger's
one last-load-id query (real DuckDB throughout)."""

from __future__ import annotations

import duckdb
import pytest

from ingest.ledger import last_load_id, ledger_last_load_id
from ingest.loader import ingest_landing
from ingest.policeuk_batch import BROKEN_ROW, MISCOUNTED, Miscounted, marked_file
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text


def _error_of(sql: str) -> duckdb.Error:
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute(sql).fetchall()
    return caught.value


def test_a_stopped_part_names_its_file_only_through_our_marker():
    broken = _error_of(f"select error('{BROKEN_ROW}' || 3)")
    miscounted = _error_of(f"select error('{MISCOUNTED}' || 0)")
    assert marked_file(broken) == 3
    assert marked_file(miscounted) == 0
    assert marked_file(Miscounted(5)) == 5
    # DuckDB's own errors are not steered by, even when their text quotes the marker
    quoted = _error_of(f"select * from read_csv('/nonexistent/{BROKEN_ROW}7.csv')")
    assert BROKEN_ROW in str(quoted) and marked_file(quoted) is None
    assert marked_file(_error_of("select error('something else 3')")) is None


@pytest.mark.parametrize(
    ("line", "found"),
    [("R003,05/10/2016", 2), ("R003", 1), ("R003,05/10/2016,CL-3,standard,x,x,x,x,x", 8)],
)
def test_fields_found_come_from_the_rejects_table(settings, deliver, line, found):
    """Too few or too many fields: the count DuckDB's message would give, read from its
    rejects table (the first rejects row of the line is where the line ends)."""
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, [*IDVA_ROWS[:2], line]))
    (result,) = ingest_landing(settings, feeds=["idva_referrals"])
    assert result.status == "rejected"
    assert f"row 4: expected 7 fields but found {found} (truncated" in result.error


def test_last_load_id_is_zero_until_the_ledger_has_rows(settings, deliver, tmp_path):
    assert ledger_last_load_id(tmp_path / "absent.duckdb") == 0
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert ledger_last_load_id(empty) == 0  # a file without raw.load_log
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, IDVA_ROWS[:1]))
    results = ingest_landing(settings, feeds=["idva_referrals"])
    newest = max(r.load_id for r in results)
    assert newest == 2
    assert ledger_last_load_id(settings.warehouse) == newest
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert last_load_id(con) == newest
    finally:
        con.close()
