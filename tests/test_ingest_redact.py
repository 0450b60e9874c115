"""The reference shape (ingest/redact.py) against every value the sample generator writes,
and what a message, a note and a file name may show."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from ingest.feeds import FEEDS, normalise_header
from ingest.redact import WITHHELD, looks_like_ref, mask_refs, one_line, quotable, ref_token
from ingest.sample_data import generate


@pytest.fixture(scope="module")
def sample_values(tmp_path_factory) -> dict[bool, set[str]]:
    """Every cell of the sample landing folder: {personal column?: values}."""
    landing = tmp_path_factory.mktemp("sample")
    generate(landing)
    values: dict[bool, set[str]] = {True: set(), False: set()}
    for feed in FEEDS.values():
        kinds = {c.name: c.kind == "personal" for c in feed.columns}
        for path in sorted((landing / feed.name).iterdir()):
            if path.suffix == ".xlsx":
                sheet = openpyxl.load_workbook(path, read_only=True).active
                rows = [[str(v) for v in r if v is not None] for r in sheet.values]
                rows = [r for r in rows if len(r) > 1]  # title rows
            else:
                with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
                    rows = list(csv.reader(fh))
            header = [normalise_header(h) for h in rows[0]]
            for row in rows[1:]:
                for name, value in zip(header, row, strict=False):
                    if value and name in kinds:
                        values[kinds[name]].add(value)
    return values


def test_every_sample_personal_reference_has_the_shape(sample_values):
    personal = sample_values[True]
    assert len(personal) > 1000
    assert {v for v in personal if not looks_like_ref(v)} == set()


def test_no_sample_value_of_a_non_personal_column_has_the_shape(sample_values):
    others = sample_values[False]
    assert len(others) > 1000
    assert {v for v in others if looks_like_ref(v)} == set()


@pytest.mark.parametrize(
    "text",
    ["MV-002570", "mv-002570", "case MV-002570 moved", "marac_MV-002570.csv", "ASB-C01000"],
)
def test_reference_shaped_tokens_are_found(text):
    assert looks_like_ref(text)
    assert "002570" not in mask_refs(text) and "01000" not in mask_refs(text)


@pytest.mark.parametrize(
    "text", ["CP-20160401-0007", "CRI-163-00001", "SR-2016-10001", "E01012345", "2016-17_Q4"]
)
def test_longer_codes_and_area_codes_are_not_references(text):
    assert not looks_like_ref(text) and mask_refs(text) == text


def test_a_masked_token_is_keyed_and_stable():
    masked = mask_refs("see MV-002570 and mv-002570 ", "k")
    token = ref_token("MV-002570", "k")
    assert masked == f"see {token} and {token} "
    assert ref_token("MV-002570", "other") != token and not looks_like_ref(token)


def test_control_characters_are_escaped_on_one_line():
    assert one_line("a\nb\r\tc\u2028d") == "a\\nb\\r\\tc\\u2028d"
    assert one_line("plain name.csv") == "plain name.csv"


def test_only_non_personal_non_reference_values_are_quotable():
    assert quotable("maybe") and not quotable("MV-002570") and not quotable("x", personal=True)
    assert WITHHELD == "value withheld: looks like a personal reference"
