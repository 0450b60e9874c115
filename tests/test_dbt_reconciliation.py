"""fct_published_reconciliation on the sample data: the published report's own arithmetic,
recomputed here independently in Python, and its figures against the marts.

Split from tests/test_dbt_marts.py, whose session build (``sample_build``) it shares."""

from __future__ import annotations

import pytest

from tests.test_dbt_marts import (
    MEASURES,
    PUBLISHED,
    SampleBuild,
    _id,
    sample_build,
)

ROLLING = ("3.3", "4.2")  # rolling 12-month figures: Q4 is the year's outturn (DESIGN.md)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


# --------------------------------------------------------------------------------------
# fct_published_reconciliation: the report's own arithmetic, recomputed here


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _pct(change: float | None, base: float | None) -> float | None:
    if change is None or not base:
        return None
    return 100 * change / base


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


class Report:
    """The published report: each figure looked up as a number, and what the report's
    other figures say it should be (its own arithmetic, independent of the marts)."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.numbers = {
            (r["measure_id"], r["series"], r["fiscal_year"], r["period"], r["figure"]): _number(
                r["value"]
            )
            for r in rows
        }

    def get(self, key: tuple[str, str], fy: str, period: str, figure: str) -> float | None:
        return self.numbers.get((*key, fy, period, figure))

    def ytd(self, key, fy: str, q: int, figure: str, ytd_figure: str) -> float | None:
        """Sum of the published quarters so far, else last quarter's year to date + this."""
        quarters = [self.get(key, fy, f"Q{i}", figure) for i in range(1, q + 1)]
        if None not in quarters:
            return sum(quarters)  # type: ignore[arg-type]
        if q > 1:
            previous = self.get(key, fy, f"Q{q - 1}", ytd_figure)
            this = quarters[-1]
            return None if previous is None or this is None else previous + this
        return None

    def ytd_base(self, key, fy: str, q: int, figure: str, ytd_figure: str) -> float | None:
        return _first(
            self.get(key, fy, f"Q{q}", ytd_figure), self.ytd(key, fy, q, figure, ytd_figure)
        )

    def outturn(self, key, fy: str) -> tuple[float | None, float | None]:
        """The year's value from its quarters, and as next year's report gives it."""
        method = "latest" if key[0] in ROLLING else "sum"
        next_fy = f"{int(fy[:4]) + 1}/{(int(fy[:4]) + 2) % 100:02d}"
        if method == "latest":
            from_quarters = self.get(key, fy, "Q4", "value")
            from_next = _first(
                self.get(key, next_fy, "FY", "last_year_value"),
                self.get(key, next_fy, "Q4", "last_year_value"),
            )
        else:
            from_quarters = self.ytd(key, fy, 4, "value", "ytd_value")
            from_next = _first(
                self.get(key, next_fy, "FY", "last_year_value"),
                self.ytd_base(key, next_fy, 4, "last_year_value", "ytd_last_year"),
            )
        return from_quarters, from_next

    def last_year_outturn(self, key, fy: str) -> float | None:
        method = "latest" if key[0] in ROLLING else "sum"
        previous = f"{int(fy[:4]) - 1}/{int(fy[:4]) % 100:02d}"
        if method == "latest":
            from_quarters = self.get(key, fy, "Q4", "last_year_value")
        else:
            from_quarters = self.ytd(key, fy, 4, "last_year_value", "ytd_last_year")
        return _first(from_quarters, self.get(key, previous, "FY", "value"))

    def expected(self, row: dict[str, str]) -> float | str | None:
        """What the report's other figures say this one should be (None: nothing to say)."""
        key, fy, period, figure = (
            (row["measure_id"], row["series"]),
            row["fiscal_year"],
            row["period"],
            row["figure"],
        )
        if key not in MEASURES:
            return self._breakdown(row)
        if period.startswith("Q"):
            return self._quarter(key, fy, int(period[1]), figure)
        return self._year(key, fy, figure)

    def _quarter(self, key, fy: str, q: int, figure: str) -> float | None:
        value = self.get(key, fy, f"Q{q}", "value")
        last_year = self.get(key, fy, f"Q{q}", "last_year_value")
        change = self.get(key, fy, f"Q{q}", "change")
        if figure == "change":
            return _minus(value, last_year)
        if figure == "pct_change":
            return _pct(
                _first(_minus(value, last_year), change), _first(last_year, _minus(value, change))
            )
        if MEASURES[key]["unit"] != "count" or key[0] in ROLLING:
            return None
        ytd_value = self.ytd_base(key, fy, q, "value", "ytd_value")
        ytd_last_year = self.ytd_base(key, fy, q, "last_year_value", "ytd_last_year")
        if figure == "ytd_value":
            return self.ytd(key, fy, q, "value", "ytd_value")
        if figure == "ytd_last_year":
            return self.ytd(key, fy, q, "last_year_value", "ytd_last_year")
        if figure == "ytd_change":
            return _minus(ytd_value, ytd_last_year)
        if figure == "ytd_pct_change":
            base = _first(
                ytd_last_year, _minus(ytd_value, self.get(key, fy, f"Q{q}", "ytd_change"))
            )
            return _pct(
                _first(_minus(ytd_value, base), self.get(key, fy, f"Q{q}", "ytd_change")), base
            )
        return None

    def _year(self, key, fy: str, figure: str) -> float | str | None:
        from_quarters, from_next = self.outturn(key, fy)
        value = _first(self.get(key, fy, "FY", "value"), from_quarters, from_next)
        last_year = _first(
            self.get(key, fy, "FY", "last_year_value"), self.last_year_outturn(key, fy)
        )
        rule = MEASURES[key]["target_rule"]
        if figure == "value":
            return _first(from_quarters, from_next)
        if figure == "last_year_value":
            return self.last_year_outturn(key, fy)
        if figure == "change":
            return _minus(value, last_year)
        if figure == "pct_change":
            return _pct(_minus(value, last_year), last_year)
        previous = f"{int(fy[:4]) - 1}/{int(fy[:4]) % 100:02d}"
        if figure == "baseline" and rule in ("below_previous_year", "above_baseline"):
            prev_quarters, prev_next = self.outturn(key, previous)
            return _first(self.get(key, previous, "FY", "value"), prev_quarters, prev_next)
        if figure == "target_status":
            column = f"baseline_{fy.replace('/', '_')}"
            baseline = _first(
                self.get(key, fy, "FY", "baseline"), _number(MEASURES[key].get(column) or "")
            )
            if value is None or baseline is None:
                return None
            met = {
                "below_fixed_baseline": value < baseline,
                "below_previous_year": value < baseline,
                "at_least_target": value >= baseline,
                "above_baseline": value > baseline,
            }.get(rule)
            return None if met is None else ("ACHIEVED" if met else "NOT ACHIEVED")
        return None

    def _breakdown(self, row: dict[str, str]) -> float | None:
        """IDVA engagement counts quoted beside the engaged numerator cannot exceed the
        referrals: the most each can be beside the others."""
        categories = ("unable_to_contact", "declined", "other", "pending")
        if row["measure_id"] != "6.4" or row["series"] not in categories:
            return None
        fy, period = row["fiscal_year"], row["period"]
        parts = [self.numbers.get(("6.4", c, fy, period, "context_count")) or 0 for c in categories]
        engaged = self.numbers.get(("6.4", "engaged_pct", fy, period, "numerator"))
        referrals = _first(
            self.numbers.get(("6.4", "referrals", fy, period, "value")),
            self.numbers.get(("6.4", "engaged_pct", fy, period, "denominator")),
        )
        if engaged is None or referrals is None or engaged + sum(parts) <= referrals:
            return None
        return referrals - engaged - (sum(parts) - float(row["value"]))


def _disagrees(row: dict[str, str], expected: float | str | None) -> bool:
    if expected is None:
        return False
    if isinstance(expected, str):
        return expected != row["value"]
    percent = "pct" in row["figure"] or row["unit"] == "percent"
    shown = round(expected, _decimals(row["value"])) if percent else expected
    return abs(shown - float(row["value"])) > 1e-9


def _arithmetic_slips() -> dict[tuple, float | str]:
    report = Report(PUBLISHED)
    slips = {}
    for row in PUBLISHED:
        if row["figure"] == "return_status":
            continue
        expected = report.expected(row)
        if _disagrees(row, expected):
            key = (
                row["measure_id"],
                row["series"],
                row["fiscal_year"],
                row["period"],
                row["figure"],
            )
            slips[key] = expected
    return slips


def _reconciliation(build: SampleBuild, kind: str) -> dict[tuple, tuple]:
    rows = build.query(
        "select measure_id, series, fiscal_year, period, figure, published_text, published_value,"
        " expected_text, expected_value, difference, explanation"
        " from marts.fct_published_reconciliation where check_kind = ?",
        [kind],
    )
    return {row[:5]: row[5:] for row in rows}


def test_the_report_has_arithmetic_slips() -> None:
    """The checker below finds what a reader of the report finds (a sanity check of it)."""
    slips = _arithmetic_slips()
    assert ("1.3", "total", "2016/17", "Q3", "ytd_value") in slips  # 10,023 vs 10,032
    assert ("4.1", "total", "2016/17", "Q4", "change") in slips  # 132 vs 647 - 517
    assert ("2.3", "total", "2016/17", "Q1", "pct_change") in slips  # -5.9 vs -3 / 17
    assert ("1.3", "total", "2016/17", "Q1", "pct_change") not in slips  # 80 / 3109 = 2.6


@pytest.mark.parametrize(
    "key",
    [pytest.param(key, id=_id(*key)) for key in _arithmetic_slips()],
)
def test_arithmetic_slip_is_listed(build: SampleBuild, key: tuple) -> None:
    listed = _reconciliation(build, "internal_arithmetic").get(key)
    assert listed is not None, "missing from fct_published_reconciliation"
    published_text, published_value, expected_text, expected_value, difference, why = listed
    expected = _arithmetic_slips()[key]
    if isinstance(expected, str):
        assert expected_text == expected
    else:
        row = next(
            r
            for r in PUBLISHED
            if tuple(r[c] for c in ("measure_id", "series", "fiscal_year", "period", "figure"))
            == key
        )
        percent = "pct" in key[4] or row["unit"] == "percent"
        assert (
            abs(
                expected_value - (round(expected, _decimals(row["value"])) if percent else expected)
            )
            < 1e-9
        )
        assert published_value == float(row["value"])
        assert abs(difference - (published_value - expected_value)) < 1e-9
    assert published_text in why and expected_text in why


def test_only_slips_are_listed(build: SampleBuild) -> None:
    listed = set(_reconciliation(build, "internal_arithmetic"))
    extra = sorted(listed - set(_arithmetic_slips()))
    assert not extra, f"listed as arithmetic slips but consistent: {extra}"


def _fact_figure(build: SampleBuild, row: dict[str, str]) -> float | str | None:
    """The marts' figure for a published one (the year's figures: Q4's year to date)."""
    key = (row["measure_id"], row["series"], row["fiscal_year"])
    figure, period = row["figure"], row["period"]
    quarter = 4 if period == "FY" else int(period[1])
    if figure in ("baseline", "target_status"):
        column = "baseline" if figure == "baseline" else "status_label"
        table = "marts.fct_target_status"
    else:
        year_columns = {
            "value": "ytd_value",
            "last_year_value": "ytd_last_year_value",
            "change": "ytd_change",
            "pct_change": "ytd_pct_change",
        }
        quarter_columns = {
            "ytd_last_year": "ytd_last_year_value",
            "return_status": "data_status",
        }
        column = year_columns.get(figure) if period == "FY" else quarter_columns.get(figure, figure)
        table = "marts.fct_measure_quarter"
    if column is None:
        return None
    rows = build.query(
        f"select {column} from {table} where measure_id = ? and series = ? and fiscal_year = ?"
        " and quarter = ?",
        [*key, quarter],
    )
    return rows[0][0] if rows else None


def test_recomputed_differences_are_exactly_those_of_the_marts(build: SampleBuild) -> None:
    """A published catalogue figure is listed as 'recomputed' exactly when the marts differ."""
    expected = set()
    for row in PUBLISHED:
        if (row["measure_id"], row["series"]) not in MEASURES:
            continue
        if _disagrees(row, _fact_figure(build, row)):
            expected.add(
                (row["measure_id"], row["series"], row["fiscal_year"], row["period"], row["figure"])
            )
    listed = {key for key in _reconciliation(build, "recomputed") if (key[0], key[1]) in MEASURES}
    assert listed == expected, (
        f"listed only: {sorted(listed - expected)}; missing: {sorted(expected - listed)}"
    )
