"""The return-status vocabulary (seed ``data_status``): codes, wording, usable, gaps.

``int_measure_quarter`` decides which status a series-quarter has; this module only
says what the statuses are and how the report words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from catalogue import as_bool, seed_rows


@dataclass(frozen=True)
class Status:
    code: str  # e.g. declared_not_available
    label: str  # the missing-returns listing: "Not available (declared)"
    short_label: str  # a value cell without a figure: "Not available" ("" when usable)
    is_usable: bool  # a complete figure: comparisons and years to date use it
    is_return_gap: bool  # listed in fct_missing_returns once due
    has_figure: bool  # a figure (complete or partial) may be shown
    description: str


@cache
def statuses() -> tuple[Status, ...]:
    rows = sorted(seed_rows("data_status"), key=lambda r: int(r["sort_order"]))
    return tuple(
        Status(
            code=r["code"],
            label=r["label"],
            short_label=r["short_label"],
            is_usable=as_bool(r["is_usable"]),
            is_return_gap=as_bool(r["is_return_gap"]),
            has_figure=as_bool(r["has_figure"]),
            description=r["description"],
        )
        for r in rows
    )


def by_code() -> dict[str, Status]:
    return {s.code: s for s in statuses()}


def codes() -> tuple[str, ...]:
    return tuple(s.code for s in statuses())


def usable() -> tuple[str, ...]:
    return tuple(s.code for s in statuses() if s.is_usable)


def return_gaps() -> tuple[str, ...]:
    return tuple(s.code for s in statuses() if s.is_return_gap)


def without_figure() -> tuple[str, ...]:
    return tuple(s.code for s in statuses() if not s.has_figure)


def label(code: str) -> str:
    """The listing's wording; an unknown code is shown as it is."""
    status = by_code().get(code)
    return status.label if status else code


def short_label(code: str, default: str) -> str:
    """A value cell's wording when there is no figure; ``default`` when it has none."""
    status = by_code().get(code)
    return status.short_label if status and status.short_label else default
