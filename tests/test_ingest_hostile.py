"""Hostile input at ingest: references in the wrong place, links, long lines, odd names,
files still being written, quarterly files cut short."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.landing import held_back, unsettled_files
from ingest.loader import ingest_landing
from ingest.readers import MAX_LINE_BYTES
from ingest.redact import WITHHELD, ref_token
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text, one

MARAC_HEADER = "case_ref,marac_date,victim_ref,repeat_case,engaged_with_service"
PARTNER_HEADER = (
    "agency,measure_id,series,fiscal_year,quarter,value,numerator,denominator,status,note"
)


def _no_ref(text: str, *refs: str) -> None:
    for ref in refs:
        assert ref not in text, text


def test_swapped_personal_columns_withhold_the_value(deliver, ingest, query):
    """The issue's case: repeat_case and victim_ref swapped in a MARAC export."""
    swapped = csv_text(
        "case_ref,marac_date,repeat_case,victim_ref,engaged_with_service",
        ["MC-001000,12/10/2016,MV-002570,Y,Y", "MC-001001,12/10/2016,MV-002571,N,N"],
    )
    deliver("marac_cases/marac_q3.csv", swapped)
    result = one(ingest(), "marac_cases/marac_q3.csv")
    assert result.status == "rejected"
    assert "row 2" in result.error and "column 'repeat_case'" in result.error
    assert f"not Y or N ({WITHHELD})" in result.error
    _no_ref(result.error, "MV-002570", "MV-002571")
    [(error,)] = query("select error from raw.load_log")
    assert error == result.error


def test_a_non_personal_value_is_still_quoted(deliver, ingest):
    deliver("marac_cases/q3.csv", csv_text(MARAC_HEADER, ["MC-001000,12/10/2016,MV-1,maybe,Y"]))
    result = one(ingest(), "marac_cases/q3.csv")
    assert "column 'repeat_case': 'maybe' is not Y or N" in result.error


def test_a_reference_in_a_text_column_is_rejected_not_loaded(deliver, ingest, query):
    """offence_group is free text to the contract: a victim reference swapped into it
    would otherwise land unhashed."""
    header = "crime_ref,recorded_date,victim_ref,offence_group,victim_type,premises_type,ward_code"
    row = "CRI-163-00001,03/10/2016,Criminal damage,VR-0100000,person,dwelling,E05001"
    deliver("police_recorded_crime/c.csv", csv_text(header, [row]))
    result = one(ingest(), "police_recorded_crime/c.csv")
    assert result.status == "rejected" and "column 'offence_group'" in result.error
    assert WITHHELD in result.error
    _no_ref(result.error, "VR-0100000")
    assert query("select count(*) from raw.police_recorded_crime") == [(0,)]


def test_an_id_shaped_like_a_reference_is_withheld(deliver, ingest):
    rows = [
        "CN-020001,03/10/2016,Noise,SR-1,Ward,Phone,Open",
        "CN-020001,04/10/2016,Noise,SR-2,Ward,Phone,Open",
    ]
    header = "request_id,received_date,request_type,caller_ref,ward_name,channel,status"
    deliver("maasbt_service_requests/m.csv", csv_text(header, rows))
    result = one(ingest(), "maasbt_service_requests/m.csv")
    assert "row 2, column 'request_id': a personal reference in a non-personal" in result.error
    _no_ref(result.error, "CN-020001")


def test_a_file_without_header_does_not_quote_its_first_row(deliver, ingest):
    deliver("marac_cases/q3.csv", "MC-001000,12/10/2016,MV-002570,Y,N\n")
    result = one(ingest(), "marac_cases/q3.csv")
    assert "required column 'case_ref' is missing (the header has: [personal" in result.error
    _no_ref(result.error, "MC-001000", "MV-002570")


def test_notes_keep_their_text_with_references_masked(settings, deliver, ingest, query):
    note = "corrected: case MV-002570 counted twice"
    row = f"Probation,5.1,commencements,2016/17,Q3,4,,,reported,{note}"
    deliver("partner_returns/p.csv", csv_text(PARTNER_HEADER, [row]))
    assert one(ingest(), "partner_returns/p.csv").status == "loaded"
    token = ref_token("MV-002570", "test-key")
    assert query("select note from raw.partner_returns") == [
        (f"corrected: case {token} counted twice",)
    ]
    assert b"MV-002570" not in Path(settings.warehouse).read_bytes()


def test_file_names_are_shown_masked_and_on_one_line(settings, deliver, ingest, query, caplog):
    deliver("idva_referrals/MV-002570.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    deliver("idva_referrals/q3\nFORGED csp.ingest line.csv", "referral_id\n")
    with caplog.at_level(logging.INFO, logger="csp"):
        results = ingest()
    named = f"idva_referrals/{ref_token('MV-002570', 'test-key')}.csv"
    assert one(results, named).status == "loaded"
    forged = one(results, "idva_referrals/q3\\nFORGED csp.ingest line.csv")
    assert forged.status == "rejected" and "\n" not in forged.error
    names = {row[0] for row in query("select file_name from raw.load_log")}
    names |= {row[0] for row in query("select distinct _file_name from raw.idva_referrals")}
    assert names == {named, forged.file_name}
    assert "MV-002570" not in caplog.text
    assert not any(line.startswith("FORGED") for line in caplog.text.splitlines())


def test_a_symlink_is_skipped_and_reported(settings, deliver, ingest, query, caplog):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    os.symlink("/etc/passwd", Path(settings.landing) / "idva_referrals" / "passwd.csv")
    os.symlink("/etc", Path(settings.landing) / "etc")
    with caplog.at_level(logging.WARNING, logger="csp"):
        results = ingest()
    assert [r.file_name for r in results] == ["idva_referrals/q3.csv"]
    assert query("select file_name from raw.load_log") == [("idva_referrals/q3.csv",)]
    assert "idva_referrals/passwd.csv: a symbolic link, not followed" in caplog.text
    assert "root:" not in caplog.text
    assert sorted(held_back(settings)) == [
        "skipped: etc: a symbolic link, not followed and not loaded; copy the file itself"
        " into the landing folder",
        "skipped: idva_referrals/passwd.csv: a symbolic link, not followed and not loaded;"
        " copy the file itself into the landing folder",
    ]


def test_a_too_long_line_says_so(deliver, ingest):
    long_row = "R002,04/10/2016,CL-2," + "x" * (MAX_LINE_BYTES + 10) + ",worked_with,engaged,Y"
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, [IDVA_ROWS[0], long_row]))
    result = one(ingest(), "idva_referrals/q3.csv")
    assert result.error == (
        f"idva_referrals/q3.csv, row 3: line too long (maximum {MAX_LINE_BYTES:,} bytes)"
    )


def test_a_file_still_being_written_waits_for_the_next_run(settings, deliver, caplog):
    waiting = replace(settings, settle_seconds=120)
    path = deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    with caplog.at_level(logging.WARNING, logger="csp"):
        assert ingest_landing(waiting) == []
    assert "pending: idva_referrals/q3.csv: modified" in caplog.text
    assert unsettled_files(waiting) == ["idva_referrals/q3.csv"]
    assert held_back(waiting)[0].startswith("pending: idva_referrals/q3.csv")
    settled = time.time() - 121
    os.utime(path, (settled, settled))
    assert unsettled_files(waiting) == [] and held_back(waiting) == []
    [result] = ingest_landing(waiting)
    assert result.status == "loaded" and result.rows_loaded == 3


def test_settle_seconds_comes_from_the_environment(monkeypatch):
    from ingest.config import Settings

    monkeypatch.setenv("CSP_SETTLE_SECONDS", "7")
    assert Settings().settle_seconds == 7 and Settings.from_env().settle_seconds == 7
    monkeypatch.delenv("CSP_SETTLE_SECONDS")
    assert Settings.from_env({}).settle_seconds == 120


@pytest.mark.parametrize(("months", "partial"), [((1, 2), True), ((1, 2, 3), False)])
def test_a_quarterly_file_that_stops_short_is_noted_partial(deliver, ingest, months, partial):
    rows = [
        f"R{m}{i},0{i + 1}/{m:02d}/2017,CL-{m}{i},high,worked_with,engaged,Y"
        for m in months
        for i in range(2)
    ]
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, rows))
    result = one(ingest(), "idva_referrals/q4.csv")
    assert result.status == "loaded"
    if partial:
        assert "partial quarter: the records stop in February 2017" in result.notes
        assert "quarter runs to March 2017" in result.notes
    else:
        assert result.notes is None
