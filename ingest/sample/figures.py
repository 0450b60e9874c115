"""The published figures, read from the dbt seeds when the sample is generated.

``dbt_project/seeds/published_figures.csv`` is the one home of every figure the
sample is calibrated to; ``measures.csv`` adds the catalogue baselines and target
rules, ``measure_computation.csv`` which figures are rolling (``ytd_method`` latest:
the year's figure is its Q4 value).  This module only reads and combines them:

- a quarter the seed prints: its ``value``, or next year's ``last_year_value``;
- a quarter it leaves out but gives a year to date for: the YTD less earlier quarters;
- a year's outturn: its ``FY value``, else a baseline of the next year whose target
  rule makes the baseline the previous year's outturn.

Where the seed contradicts itself the quarter figures win (docs/sample_data.md).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from ingest.config import PROJECT_ROOT
from ingest.sample.periods import QUARTERS, Quarter

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
# target rules whose baseline is the previous year's outturn (the others are fixed
# baselines, targets or none, and say nothing about an earlier year's data)
OUTTURN_BASELINES = ("below_previous_year", "above_baseline")
UNREPORTED = ("missing", "declared_not_available")

Number = int | float
Series = tuple[str, str]  # (measure_id, series)


def _number(text: str) -> Number:
    return float(text) if "." in text else int(text)


def _fiscal_year(fy: int) -> str:
    return Quarter(fy, 1).fiscal_year


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Published:
    """Lookups over the seeds: ``(measure, series, fiscal year, period, figure)``."""

    def __init__(self, seeds: Path = SEEDS) -> None:
        self.rows: dict[tuple[str, str, str, str, str], dict[str, str]] = {}
        for row in _read(seeds / "published_figures.csv"):
            key = (row["measure_id"], row["series"], row["fiscal_year"], row["period"])
            self.rows[(*key, row["figure"])] = row
        self.measures = {(m["measure_id"], m["series"]): m for m in _read(seeds / "measures.csv")}
        self.rolling = {
            (c["measure_id"], c["series"])
            for c in _read(seeds / "measure_computation.csv")
            if c["ytd_method"] == "latest"
        }
        self.force_groups = [
            (g["measure_id"], g["series"], g["offence_group"])
            for g in _read(seeds / "offence_group_measures.csv")
            if g["source_format"] == "force_extract"
        ]

    def figure(self, key: Series, fiscal_year: str, period: str, figure: str) -> Number | None:
        row = self.rows.get((*key, fiscal_year, period, figure))
        return None if row is None else _number(row["value"])

    def note(self, key: Series, quarter: Quarter, figure: str) -> str:
        return self.rows[(*key, quarter.fiscal_year, f"Q{quarter.q}", figure)]["note"]

    def status(self, key: Series, quarter: Quarter) -> str | None:
        row = self.rows.get((*key, quarter.fiscal_year, f"Q{quarter.q}", "return_status"))
        return None if row is None else row["value"]

    def unreported(self, key: Series, quarter: Quarter) -> bool:
        """The report lists the series-quarter as missing or declared not available."""
        return self.status(key, quarter) in UNREPORTED

    def printed(self, key: Series, quarter: Quarter, figure: str = "value") -> Number | None:
        """The quarter as printed: in its own year's column, or as next year's last year."""
        period = f"Q{quarter.q}"
        own = self.figure(key, quarter.fiscal_year, period, figure)
        if own is not None or figure != "value":
            return own
        return self.figure(key, _fiscal_year(quarter.fy + 1), period, "last_year_value")

    def outturn(self, key: Series, fy: int) -> Number | None:
        """The year's figure the seed states: its FY value, else the next year's baseline
        where the target rule makes that the previous year's outturn."""
        stated = self.figure(key, _fiscal_year(fy), "FY", "value")
        if stated is not None:
            return stated
        measure = self.measures[key]
        if measure["target_rule"] not in OUTTURN_BASELINES:
            return None
        following = _fiscal_year(fy + 1)
        baselines = {
            _number(row["value"])
            for k, row in self.rows.items()
            if k[:3] == (*key, following) and k[4] == "baseline"
        }
        if len(baselines) > 1:
            raise ValueError(f"{' '.join(key)} {following}: the seed states baselines {baselines}")
        if baselines:
            return baselines.pop()
        column = measure.get(f"baseline_{following.replace('/', '_')}")
        return _number(column) if column else None

    def known(self, key: Series, quarter: Quarter) -> Number | None:
        """A printed quarter, or the Q4 of a rolling figure whose outturn the seed states."""
        printed = self.printed(key, quarter)
        if printed is None and quarter.q == 4 and key in self.rolling:
            return self.outturn(key, quarter.fy)
        return printed

    def quarter_counts(
        self, key: Series, chosen: Mapping[str, Sequence[int | None]]
    ) -> list[int | None]:
        """One count per quarter of QUARTERS: as printed, else the sample's choice for a
        quarter the seed cannot give (``chosen[fiscal year][q - 1]``), else the YTD less
        the earlier quarters, else the year's outturn less the other quarters (a rolling
        figure: the outturn itself).  None where nothing says (the caller decides)."""
        counts: list[int | None] = []
        for quarter in QUARTERS:
            printed = self.known(key, quarter)
            choice = chosen.get(quarter.fiscal_year, (None,) * 4)[quarter.q - 1]
            if printed is not None and choice is not None:
                raise ValueError(
                    f"{' '.join(key)} {quarter.fiscal_year} Q{quarter.q}: the seed says"
                    f" {printed}; the sample's choice {choice} would copy or contradict it"
                )
            counts.append(printed if printed is not None else choice)
        for quarter in QUARTERS:
            if counts[quarter.index] is None:
                counts[quarter.index] = self._from_ytd(key, quarter, counts)
        for first in range(0, len(QUARTERS), 4):
            year = counts[first : first + 4]
            outturn = self.outturn(key, QUARTERS[first].fy)
            if year.count(None) == 1 and outturn is not None and key not in self.rolling:
                counts[first + year.index(None)] = int(outturn) - sum(c or 0 for c in year)
        return counts

    def _from_ytd(self, key: Series, quarter: Quarter, counts: list[int | None]) -> int | None:
        period = f"Q{quarter.q}"
        ytd = self.figure(key, quarter.fiscal_year, period, "ytd_value")
        if ytd is None:
            ytd = self.figure(key, _fiscal_year(quarter.fy + 1), period, "ytd_last_year")
        earlier = counts[quarter.index - quarter.q + 1 : quarter.index]
        if ytd is None or None in earlier:
            return None
        return int(ytd) - sum(c or 0 for c in earlier)


@cache
def published() -> Published:
    """The seeds as they are on disk (read once per process)."""
    return Published()
