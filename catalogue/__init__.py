"""The dbt seeds as Python reads them: one module per kind of rule, no copies.

The seeds in ``dbt_project/seeds/`` are the only place a status, a measure's noun or
order, or a fiscal quarter's boundaries are written; SQL reads them with ``ref()``,
Python through this package (docs/architecture.md).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@cache
def seed_rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``dbt_project/seeds/<name>.csv`` as strings, in file order."""
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def as_bool(text: str) -> bool:
    return text.strip().lower() == "true"
