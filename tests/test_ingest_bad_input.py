"""Bad input: a clear error naming file, row and column; nothing else is lost.

Each case delivers one bad file next to a good file of another feed.  The bad file
is rejected in the ledger with its error, the good one loads, and the bad file's
rows are nowhere in the warehouse.
"""

from __future__ import annotations

import re

import openpyxl
import pytest

from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text, one

GOOD_MARAC = csv_text(
    "case_ref,marac_date,victim_ref,repeat_case,engaged_with_service",
    ["MC-1,12/10/2016,V-1,Y,Y", "MC-2,12/10/2016,V-2,N,unknown"],
)
NDTMS_HEADER = "period_end,drug_group,cohort,in_treatment,successful_completions"


@pytest.fixture
def bad_file(settings, deliver, ingest, query):
    """Deliver a good MARAC file and the given bad file; return (result, ledger row)."""

    def _run(relative: str, content: str | bytes):
        deliver("marac_cases/marac_2016-q3.csv", GOOD_MARAC)
        deliver(relative, content)
        results = ingest()
        good = one(results, "marac_cases/marac_2016-q3.csv")
        assert good.status == "loaded" and good.rows_loaded == 2
        bad = one(results, relative)
        assert bad.status == "rejected", bad
        ledger = query(
            "select status, error, rows_loaded from raw.load_log where file_name = ?", [relative]
        )
        assert ledger == [("rejected", bad.error, 0)]
        assert bad.error.startswith(relative)
        return bad

    return _run


def assert_names(error: str, row: int | None, column: str | None) -> None:
    if row is not None:
        assert re.search(rf"\brow {row}\b", error), error
    if column is not None:
        assert f"column '{column}'" in error, error


def test_missing_required_column(bad_file, query):
    header = IDVA_HEADER.replace(",engagement", "")
    rows = [re.sub(r",(engaged|declined|unable_to_contact)", "", r) for r in IDVA_ROWS]
    bad = bad_file("idva_referrals/q3.csv", csv_text(header, rows))
    assert_names(bad.error, 1, "engagement")
    assert "required column 'engagement' is missing" in bad.error
    assert query("select count(*) from raw.idva_referrals") == [(0,)]


def test_unparseable_date(bad_file):
    rows = list(IDVA_ROWS)
    rows[1] = rows[1].replace("04/10/2016", "31/02/2016")
    bad = bad_file("idva_referrals/q3.csv", csv_text(IDVA_HEADER, rows))
    assert_names(bad.error, 3, "referral_date")
    assert "'31/02/2016' is not a date" in bad.error


def test_date_outside_sensible_period(bad_file):
    rows = list(IDVA_ROWS)
    rows[2] = rows[2].replace("05/10/2016", "05/10/1916")
    bad = bad_file("idva_referrals/q3.csv", csv_text(IDVA_HEADER, rows))
    assert_names(bad.error, 4, "referral_date")
    assert "outside the sensible range" in bad.error


def test_non_numeric_count(bad_file):
    content = csv_text(
        NDTMS_HEADER,
        ["31/12/2016,opiate,all,812,46", "31/12/2016,non_opiate,all,twelve,5"],
    )
    bad = bad_file("ndtms_treatment_completions/2016-q3.csv", content)
    assert_names(bad.error, 3, "in_treatment")
    assert "'twelve' is not a whole number" in bad.error


def test_negative_count(bad_file):
    content = csv_text(NDTMS_HEADER, ["31/12/2016,opiate,all,812,-3"])
    bad = bad_file("ndtms_treatment_completions/2016-q3.csv", content)
    assert_names(bad.error, 2, "successful_completions")
    assert "negative" in bad.error


def test_numerator_above_denominator(bad_file):
    content = csv_text(
        NDTMS_HEADER,
        ["31/12/2016,opiate,all,812,46", "31/12/2016,opiate,criminal_justice,40,41"],
    )
    bad = bad_file("ndtms_treatment_completions/2016-q3.csv", content)
    assert_names(bad.error, 3, "successful_completions")
    assert "successful_completions is greater than in_treatment" in bad.error
    assert "41 > 40" in bad.error


def test_value_outside_allowed_set(bad_file):
    rows = list(IDVA_ROWS)
    rows[0] = rows[0].replace("engaged", "maybe")
    bad = bad_file("idva_referrals/q3.csv", csv_text(IDVA_HEADER, rows))
    assert_names(bad.error, 2, "engagement")
    assert "'maybe' is not one of engaged" in bad.error


def test_duplicate_unique_id_within_file(bad_file):
    rows = [*IDVA_ROWS, IDVA_ROWS[1].replace("CL-0002", "CL-0099")]
    bad = bad_file("idva_referrals/q3.csv", csv_text(IDVA_HEADER, rows))
    assert_names(bad.error, 5, "referral_id")
    assert "duplicate referral_id 'R002' (first at row 3)" in bad.error


def test_duplicate_personal_id_is_not_echoed(bad_file):
    content = csv_text(
        "case_ref,marac_date,victim_ref,repeat_case,engaged_with_service",
        ["MC-77,12/01/2017,V-1,Y,Y", "MC-77,13/01/2017,V-2,N,N"],
    )
    bad = bad_file("marac_cases/marac_2016-q4.csv", content)
    assert_names(bad.error, 3, "case_ref")
    assert "MC-77" not in bad.error  # a personal reference never reaches the ledger


def test_empty_file(bad_file):
    bad = bad_file("idva_referrals/q3.csv", b"")
    assert "the file is empty (0 bytes)" in bad.error


def test_header_only_file(bad_file):
    bad = bad_file("idva_referrals/q3.csv", IDVA_HEADER + "\n")
    assert_names(bad.error, 2, None)
    assert "no data rows" in bad.error


def test_truncated_last_line(bad_file, query):
    content = csv_text(IDVA_HEADER, IDVA_ROWS[:2]) + "R003,05/10/2016,CL-0003,stan"
    bad = bad_file("idva_referrals/q3.csv", content)
    assert_names(bad.error, 4, None)
    assert "expected 7 fields but found 4" in bad.error
    assert query("select count(*) from raw.idva_referrals") == [(0,)]


def test_wrong_encoding(bad_file):
    rows = list(IDVA_ROWS)
    rows[2] = rows[2].replace("CL-0003", "CL\u20130003")  # en dash, saved as Windows-1252
    bad = bad_file("idva_referrals/q3.csv", csv_text(IDVA_HEADER, rows).encode("cp1252"))
    assert_names(bad.error, 4, None)
    assert "not valid utf-8 text" in bad.error


def _workbook(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_excel_header_below_title_rows_loads_with_sheet_row_numbers(
    settings, deliver, ingest, query
):
    path = deliver("asb_satisfaction_survey/q1.xlsx", b"")
    _workbook(
        path,
        [
            ["ASB satisfaction survey returns Q1 2016/17"],
            [],
            ["Response ID", "Survey Date", "Case Ref", "Satisfied"],
            ["S1", "04/05/2016", "AC-1", "Y"],
            ["S2", "05/05/2016", "AC-2", "N"],
        ],
    )
    result = one(ingest(), "asb_satisfaction_survey/q1.xlsx")
    assert result.status == "loaded" and result.rows_loaded == 2
    assert query(
        "select response_id, _source_row, satisfied from raw.asb_satisfaction_survey order by 1"
    ) == [("S1", 4, True), ("S2", 5, False)]


def test_excel_with_header_on_another_row_is_rejected(bad_file, settings):
    from pathlib import Path

    path = Path(settings.landing) / "asb_satisfaction_survey" / "q1.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [[f"notes line {i}"] for i in range(12)]
    rows += [
        ["Response ID", "Survey Date", "Case Ref", "Satisfied"],
        ["S1", "04/05/2016", "A", "Y"],
    ]
    _workbook(path, rows)
    bad = bad_file("asb_satisfaction_survey/q1.xlsx", path.read_bytes())
    assert "no header row with the required columns" in bad.error
    assert "response_id" in bad.error and "first 10 rows" in bad.error


def test_file_in_a_folder_no_feed_owns(bad_file, query):
    bad = bad_file("victims_list/extract.csv", "a,b\n1,2\n")
    assert "no feed owns folder 'victims_list'" in bad.error
    assert bad.feed is None


def test_rejected_correction_keeps_the_earlier_good_load(settings, deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=1_480_000_000)
    assert one(ingest(), "idva_referrals/q3.csv").status == "loaded"
    broken = [row.replace("engaged", "maybe") for row in IDVA_ROWS]
    deliver("idva_referrals/q3_corrected.csv", csv_text(IDVA_HEADER, broken), mtime=1_480_100_000)
    assert one(ingest(), "idva_referrals/q3_corrected.csv").status == "rejected"
    assert query("select status from raw.load_log where file_name = 'idva_referrals/q3.csv'") == [
        ("loaded",)
    ]
    assert query("select count(*) from raw.idva_referrals") == [(3,)]
