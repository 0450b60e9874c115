"""Personal references never reach the warehouse unhashed."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from ingest import config
from ingest.config import DEMO_PSEUDONYM_KEY, SAMPLE_MARKER, warn_if_demo_key_on_real_data
from ingest.loader import ingest_landing
from ingest.pseudonymise import KeyMismatchError, key_fingerprint, pseudonymise
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text


def test_hmac_sha256_of_the_normalised_reference():
    expected = hmac.new(b"k", b"CL-0001", hashlib.sha256).hexdigest()
    assert pseudonymise(" cl-0001 ", "k") == expected
    assert pseudonymise("CL-0001", "other") != expected
    assert pseudonymise("", "k") is None and pseudonymise(None, "k") is None


def test_raw_references_are_not_in_the_warehouse_file(settings, deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    marac = csv_text(
        "case_ref,marac_date,victim_ref,repeat_case,engaged_with_service",
        ["MARAC-CASE-7781,12/10/2016,VICTIM-REF-5521,Y,Y"],
    )
    deliver("marac_cases/q3.csv", marac)
    ingest()
    hashed = query("select client_ref_hash from raw.idva_referrals order by referral_id")
    assert hashed[0][0] == pseudonymise("CL-0001", "test-key")
    assert query("select case_ref_hash, victim_ref_hash from raw.marac_cases") == [
        (pseudonymise("MARAC-CASE-7781", "test-key"), pseudonymise("VICTIM-REF-5521", "test-key"))
    ]
    data = Path(settings.warehouse).read_bytes()
    wal = Path(str(settings.warehouse) + ".wal")
    if wal.exists():
        data += wal.read_bytes()
    for reference in (b"CL-0001", b"CL-0002", b"MARAC-CASE-7781", b"VICTIM-REF-5521"):
        assert reference not in data


def test_demo_key_warns_loudly_on_real_data(settings, caplog):
    real = replace(settings, pseudonym_key=None)
    with caplog.at_level(logging.WARNING):
        assert warn_if_demo_key_on_real_data(real) is True
    assert "PUBLIC DEMO KEY" in caplog.text
    assert real.effective_key == DEMO_PSEUDONYM_KEY


def test_demo_key_is_quiet_on_sample_data(settings, caplog, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_LANDING", Path(settings.landing))
    (Path(settings.landing) / SAMPLE_MARKER).write_text("sample")
    sample = replace(settings, pseudonym_key=None)
    with caplog.at_level(logging.WARNING):
        assert warn_if_demo_key_on_real_data(sample) is False
    assert caplog.text == ""
    assert warn_if_demo_key_on_real_data(settings) is False  # a real key never warns


def test_a_sample_marker_outside_the_default_folder_is_ignored_loudly(settings, caplog):
    """A real landing folder that inherited the marker: real as-of date, loud warning."""
    (Path(settings.landing) / SAMPLE_MARKER).write_text("sample")
    inherited = replace(settings, as_of=None, pseudonym_key=None)
    assert not inherited.is_sample and inherited.has_stray_sample_marker
    assert inherited.effective_as_of == date.today()  # not the sample's 2017-05-31
    with caplog.at_level(logging.WARNING, logger="csp"):
        assert warn_if_demo_key_on_real_data(inherited) is True
    assert "is not the default sample folder" in caplog.text
    assert "treated as REAL DATA" in caplog.text and "PUBLIC DEMO KEY" in caplog.text


def test_the_warehouse_keeps_a_fingerprint_of_its_key(settings, deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    ingest()
    assert query("select fingerprint from raw.pseudonym_key") == [(key_fingerprint("test-key"),)]
    assert key_fingerprint("test-key") != key_fingerprint("other-key")
    assert b"test-key" not in Path(settings.warehouse).read_bytes()


def test_a_run_with_another_key_refuses_to_load(settings, deliver, ingest, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    ingest()
    deliver(
        "idva_referrals/q4.csv",
        csv_text(IDVA_HEADER, ["R009,03/01/2017,CL-0001,high,worked_with,engaged,Y"]),
    )
    with pytest.raises(KeyMismatchError, match="another CSP_PSEUDONYM_KEY") as refused:
        ingest_landing(replace(settings, pseudonym_key="other-key"))
    assert "Re-keying" in str(refused.value) and "new file" in str(refused.value)
    assert query("select count(*) from raw.load_log") == [(1,)]  # q4 not loaded
    assert query("select count(*) from raw.idva_referrals") == [(3,)]
    results = ingest()  # the right key loads it
    assert [r.status for r in results if r.status != "unchanged"] == ["loaded"]
