"""Contract checks on the staged ``_in`` table and the typed SQL that loads it.

All checks of one file run as one aggregate scan in DuckDB: for every rule the
first offending row, its value and how many rows break it.  Nothing is looped
over in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from catalogue.fiscal import sql_fiscal_year_label
from ingest.errors import IngestError, IngestErrors
from ingest.feeds import Column, Feed
from ingest.pseudonymise import FUNCTION as PSEUDONYMISE
from ingest.pseudonymise import MASK_FUNCTION as MASK_REFS
from ingest.readers import quote_ident, sql_literal
from ingest.redact import WITHHELD, quotable, sql_looks_like_ref

EARLIEST_DATE = date(2000, 1, 1)
DATE_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)
YES = ("y", "yes", "true", "1")
NO = ("n", "no", "false", "0")


def _list(values) -> str:
    return "[" + ", ".join(sql_literal(v) for v in values) + "]"


def clean_text(source: str) -> str:
    """SQL for the text value with surrounding spaces trimmed, NULL when nothing is left.

    The same as ``nullif(trim(x), '')`` (DuckDB's ``trim`` strips every Unicode space
    separator), but ``trim`` copies every string; the guard calls it only for values
    that start or end with a space or hold any non-ASCII character, so a national
    police.uk load of plain-ASCII values is not copied twice (profile in
    docs/performance.md).
    """
    return (
        f"nullif(case when starts_with({source}, ' ') or ends_with({source}, ' ')"
        f" or strlen({source}) <> length({source}) then trim({source}) else {source} end, '')"
    )


def is_blank(source: str) -> str:
    """SQL, true where ``clean_text(source)`` is NULL, without trimming every value: an
    all-space value starts with a space or (another Unicode space) a non-ASCII
    character, and comparison is bytewise, so ``>= chr(128)`` tests the first byte."""
    return (
        f"(coalesce({source}, '') = '' or ((starts_with({source}, ' ')"
        f" or {source} >= chr(128)) and trim({source}) = ''))"
    )


def typed_expr(col: Column, source: str) -> str:
    """SQL turning the text column ``source`` into the contract's type (NULL if it fails)."""
    return typed_value(col, clean_text(source))


def typed_value(col: Column, v: str) -> str:
    """SQL turning ``v``, text already cleaned by :func:`clean_text`, into the type."""
    kind = col.kind
    if kind in ("date", "datetime"):
        ts = f"try_strptime({v}, {_list(DATE_FORMATS)})"
        return f"cast({ts} as date)" if kind == "date" else ts
    if kind == "month":
        return f"cast(try_strptime({v}, '%Y-%m') as date)"
    if kind == "count":
        return f"try_cast({v} as bigint)"
    if kind == "number":
        return f"try_cast({v} as double)"
    if kind == "enum":
        lowered = [a.lower() for a in col.allowed]
        return f"{_list(col.allowed)}[list_position({_list(lowered)}, lower({v}))]"
    if kind == "yn":
        return (
            f"case when lower({v}) in {tuple(YES)} then true"
            f" when lower({v}) in {tuple(NO)} then false end"
        )
    if kind == "personal":
        return f"{PSEUDONYMISE}({v})"
    if col.free_text:
        return f"case when {sql_looks_like_ref(v)} then {MASK_REFS}({v}) else {v} end"
    if kind == "fiscal_year":
        pattern = r"'^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$'"
        start = f"try_cast(regexp_extract({v}, {pattern}, 1) as integer)"
        end = f"try_cast(right(regexp_extract({v}, {pattern}, 2), 2) as integer)"
        return f"case when ({start} + 1) % 100 = {end} then {sql_fiscal_year_label(start)} end"
    if kind == "quarter":
        return f"try_cast(regexp_extract({v}, '^[Qq]?\\s*([1-4])$', 1) as integer)"
    return v


EXPECTED = {
    "date": "a date (dd/mm/yyyy)",
    "datetime": "a date or date and time (dd/mm/yyyy hh:mm)",
    "month": "a month (yyyy-mm)",
    "count": "a whole number",
    "number": "a number",
    "yn": "Y or N",
    "fiscal_year": "a fiscal year like 2016/17",
    "quarter": "a quarter Q1..Q4",
}


@dataclass
class Rule:
    column: str  # header as delivered
    problem: str
    condition: str  # SQL over _in, true where the row breaks the rule
    value: str  # SQL of the offending value to quote
    personal: bool = False  # a personal column: its values are never quoted


def build_rules(
    feed: Feed,
    present: dict[str, str],
    today: date,
    values: dict[str, tuple[str, str]] | None = None,
) -> list[Rule]:
    """Rules for the columns present in the file. ``present``: contract name -> _in column.

    ``values`` (contract name -> SQL of the cleaned text and of the typed value) is for a
    caller that has computed them once for its own use; by default the rules compute
    them from the column.
    """
    latest = today + timedelta(days=1)
    # a feed with personal columns is where a swapped column can move a reference
    guard_refs = any(c.kind == "personal" for c in feed.columns)

    def exprs(col: Column) -> tuple[str, str, str]:
        if values is not None:
            raw, typed = values[col.name]
            return raw, typed, f"{raw} is null"
        src = quote_ident(present[col.name])
        return clean_text(src), typed_expr(col, src), is_blank(src)

    rules: list[Rule] = []
    for col in feed.columns:
        if col.name not in present:
            continue
        raw, typed, missing = exprs(col)
        if col.required and not col.nullable:
            rules.append(Rule(col.name, "value is missing", missing, "''", col.kind == "personal"))
        if col.kind == "text" and not col.free_text and guard_refs:
            # a reference in a column that is not hashed would land as is (columns swapped)
            rules.append(
                Rule(
                    col.name,
                    "a personal reference in a non-personal column (are the columns in"
                    f" the wrong order?); expected a {col.name}",
                    sql_looks_like_ref(raw),
                    raw,
                )
            )
        if col.kind == "enum":
            allowed = ", ".join(col.allowed)
            rules.append(
                Rule(
                    col.name, f"not one of {allowed}", f"{raw} is not null and {typed} is null", raw
                )
            )
        elif col.kind in EXPECTED:
            rules.append(
                Rule(
                    col.name,
                    f"not {EXPECTED[col.kind]}",
                    f"{raw} is not null and {typed} is null",
                    raw,
                )
            )
        if col.kind in ("date", "datetime", "month"):
            rules.append(
                Rule(
                    col.name,
                    f"date outside the sensible range {EARLIEST_DATE:%d/%m/%Y}"
                    f" to {latest:%d/%m/%Y}",
                    f"cast({typed} as date) not between date '{EARLIEST_DATE}' and date '{latest}'",
                    raw,
                )
            )
        if col.kind in ("count", "number"):
            rules.append(Rule(col.name, "negative count", f"{typed} < 0", raw))
    for numerator, denominator in feed.ratio_pairs:
        if numerator in present and denominator in present:
            num = exprs(feed.column(numerator))[1]
            den = exprs(feed.column(denominator))[1]
            rules.append(
                Rule(
                    numerator,
                    f"{numerator} is greater than {denominator}",
                    f"{num} > {den}",
                    f"{num}::varchar || ' > ' || {den}::varchar",
                )
            )
    if feed.names_catalogue_series and {"measure_id", "series"} <= present.keys():
        measure, series = (exprs(feed.column(c))[0] for c in ("measure_id", "series"))
        rules.append(catalogue_rule(measure, series))
    return rules


def catalogue_rule(measure: str, series: str) -> Rule:
    """The row's measure_id and series name a series of the catalogue (seed measures, read
    through ``catalogue.measures``); the message lists the known ones."""
    from catalogue.measures import series_keys

    known = [f"{m} {s}" for m, s in series_keys()]
    named = f"concat_ws(' ', {measure}, coalesce({series}, ''))"
    return Rule(
        "measure_id",
        f"not a measure and series of the catalogue (known: {', '.join(known)})",
        f"{measure} is not null and {named} not in ({', '.join(map(sql_literal, known))})",
        named,
    )


def typed_columns(feed: Feed, present: dict[str, str], source: str = "_in") -> tuple[str, dict]:
    """A query over ``source`` with each present column cleaned (``_c_<name>``) and typed
    (``_t_<name>``) once, and ``values`` for :func:`build_rules` and the insert.

    The rules and the insert then name short columns instead of repeating each column's
    cleaning and typing SQL in every rule: DuckDB's planner (binding and its common
    subexpression pass) costs time in proportion to the SQL's size, and on a small file
    that planning, not the scan, was most of the load (docs/performance.md).
    """
    clean = {c: quote_ident(f"_c_{c}") for c in present}
    typed = {c: quote_ident(f"_t_{c}") for c in present}
    cleaned = "".join(
        f", {clean_text(quote_ident(name))} as {clean[c]}" for c, name in present.items()
    )
    typing = "".join(f", {typed_value(feed.column(c), clean[c])} as {typed[c]}" for c in present)
    query = f"select *{typing} from (select _source_row{cleaned} from {source})"
    return query, {c: (clean[c], typed[c]) for c in present}


def check_rules(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    display: str,
    headers: dict[str, str],
    source: str = "_in",
) -> None:
    """Run every rule in one scan of ``source``; raise IngestErrors listing each broken
    rule."""
    if not rules:
        return
    # each condition and value written once, in the inner query (a smaller plan)
    inner, selects = ["_source_row"], []
    for i, rule in enumerate(rules):
        inner += [f"coalesce({rule.condition}, false) as _b{i}", f"{rule.value} as _v{i}"]
        selects.append(f"count(*) filter (where _b{i}) as n{i}")
        selects.append(f"min(_source_row) filter (where _b{i}) as r{i}")
        selects.append(f"arg_min(_v{i}, _source_row) filter (where _b{i}) as v{i}")
    result = con.execute(
        f"select {', '.join(selects)} from (select {', '.join(inner)} from {source})"
    ).fetchone()
    errors = []
    for i, rule in enumerate(rules):
        count, row, value = result[3 * i : 3 * i + 3]
        if count:
            if quotable(value, rule.personal):
                problem = f"'{value}' is {_as_is(rule)}"
            elif value in (None, ""):
                problem = rule.problem
            else:
                problem = f"{rule.problem} ({WITHHELD})"
            errors.append(
                IngestError(
                    display,
                    problem,
                    row=row,
                    column=headers.get(rule.column, rule.column),
                    more=count - 1,
                )
            )
    if errors:
        raise IngestErrors(errors)


def _as_is(rule: Rule) -> str:
    problem = rule.problem
    if problem.startswith("not "):
        return problem
    if problem == "negative count":
        return "negative (counts cannot be below zero)"
    if problem.startswith("date outside"):
        return "a " + problem
    return f"invalid: {problem}"


def check_unique(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    present: dict[str, str],
    display: str,
    headers: dict[str, str],
) -> None:
    errors = []
    for col in feed.columns:
        if not col.unique or col.name not in present:
            continue
        src = clean_text(quote_ident(present[col.name]))
        row = con.execute(
            f"""
            select key, rows[1], rows[2], n - 1
            from (
                select {src} as key, list(_source_row order by _source_row) as rows,
                       count(*) as n
                from _in where {src} is not null group by all having count(*) > 1
            )
            order by rows[2] limit 1
            """
        ).fetchone()
        if row:
            key, first, second, _ = row
            key = f"'{key}'" if quotable(key, col.kind == "personal") else f"({WITHHELD})"
            dupes = con.execute(
                f"select count(*) - count(distinct {src}) from _in where {src} is not null"
            ).fetchone()[0]
            errors.append(
                IngestError(
                    display,
                    f"duplicate {col.name} {key} (first at row {first});"
                    " the id must be unique within a file",
                    row=second,
                    column=headers.get(col.name, col.name),
                    more=dupes - 1,
                )
            )
    if errors:
        raise IngestErrors(errors)
