"""Domestic abuse: MARAC cases and IDVA referrals."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from ingest.sample.calibration import (
    IDVA,
    MARAC_ALL,
    MARAC_CASES,
    MARAC_REPEAT,
    REPEAT_CASES_A_YEAR,
    IdvaMix,
    idva_published,
)
from ingest.sample.figures import published
from ingest.sample.helpers import RefBook, day_in, fraction, split, uk_date
from ingest.sample.periods import FIRST_FISCAL_YEAR, FISCAL_YEARS, LAST_YEAR, QUARTERS

# --------------------------------------------------------------------------------------
# Domestic abuse: MARAC cases and IDVA referrals


class MaracCounts(NamedTuple):
    cases: int
    engaged: int
    repeat_cases: int
    repeat_engaged: int


def marac_counts(rng: Random) -> dict[int, MaracCounts]:
    """Per quarter: 2016/17 as printed; each earlier year's repeat cases engage at the
    year's outturn the seed states (the 44% baseline)."""
    counts, pub = {}, published()
    for fy in range(FISCAL_YEARS - 1):
        quarters = range(4 * fy, 4 * fy + 4)
        rate = pub.outturn(MARAC_REPEAT, FIRST_FISCAL_YEAR + fy)
        if rate is None:
            raise ValueError(f"6.2 repeat victims {FIRST_FISCAL_YEAR + fy}: no outturn in the seed")
        year_cases = REPEAT_CASES_A_YEAR
        year_engaged = round(rate * year_cases / 100)
        repeat_cases = split(year_cases, [rng.uniform(0.8, 1.2) for _ in quarters])
        repeat_engaged = split(year_engaged, repeat_cases)
        for q, rc, re_ in zip(quarters, repeat_cases, repeat_engaged, strict=True):
            n = rng.randint(62, 88)
            engaged = re_ + round((n - rc) * rng.uniform(0.72, 0.86))
            counts[q] = MaracCounts(n, engaged, rc, re_)
    for quarter in LAST_YEAR:
        if pub.unreported(MARAC_ALL, quarter):
            continue
        n_all, n_repeat = MARAC_CASES[quarter]
        everyone = pub.printed(MARAC_ALL, quarter), n_all
        repeats = pub.printed(MARAC_REPEAT, quarter), n_repeat
        (engaged, cases), (repeat_engaged, repeat_cases) = fraction(*everyone), fraction(*repeats)
        counts[quarter.index] = MaracCounts(cases, engaged, repeat_cases, repeat_engaged)
    for q, c in counts.items():
        if not (c.repeat_engaged <= c.engaged <= c.repeat_engaged + c.cases - c.repeat_cases):
            raise ValueError(f"MARAC quarter {q}: inconsistent counts {c}")
    return counts


def marac_cases(rng: Random) -> dict[int, list[list[str]]]:
    case_refs, victims = RefBook(rng, "MC-{:06d}"), RefBook(rng, "MV-{:06d}")
    meetings = [date(2013, 4, 4) + timedelta(days=14 * i) for i in range(110)]
    seen: list[tuple[date, str]] = []  # (meeting, victim) for repeat referrals
    by_quarter = {}
    for q, c in sorted(marac_counts(rng).items()):
        quarter = QUARTERS[q]
        dates = [d for d in meetings if quarter.start <= d <= quarter.end]
        recent = [v for d, v in seen if d > quarter.start - timedelta(days=365)]
        flags = [(True, i < c.repeat_engaged) for i in range(c.repeat_cases)]
        first_time = c.cases - c.repeat_cases
        flags += [(False, i < c.engaged - c.repeat_engaged) for i in range(first_time)]
        rows = []
        for repeat, engaged in flags:  # (repeat case, engaging)
            other = "N" if rng.random() < 0.8 else "unknown"
            victim = rng.choice(recent) if repeat and recent else victims.new()
            rows.append(
                [rng.choice(dates), victim, "Y" if repeat else "N", "Y" if engaged else other]
            )
        rng.shuffle(rows)
        rows.sort(key=lambda r: r[0])
        seen += [(r[0], r[1]) for r in rows]
        by_quarter[q] = [[case_refs.new(), uk_date(d), v, rep, eng] for d, v, rep, eng in rows]
    return by_quarter


def idva_mixes(rng: Random) -> dict[int, IdvaMix]:
    mixes = {}
    for quarter in QUARTERS:
        if quarter in LAST_YEAR:
            if not published().unreported(IDVA, quarter):
                mixes[quarter.index] = idva_published(quarter)
            continue
        n = rng.randint(75, 105)
        worked = round(n * rng.uniform(0.84, 0.92))
        engaged = min(worked, round(n * rng.uniform(0.72, 0.82)))
        unable = round((n - engaged) * rng.uniform(0.4, 0.6))
        mixes[quarter.index] = IdvaMix(n, worked, engaged, unable, (n - engaged - unable) // 2)
    return mixes


_IDVA_NOTES = (
    "", "", "", "Referred by police after DASH assessment", "Self-referral",
    "Safe contact by text only", "Children's services involved", "Also referred to MARAC",
    "Referred by GP", "Client moved out of area – case transferred",
)  # fmt: skip
IDVA_HEADER = (
    "referral_id", "referral_date", "client_ref", "risk_level", "assessment_outcome",
    "engagement", "referred_to_programme", "notes",
)  # fmt: skip


def idva_referrals(rng: Random) -> dict[int, list[list[str]]]:
    clients = RefBook(rng, "HC-{:06d}")
    by_quarter = {}
    for q, mix in sorted(idva_mixes(rng).items()):
        quarter = QUARTERS[q]
        outcomes = ["worked_with"] * mix.worked_with
        outcomes += ["not_worked_with"] * (mix.referrals - mix.worked_with)
        rest = mix.referrals - mix.engaged - mix.unable_to_contact - mix.declined
        engagement = ["engaged"] * mix.engaged + ["unable_to_contact"] * mix.unable_to_contact
        engagement += ["pending" if quarter == QUARTERS[-1] else "other"] * rest
        engagement += ["declined"] * mix.declined
        pairs = list(zip(outcomes, engagement, strict=True))
        rng.shuffle(pairs)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in pairs)
        by_quarter[q] = [
            [
                f"IDVA-{quarter.fy % 100:02d}{quarter.q}-{i + 1:03d}",
                uk_date(day),
                clients.new(),
                rng.choices(("high", "medium", "standard"), (60, 30, 10))[0],
                outcome,
                engaged,
                "Y" if outcome == "worked_with" and rng.random() < 0.97 else "N",
                rng.choice(_IDVA_NOTES),
            ]
            for i, (day, (outcome, engaged)) in enumerate(zip(days, pairs, strict=True))
        ]
    return by_quarter
