"""The rules of a feed's suites, generated from its contract in ``ingest/feeds.py``.

Nothing here is written by hand per feed: the allowed values of an ``enum`` column, the
required columns, the counts, the ratio pairs, the natural key are read from the
``Feed`` and its ``Column``s, which are the only place they are written (ingest enforces
them on every file; these suites re-check the current rows in the warehouse).  The same
rules as DuckDB SQL for deliveries too large for a pandas frame (:func:`sql_rules`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from catalogue.fiscal import FISCAL_YEAR_PATTERN
from expectations.runner import Expect, expect
from ingest.feeds import Column, Feed
from ingest.readers import quote_ident, sql_literal

TOLERANCE_ENV = "CSP_VOLUME_TOLERANCE"
DEFAULT_TOLERANCE = 0.5
# the volume expectation covers the latest delivered quarters only
VOLUME_QUARTERS = 4
# how DuckDB column types arrive in pandas (nullable extension types when a column has NULLs)
_DATETIMES = ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]"]
PANDAS_TYPES = {
    "VARCHAR": ["object", "str", "StringDtype"],
    "DATE": _DATETIMES,
    "TIMESTAMP": _DATETIMES,
    "BIGINT": ["int64", "Int64Dtype"],
    "INTEGER": ["int32", "Int32Dtype", "int64", "Int64Dtype"],
    "DOUBLE": ["float64", "Float64Dtype"],
    "BOOLEAN": ["bool", "BooleanDtype"],
}
HASH_SHAPE = "keyed hash"


def contract_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}"


def loads_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.loads"


def ledger_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.ledger"


def volume_suite_name(feed: Feed) -> str:
    return f"feed.{feed.name}.volume"


def volume_tolerance(environ: dict[str, str] | None = None) -> float:
    """``CSP_VOLUME_TOLERANCE``: a fraction (0.5) or a percentage (50%); default ±50 %."""
    raw = (os.environ if environ is None else environ).get(TOLERANCE_ENV, "").strip()
    if not raw:
        return DEFAULT_TOLERANCE
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 < value < 10:
        raise ValueError(f"{TOLERANCE_ENV}={raw!r}: expected a fraction like 0.5 or a percentage")
    return value


# -- suites --------------------------------------------------------------------------------


def _kind_rule(col: Column) -> tuple[str, str, dict] | None:
    """(expectation, description, arguments) that a column's kind adds, if any."""
    name = col.raw_name
    not_negative = ("ExpectColumnValuesToBeBetween", f"{name} is not negative", {"min_value": 0})
    return {
        "enum": (
            "ExpectColumnValuesToBeInSet",
            f"{name} is one of {', '.join(col.allowed)}",
            {"value_set": list(col.allowed)},
        ),
        "count": not_negative,
        "number": not_negative,
        "fiscal_year": (
            "ExpectColumnValuesToMatchRegex",
            f"{name} is a fiscal year such as 2016/17",
            {"regex": FISCAL_YEAR_PATTERN},
        ),
        "quarter": (
            "ExpectColumnValuesToBeBetween",
            f"{name} is a quarter 1..4",
            {"min_value": 1, "max_value": 4},
        ),
        # checked on a derived column so that no raw reference is ever quoted back
        "personal": (
            "ExpectColumnValuesToBeInSet",
            f"{name} holds keyed hashes (64 hex characters), never a raw reference",
            {"column": f"{name}_shape", "value_set": [HASH_SHAPE]},
        ),
    }.get(col.kind)


def contract_expectations(feed: Feed) -> list[Expect]:
    """The contract suite of a feed, derived from its columns in ``ingest/feeds.py``."""
    out = []
    for col in feed.columns:
        name = col.raw_name
        out.append(
            expect(
                "ExpectColumnValuesToBeInTypeList",
                column=name,
                type_list=PANDAS_TYPES[col.sql_type],
                description=f"{name} is stored as {col.sql_type}",
            )
        )
        if col.required and not col.nullable:
            out.append(
                expect(
                    "ExpectColumnValuesToNotBeNull",
                    column=name,
                    description=f"{name} is present on every row (required by the contract)",
                )
            )
        if rule := _kind_rule(col):
            type_, description, kwargs = rule
            out.append(expect(type_, **{"column": name, **kwargs}, description=description))
    for numerator, denominator in feed.ratio_pairs:
        out.append(
            expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                column_A=denominator,
                column_B=numerator,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=f"{numerator} is not above {denominator}",
            )
        )
    if feed.area_filtered:
        out.append(
            expect(
                "ExpectColumnValuesToNotBeNull",
                column="area_code",
                description="every row is matched to the partnership's local authority",
            )
        )
    period = feed.period_column
    out += [
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="_record_date",
            column_B="_period_start",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=f"{period} is not before the start of its file's delivered period"
            " (raw.load_log.period_start)",
        ),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="_period_end",
            column_B="_record_date",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=f"{period} is not after the end of its file's delivered period"
            " (raw.load_log.period_end)",
        ),
    ]
    if feed.natural_key:
        out.append(
            expect(
                "ExpectColumnValuesToBeUnique",
                column="_natural_key",
                description=f"the natural key ({', '.join(feed.natural_key)}) is unique across"
                " current loads, except where a later load re-delivers the period of the"
                " earlier row (latest load wins)",
            )
        )
    return out


def ledger_expectations(feed: Feed) -> list[Expect]:
    return [
        expect(
            "ExpectColumnValuesToBeNull",
            column="outstanding_error",
            description=f"no rejected {feed.name} file is outstanding: each was followed by a"
            " good delivery of its period",
        )
    ]


def volume_expectations(feed: Feed, tolerance: float) -> list[Expect]:
    return [
        expect(
            "ExpectColumnValuesToBeBetween",
            column="ratio_checked",
            min_value=round(max(0.0, 1 - tolerance), 6),
            max_value=round(1 + tolerance, 6),
            description=f"rows per fiscal quarter (latest {VOLUME_QUARTERS} delivered) are within"
            f" ±{tolerance:.0%} of the same months last year",
        )
    ]


# -- rules as SQL (large deliveries) -------------------------------------------------------

_SHORT = {
    "ExpectColumnValuesToNotBeNull": "missing",
    "ExpectColumnValuesToBeInSet": "not_allowed",
    "ExpectColumnValuesToBeBetween": "out_of_range",
    "ExpectColumnValuesToMatchRegex": "bad_format",
    "ExpectColumnPairValuesAToBeGreaterThanB": "out_of_order",
    "ExpectColumnValuesToBeUnique": "duplicate",
}


def violation_sql(rule: Expect) -> str | None:
    """The rows of ``checked`` that break a contract expectation, as a SQL predicate.

    The same semantics as GX's pandas expectation (NULLs are ignored except by the
    not-null rule; pairs with a missing side are ignored).  ``None`` for a rule that is
    not about values: the column types, which GX checks on the sample frame's dtypes.
    """
    k = rule.kwargs
    if rule.type == "ExpectColumnValuesToBeInTypeList":
        return None
    if rule.type == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = quote_ident(k["column_A"]), quote_ident(k["column_B"])
        below = "<" if k.get("or_equal") else "<="
        return f"({a} is not null and {b} is not null and {a} {below} {b})"
    c = quote_ident(k["column"])
    if rule.type == "ExpectColumnValuesToNotBeNull":
        return f"({c} is null)"
    if rule.type == "ExpectColumnValuesToBeInSet":
        values = ", ".join(sql_literal(str(v)) for v in k["value_set"])
        return f"({c} is not null and {c} not in ({values}))"
    if rule.type == "ExpectColumnValuesToBeBetween":
        parts = []
        if k.get("min_value") is not None:
            parts.append(f"{c} < {k['min_value']}")
        if k.get("max_value") is not None:
            parts.append(f"{c} > {k['max_value']}")
        return f"({c} is not null and ({' or '.join(parts)}))"
    if rule.type == "ExpectColumnValuesToMatchRegex":
        return f"({c} is not null and not regexp_matches({c}, {sql_literal(k['regex'])}))"
    if rule.type == "ExpectColumnValuesToBeUnique":
        return f"({c} in (select _natural_key from dup_keys))"
    raise ValueError(f"no SQL for {rule.type}: add it to violation_sql")


@dataclass(frozen=True)
class SqlRule:
    """A contract expectation computed in DuckDB: its per-load count column."""

    rule: Expect
    column: str
    predicate: str


def sql_rules(expectations: list[Expect]) -> list[SqlRule]:
    out: list[SqlRule] = []
    for rule in expectations:
        predicate = violation_sql(rule)
        if predicate is None:
            continue
        k = rule.kwargs
        on = k.get("column") or f"{k.get('column_A')}_vs_{k.get('column_B')}"
        name = f"{on.strip('_')}__{_SHORT[rule.type]}"
        if any(r.column == name for r in out):
            name = f"{name}_{len(out)}"
        out.append(SqlRule(rule, name, predicate))
    return out


def loads_expectations(rules: list[SqlRule]) -> list[Expect]:
    """``feed.<name>.loads``: per new load, no row breaks any rule (counts from SQL)."""
    return [
        expect(
            "ExpectColumnValuesToBeBetween",
            column=r.column,
            min_value=0,
            max_value=0,
            description=r.rule.kwargs.get("description") or r.rule.type,
        )
        for r in rules
    ]
