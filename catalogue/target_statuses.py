"""The target-status vocabulary (seed ``target_status``) as the report reads it.

``fct_target_status`` decides which verdict a series-quarter has and carries its code
(``status``) and label (``status_label``); the report works with the labels, and this
module says what each label means: its sentence and whether it is off target.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from catalogue import as_bool, seed_rows


@dataclass(frozen=True)
class TargetStatus:
    code: str  # as the marts hold it, e.g. not_achieved
    label: str  # as the report prints it, e.g. NOT ACHIEVED
    verdict: str  # assessed: the sentence's start ("Target achieved"); else the sentence
    is_assessed: bool  # compared with a target (achieved, not achieved, on or off track)
    is_year_end: bool  # a Q4 verdict
    is_off_target: bool  # the report's off-target list


@cache
def target_statuses() -> tuple[TargetStatus, ...]:
    rows = sorted(seed_rows("target_status"), key=lambda r: int(r["sort_order"]))
    return tuple(
        TargetStatus(
            code=r["code"],
            label=r["label"],
            verdict=r["verdict"],
            is_assessed=as_bool(r["is_assessed"]),
            is_year_end=as_bool(r["is_year_end"]),
            is_off_target=as_bool(r["is_off_target"]),
        )
        for r in rows
    )


def by_label() -> dict[str, TargetStatus]:
    return {s.label: s for s in target_statuses()}


def off_target_labels() -> tuple[str, ...]:
    return tuple(s.label for s in target_statuses() if s.is_off_target)
