"""The ledger: re-delivery loads nothing, corrections supersede, history stays queryable."""

from __future__ import annotations

from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text, one

PARTNER_HEADER = (
    "agency,measure_id,series,fiscal_year,quarter,value,numerator,denominator,status,note"
)


def test_load_metadata_and_period(deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    result = one(ingest(), "idva_referrals/q3.csv")
    assert result.status == "loaded" and result.rows_loaded == 3
    rows = query(
        "select referral_id, referral_date::varchar, _file_name, length(_sha256), _source_row"
        " from raw.idva_referrals order by referral_id"
    )
    assert rows == [
        ("R001", "2016-10-03", "idva_referrals/q3.csv", 64, 2),
        ("R002", "2016-10-04", "idva_referrals/q3.csv", 64, 3),
        ("R003", "2016-10-05", "idva_referrals/q3.csv", 64, 4),
    ]
    assert query(
        "select feed, status, rows_loaded, period_start::varchar, period_end::varchar"
        " from raw.load_log"
    ) == [("idva_referrals", "loaded", 3, "2016-10-01", "2016-10-31")]


def test_identical_redelivery_loads_nothing(deliver, ingest, query):
    content = csv_text(IDVA_HEADER, IDVA_ROWS)
    deliver("idva_referrals/q3.csv", content)
    ingest()
    deliver("idva_referrals/q3 (1).csv", content)
    results = ingest()
    assert one(results, "idva_referrals/q3.csv").status == "unchanged"
    copy = one(results, "idva_referrals/q3 (1).csv")
    assert copy.status == "duplicate" and "identical to idva_referrals/q3.csv" in copy.notes
    assert query("select count(*) from raw.idva_referrals") == [(3,)]
    # a third run sees nothing new and writes no new ledger row
    assert {r.status for r in ingest()} == {"unchanged"}
    assert query("select status, count(*) from raw.load_log group by 1 order by 1") == [
        ("duplicate", 1),
        ("loaded", 1),
    ]


def test_corrected_file_supersedes_and_history_stays(deliver, ingest, query):
    first = ["Probation,3.1,completions,2015/16,Q2,1,,,reported,"]
    deliver("partner_returns/probation_q2.csv", csv_text(PARTNER_HEADER, first), mtime=1.45e9)
    other = ["Police,6.3,total,2015/16,Q2,4,,,reported,"]
    deliver("partner_returns/police_q2.csv", csv_text(PARTNER_HEADER, other), mtime=1.45e9)
    ingest()
    corrected = ["Probation,3.1,completions,2015/16,Q2,2,,,reported,corrected"]
    deliver(
        "partner_returns/probation_q2_v2.csv", csv_text(PARTNER_HEADER, corrected), mtime=1.46e9
    )
    result = one(ingest(), "partner_returns/probation_q2_v2.csv")
    assert (
        result.status == "loaded" and "supersedes partner_returns/probation_q2.csv" in result.notes
    )
    ledger = dict(query("select file_name, status from raw.load_log"))
    assert ledger == {
        "partner_returns/probation_q2.csv": "superseded",
        "partner_returns/police_q2.csv": "loaded",  # another agency's return is untouched
        "partner_returns/probation_q2_v2.csv": "loaded",
    }
    # both versions stay queryable; the current one is found through the ledger
    assert query("select value from raw.partner_returns where agency = 'Probation' order by 1") == [
        (1.0,),
        (2.0,),
    ]
    assert query(
        "select r.value from raw.partner_returns r join raw.load_log l on l.load_id = r._load_id"
        " where l.status = 'loaded' and r.agency = 'Probation'"
    ) == [(2.0,)]


def test_other_feeds_load_when_one_file_is_bad(deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, ["R9,03/01/2017,C,high,x,engaged,Y"]))
    results = ingest()
    assert one(results, "idva_referrals/q3.csv").status == "loaded"
    assert one(results, "idva_referrals/q4.csv").status == "rejected"
    assert query("select count(*) from raw.idva_referrals") == [(3,)]


def test_windows_1252_feed_and_excel_values(deliver, ingest, query):
    header = "Request ID,Received Date,Request Type,Caller Ref,Ward Name,Channel,Status,Notes"
    rows = ["SR1,01/04/2016,Noise \u2013 domestic,CR-1,Norton,Phone,Closed,free text here"]
    deliver("maasbt_service_requests/q1.csv", csv_text(header, rows), encoding="cp1252")
    result = one(ingest(), "maasbt_service_requests/q1.csv")
    assert result.status == "loaded", result.error
    assert "Notes" in result.notes  # extra column ignored, with a note
    assert query("select request_type from raw.maasbt_service_requests") == [
        ("Noise \u2013 domestic",)
    ]
    columns = {r[0] for r in query("describe raw.maasbt_service_requests")}
    assert "notes" not in columns and "caller_ref" not in columns


def test_partner_return_fields_are_normalised(deliver, ingest, query):
    rows = ["Probation,5.1,breaches,2016-17,q3,,,,not_available,not available"]
    deliver("partner_returns/p.csv", csv_text(PARTNER_HEADER, rows))
    assert one(ingest(), "partner_returns/p.csv").status == "loaded"
    assert query("select fiscal_year, quarter, status, value from raw.partner_returns") == [
        ("2016/17", 3, "not_available", None)
    ]
    assert query("select period_start::varchar, period_end::varchar from raw.load_log") == [
        ("2016-10-01", "2016-12-31")
    ]
