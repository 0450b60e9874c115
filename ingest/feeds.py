"""Feed contracts: one entry per agency extract of ``docs/``/EXTRACTS.md.

A contract names the landing subfolder, the encoding the agency delivers in, and
each column: how it is typed and checked at ingest and what it is called in the
``raw`` schema.  Personal references are replaced by a keyed hash at ingest and
land as ``<name>_hash``; nothing else of them reaches the warehouse.

Column kinds
    text      free value, kept as delivered (trimmed)
    date      a day: dd/mm/yyyy (UK) or yyyy-mm-dd, a time part is tolerated
    datetime  a day with optional time
    month     yyyy-mm (police.uk), stored as the first day of the month
    count     a whole number >= 0
    number    a number >= 0
    enum      one of ``allowed`` (matched case-insensitively, stored as written here)
    yn        Y / N (also Yes / No / True / False), stored as BOOLEAN
    personal  a reference to a person: HMAC-SHA256 with CSP_PSEUDONYM_KEY
              (a text column flagged ``free_text`` keeps its text, references masked)
    fiscal_year  2016/17 (also 2016-17, 2016/2017)
    quarter   Q1..Q4 (also 1..4)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = True
    allowed: tuple[str, ...] = ()
    unique: bool = False
    # a required column must be in the header; a nullable one may have empty cells
    nullable: bool = False
    # free text (a partner's note): loaded with every reference-shaped token masked
    # (ingest/redact.py); any other text column of a feed with personal columns
    # rejects a reference-shaped value (a column swapped with a personal one)
    free_text: bool = False

    @property
    def raw_name(self) -> str:
        return f"{self.name}_hash" if self.kind == "personal" else self.name

    @property
    def sql_type(self) -> str:
        return {
            "date": "DATE",
            "datetime": "TIMESTAMP",
            "month": "DATE",
            "count": "BIGINT",
            "number": "DOUBLE",
            "yn": "BOOLEAN",
            "quarter": "INTEGER",
        }.get(self.kind, "VARCHAR")


@dataclass(frozen=True)
class Feed:
    name: str
    title: str
    owner: str
    columns: tuple[Column, ...]
    period_column: str
    encoding: str = "utf-8"
    # groups of columns of which at least one must be present in the file
    one_of: tuple[tuple[str, ...], ...] = ()
    # (numerator, denominator) pairs: numerator may not exceed denominator
    ratio_pairs: tuple[tuple[str, str], ...] = ()
    # police.uk rows are restricted to the configured area by LSOA name
    area_filtered: bool = False
    # columns that identify one fact for de-duplication across deliveries
    natural_key: tuple[str, ...] = field(default_factory=tuple)
    # a corrected file supersedes an earlier load of the same feed, period and scope
    # (partner returns: the agency; police.uk: the force)
    scope_column: str | None = None
    # rows name a catalogue series in columns measure_id and series: it must be one of the
    # catalogue (seed measures, read through catalogue.measures)
    names_catalogue_series: bool = False

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def normalise_header(name: str) -> str:
    """Header matching is case-, space- and punctuation-insensitive."""
    name = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_")


YN = ("Y", "N")

FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            name="police_asb_incidents",
            title="Police ASB incidents (command and control export)",
            owner="Police",
            columns=(
                Column("incident_ref", unique=True),
                Column("reported_at", "datetime"),
                Column("asb_category", "enum", allowed=("Personal", "Nuisance", "Environmental")),
                Column("ward_code", required=False),
                Column("lsoa_code", required=False),
                Column("caller_ref", "personal", required=False),
            ),
            period_column="reported_at",
            one_of=(("ward_code", "lsoa_code"),),
            natural_key=("incident_ref",),
        ),
        Feed(
            name="police_recorded_crime",
            title="Police recorded crime",
            owner="Police",
            columns=(
                Column("crime_ref", unique=True),
                Column("recorded_date", "date"),
                Column("offence_group"),
                Column("victim_ref", "personal", required=False),
                Column("victim_type", "enum", allowed=("person", "business")),
                Column("premises_type", "enum", allowed=("dwelling", "other")),
                Column("ward_code", required=False),
                Column("lsoa_code", required=False),
            ),
            period_column="recorded_date",
            one_of=(("ward_code", "lsoa_code"),),
            natural_key=("crime_ref",),
        ),
        Feed(
            name="policeuk_street",
            title="police.uk street-level crime and ASB (public)",
            owner="Police",
            columns=(
                Column("crime_id", nullable=True),
                Column("month", "month"),
                Column("reported_by"),
                Column("falls_within"),
                Column("lsoa_code", nullable=True),
                Column("lsoa_name", nullable=True),
                Column("crime_type"),
                Column("last_outcome_category", nullable=True),
            ),
            period_column="month",
            area_filtered=True,
            scope_column="falls_within",
        ),
        Feed(
            name="maasbt_service_requests",
            title="MAASBT service requests (council CRM)",
            owner="Borough council MAASBT",
            columns=(
                Column("request_id", unique=True),
                Column("received_date", "date"),
                Column("request_type"),
                Column("caller_ref", "personal"),
                Column("ward_name", required=False),
                Column("channel", required=False),
                Column("status", required=False),
            ),
            period_column="received_date",
            encoding="windows-1252",
            natural_key=("request_id",),
        ),
        Feed(
            name="idva_referrals",
            title="IDVA referrals (domestic-abuse service)",
            owner="DA service (Harbour)",
            columns=(
                Column("referral_id", unique=True),
                Column("referral_date", "date"),
                Column("client_ref", "personal"),
                Column("risk_level", "enum", allowed=("standard", "medium", "high")),
                Column(
                    "assessment_outcome",
                    "enum",
                    allowed=("worked_with", "not_worked_with", "pending"),
                ),
                Column(
                    "engagement",
                    "enum",
                    allowed=("engaged", "unable_to_contact", "declined", "other", "pending"),
                ),
                Column("referred_to_programme", "yn"),
            ),
            period_column="referral_date",
            natural_key=("referral_id",),
        ),
        Feed(
            name="marac_cases",
            title="MARAC cases",
            owner="DA service (Harbour)",
            columns=(
                Column("case_ref", "personal", unique=True),
                Column("marac_date", "date"),
                Column("victim_ref", "personal"),
                Column("repeat_case", "yn"),
                Column("engaged_with_service", "enum", allowed=("Y", "N", "unknown")),
            ),
            period_column="marac_date",
            natural_key=("case_ref",),
        ),
        Feed(
            name="asb_satisfaction_survey",
            title="ASB service satisfaction survey",
            owner="Borough council MAASBT",
            columns=(
                Column("response_id", unique=True),
                Column("survey_date", "date"),
                Column("case_ref", "personal", required=False),
                Column("satisfied", "yn"),
            ),
            period_column="survey_date",
            natural_key=("response_id",),
        ),
        Feed(
            name="ndtms_treatment_completions",
            title="Treatment completions (NDTMS partnership figures)",
            owner="Public Health (treatment provider)",
            columns=(
                Column("period_end", "date"),
                Column("drug_group", "enum", allowed=("opiate", "non_opiate")),
                Column("cohort", "enum", allowed=("all", "criminal_justice")),
                Column("in_treatment", "count"),
                Column("successful_completions", "count"),
            ),
            period_column="period_end",
            ratio_pairs=(("successful_completions", "in_treatment"),),
            natural_key=("period_end", "drug_group", "cohort"),
        ),
        Feed(
            name="partner_returns",
            title="Partner returns (generic template)",
            owner="Partners",
            columns=(
                Column("agency"),
                Column("measure_id"),
                Column("series"),
                Column("fiscal_year", "fiscal_year"),
                Column("quarter", "quarter"),
                Column("value", "number", required=False),
                Column("numerator", "number", required=False),
                Column("denominator", "number", required=False),
                Column("status", "enum", allowed=("reported", "not_available", "nil_return")),
                Column("note", required=False, free_text=True),
            ),
            period_column="fiscal_year",
            scope_column="agency",
            names_catalogue_series=True,
            ratio_pairs=(("numerator", "denominator"),),
            natural_key=("measure_id", "series", "fiscal_year", "quarter"),
        ),
    )
}

# police.uk street-level CSV headers, as published, mapped onto the contract above
POLICEUK_HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
