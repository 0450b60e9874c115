"""Council MAASBT service requests and the ASB satisfaction survey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random

from ingest.sample.calibration import (
    MAASBT,
    SATISFACTION,
    SATISFACTION_REPLIES,
    counts,
    repeat_callers,
)
from ingest.sample.figures import published
from ingest.sample.helpers import RefBook, assign_callers, day_in, fraction, uk_date
from ingest.sample.periods import QUARTERS
from ingest.sample.places import WARDS

# --------------------------------------------------------------------------------------
# Council MAASBT requests and satisfaction survey


@dataclass(frozen=True)
class Request:
    ref: str
    day: date
    kind: str
    caller: str | None  # never None: the CRM requires a caller
    ward: str
    channel: str
    status: str


_REQUEST_TYPES = (
    ("Noise – domestic", 24), ("Neighbour dispute", 16), ("Youth-related nuisance", 14),
    ("Verbal abuse / harassment", 9), ("Noise – commercial", 4), ("Drug-related nuisance", 6),
    ("Alcohol-related nuisance", 5), ("Nuisance vehicles", 6), ("Fly-tipping", 5),
    ("Dog-related nuisance", 5), ("Graffiti", 3), ("Noise – licensed premises (café/bar)", 3),
)  # fmt: skip
_CLOSED = ("Closed – resolved", "Closed – resolved", "Closed – no further action", "Referred")
_CHANNELS = (
    ("Telephone", 55), ("Online form", 18), ("Email", 12), ("Police referral", 8),
    ("Housing provider referral", 5), ("Walk-in", 2),
)  # fmt: skip


def maasbt_requests(rng: Random) -> list[Request]:
    callers = RefBook(rng, "CN-{:06d}", 20000)
    kinds, kind_weights = zip(*_REQUEST_TYPES, strict=True)
    channels, channel_weights = zip(*_CHANNELS, strict=True)
    requests, repeaters = [], repeat_callers()[0]
    for quarter, n in zip(QUARTERS, counts(MAASBT), strict=True):
        refs = assign_callers(rng, n, repeaters[quarter.index], callers)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in range(n))
        open_share = 0.27 if quarter == QUARTERS[-1] else 0.02
        for n_, (day, caller) in enumerate(zip(days, refs, strict=True)):
            status = "Open" if rng.random() < open_share else rng.choice(_CLOSED)
            requests.append(
                Request(
                    f"SR-{quarter.fy}-{quarter.q}{n_ + 1:04d}",
                    day,
                    rng.choices(kinds, kind_weights)[0],
                    caller,
                    rng.choice(WARDS),
                    rng.choices(channels, channel_weights)[0],
                    status,
                )
            )
    return requests


MAASBT_HEADER = (
    "Request ID", "Received Date", "Request Type", "Caller Ref", "Ward Name", "Channel", "Status",
)  # fmt: skip


def satisfaction_responses(rng: Random) -> dict[int, list[list[str]]]:
    """1.2 as printed where the seed gives it; none where the report says no reports."""
    cases, pub = RefBook(rng, "ASB-C{:05d}"), published()
    by_quarter = {}
    for quarter in QUARTERS:
        if pub.unreported(SATISFACTION, quarter):
            continue
        rate = pub.printed(SATISFACTION, quarter)
        if rate is not None:
            satisfied, n = fraction(rate, SATISFACTION_REPLIES)
        else:
            n = rng.randint(35, 60)
            satisfied = round(n * rng.uniform(0.86, 0.96))
        answers = ["Y"] * satisfied + ["N"] * (n - satisfied)
        rng.shuffle(answers)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in range(n))
        by_quarter[quarter.index] = [
            [
                f"SAT-{quarter.fy}-{quarter.q}{i + 1:03d}",
                uk_date(day),
                "" if rng.random() < 0.1 else cases.new(),
                answer,
            ]
            for i, (day, answer) in enumerate(zip(days, answers, strict=True))
        ]
    return by_quarter
