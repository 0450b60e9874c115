"""A partner return naming a series the catalogue does not know is rejected (issue 12 item 2).

The known series are the catalogue seed's (``dbt_project/seeds/measures.csv``, read
through ``catalogue.measures``); the message names file, row and column and lists them.
"""

from __future__ import annotations

from catalogue.measures import series_keys
from tests.conftest import csv_text, one

HEADER = "agency,measure_id,series,fiscal_year,quarter,value,numerator,denominator,status,note"


def test_an_unknown_measure_is_rejected_listing_the_known_ones(deliver, ingest, query):
    rows = [
        "Probation,5.1,commencements,2016/17,Q3,12,,,reported,",
        "Probation,9.9,total,2016/17,Q3,4,,,reported,",
    ]
    deliver("partner_returns/probation_q3.csv", csv_text(HEADER, rows))
    result = one(ingest(), "partner_returns/probation_q3.csv")
    assert result.status == "rejected"
    assert "row 3" in result.error and "column 'measure_id'" in result.error
    assert "'9.9 total' is not a measure and series of the catalogue" in result.error
    known = ", ".join(f"{m} {s}" for m, s in series_keys())
    assert f"(known: {known})" in result.error
    assert "5.1 commencements" in known and "6.4 engaged_pct" in known
    assert query("select count(*) from raw.partner_returns") == [(0,)]


def test_an_unknown_series_of_a_known_measure_is_rejected(deliver, ingest):
    deliver(
        "partner_returns/probation_q3.csv",
        csv_text(HEADER, ["Probation,5.1,recalls,2016/17,Q3,4,,,reported,"]),
    )
    result = one(ingest(), "partner_returns/probation_q3.csv")
    assert result.status == "rejected"
    assert "'5.1 recalls' is not a measure and series of the catalogue" in result.error


def test_every_series_the_catalogue_knows_loads(deliver, ingest, query):
    rows = [f"Agency,{m},{s},2016/17,Q3,1,,,reported," for m, s in series_keys()]
    deliver("partner_returns/all.csv", csv_text(HEADER, rows))
    assert one(ingest(), "partner_returns/all.csv").status == "loaded"
    assert query("select count(*) from raw.partner_returns") == [(len(rows),)]
