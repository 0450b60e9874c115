"""The catalogue's series as Python reads them (seed ``measures``).

Ingest uses it to reject a partner return naming a series the catalogue does not know
(``ingest/validate.py``): the seed stays the only place a measure is named.
"""

from __future__ import annotations

from catalogue import seed_rows


def series_keys() -> tuple[tuple[str, str], ...]:
    """(measure_id, series) of every series of the catalogue, in seed order."""
    return tuple((row["measure_id"], row["series"]) for row in seed_rows("measures"))
