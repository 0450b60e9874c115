"""Write police.uk-format street-level CSVs for the 43 territorial forces at national volume.

One file per force and month, named as police.uk's archive does
(``2015-04/2015-04-cleveland-street.csv``), with police.uk's exact header.  Every
column is made by DuckDB SQL from hash-based pseudo-random numbers of a seed, one
``COPY ... PARTITION_BY`` per year (no Python row loops): the same seed gives the same
rows.  Volumes follow the national picture of about 8 million rows a year (about
1.3 million anti-social behaviour incidents and 6.5 million crimes), spread over
every local authority of ``ingest/reference/local_authorities.csv`` through
LSOAs named as police.uk names them (``Stockton-on-Tees 014B``).

    python -m bench.generate --out data/bench/national --years 1 [--rows-per-year N]
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from bench.forces import FORCES, authorities, slug

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
    "LSOA code,LSOA name,Crime type,Last outcome category,Context"
)
FIRST_MONTH = date(2014, 4, 1)  # fiscal 2014/15, the Community Safety Plan's first year
ROWS_PER_YEAR = 7_800_000
ASB_SHARE = 1.3 / 7.8
NO_LOCATION_SHARE = 0.01

# crime types (share of crimes), close to England and Wales in the late 2010s
CRIME_TYPES = (
    ("Violence and sexual offences", 0.330),
    ("Other theft", 0.095),
    ("Criminal damage and arson", 0.090),
    ("Public order", 0.080),
    ("Shoplifting", 0.065),
    ("Burglary", 0.060),
    ("Vehicle crime", 0.065),
    ("Other crime", 0.020),
    ("Drugs", 0.025),
    ("Robbery", 0.013),
    ("Bicycle theft", 0.014),
    ("Theft from the person", 0.015),
    ("Possession of weapons", 0.008),
)
OUTCOMES = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Court result unavailable",
    "Status update unavailable",
    "Offender given a caution",
    "Local resolution",
    "Offender sent to prison",
    "Offender given community sentence",
    "Formal action is not in the public interest",
    "Further investigation is not in the public interest",
    "Under investigation",
    "Awaiting court outcome",
)
STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Mill Lane",
    "School Lane",
    "Queens Road",
    "Kings Road",
    "New Street",
    "North Street",
    "Grange Road",
    "London Road",
    "Sports/Recreation Area",
    "Supermarket",
    "Parking Area",
    "Petrol Station",
    "Shopping Area",
    "Nightclub",
    "Hospital",
    "Theatre/Concert Hall",
    "Further/Higher Educational Building",
)


@dataclass(frozen=True)
class Generated:
    files: int
    rows: int
    bytes: int
    seconds: float
    months: list[str]


def months(first: date, count: int) -> list[date]:
    out = []
    year, month = first.year, first.month
    for _ in range(count):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _values(rows: list[tuple]) -> str:
    def lit(v):
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return repr(v)

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _setup(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    las = authorities()
    con.execute(
        "create or replace temp table la as select * from (values "
        + _values([(r["area_code"], r["lsoa_prefix"], r["force"]) for r in las])
        + ") t(area_code, lsoa_prefix, force)"
    )
    # LSOAs per authority: 60..209 (about 45,000 in all, police.uk has about 35,000),
    # named '<prefix> 001A', '<prefix> 001B', ...; a centre per authority, jittered.
    con.execute(
        f"""
        create or replace temp table lsoa as
        with sized as (
            select *, (60 + hash({seed}, area_code, 'n') % 150)::bigint as n_lsoa,
                   50.4 + (hash({seed}, area_code, 'lat') % 50000) / 10000.0 as lat0,
                   -4.5 + (hash({seed}, area_code, 'lon') % 56000) / 10000.0 as lon0
            from la
        ),
        expanded as (
            select area_code, lsoa_prefix, force, lat0, lon0, unnest(range(n_lsoa)) as i
            from sized
        )
        select
            row_number() over (order by area_code, i) - 1 as idx,
            force,
            case when area_code like 'W%' then 'W01' else 'E01' end
                || lpad((row_number() over (order by area_code, i) + 10000)::varchar, 6, '0')
                as lsoa_code,
            lsoa_prefix || ' ' || lpad((i // 4 + 1)::varchar, 3, '0') || chr(65 + (i % 4)::int)
                as lsoa_name,
            lat0 + ((hash({seed}, area_code, i, 'y') % 2000)::bigint - 1000) / 40000.0 as lat,
            lon0 + ((hash({seed}, area_code, i, 'x') % 2000)::bigint - 1000) / 25000.0 as lon
        from expanded
        """
    )
    cumulative, total = [], 0.0
    weight = sum(share for _, share in CRIME_TYPES)
    for name, share in CRIME_TYPES:
        total += share / weight * (1 - ASB_SHARE)
        cumulative.append((name, total))
    cases = "".join(
        f" when u < {c:.6f} then '{n}'"
        for n, c in [
            ("Anti-social behaviour", ASB_SHARE),
            *[(name, ASB_SHARE + c) for name, c in cumulative],
        ]
    )
    con.execute(f"create or replace macro crime_type_of(u) as case{cases} else 'Other crime' end")
    outcomes = "[" + ", ".join(f"'{o}'" for o in OUTCOMES) + "]"
    streets = "[" + ", ".join(f"'{s}'" for s in STREETS) + "]"
    con.execute(
        f"create or replace macro outcome_of(h) as {outcomes}[(h % {len(OUTCOMES)})::int + 1]"
    )
    con.execute(f"create or replace macro street_of(h) as {streets}[(h % {len(STREETS)})::int + 1]")


def _month_rows(month: date, index: int, rows_per_year: int) -> int:
    seasonal = (0.94, 0.98, 1.05, 1.08, 1.06, 1.02, 1.03, 0.98, 0.95, 0.94, 0.93, 1.04)
    trend = 1 + 0.01 * (index // 12)
    return int(rows_per_year / 12 * seasonal[month.month - 1] * trend)


def generate(
    out: Path,
    years: float = 1,
    seed: int = 42,
    rows_per_year: int = ROWS_PER_YEAR,
    first: date = FIRST_MONTH,
    first_index: int = 0,
    forces: list[str] | None = None,
    threads: int | None = None,
) -> Generated:
    """Write ``years`` years of monthly force files from ``first`` into ``out``.

    ``forces`` limits the files to those forces (small test samples); the national
    volume is then scaled down to their share.
    """
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    all_months = months(first, round(years * 12))
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    if threads:
        con.execute(f"set threads = {threads}")
    con.execute("set preserve_insertion_order = false")
    _setup(con, seed)
    national = con.execute("select count(*) from lsoa").fetchone()[0]
    if forces:
        unknown = set(forces) - set(FORCES)
        if unknown:
            raise ValueError(f"unknown forces: {sorted(unknown)}")
        con.execute(
            "delete from lsoa where force not in (" + ", ".join(f"'{f}'" for f in forces) + ")"
        )
        con.execute(
            "create or replace temp table lsoa as select * exclude (idx),"
            " row_number() over (order by idx) - 1 as idx from lsoa"
        )
    n_lsoa = con.execute("select count(*) from lsoa").fetchone()[0]
    share = n_lsoa / national  # a subset of forces gets its share of the national volume
    total_rows = 0
    staging = out / "_partitions"
    for start in range(0, len(all_months), 12):
        block = all_months[start : start + 12]
        month_rows = [
            (m.strftime("%Y-%m"), _month_rows(m, first_index + start + k, rows_per_year) * share)
            for k, m in enumerate(block)
        ]
        values = _values([(m, int(n)) for m, n in month_rows])
        shutil.rmtree(staging, ignore_errors=True)
        con.execute(
            f"""
            copy (
                with plan as (select * from (values {values}) t(month, n)),
                numbered as (select month, unnest(range(n::bigint)) as i from plan),
                drawn as (
                    select
                        month, i,
                        hash({seed}, month, i) as h,
                        (hash({seed}, month, i, 't') % 1000000) / 1000000.0 as u,
                        hash({seed}, month, i, 'l') % {n_lsoa} as lsoa_idx
                    from numbered
                ),
                rows as (
                    select
                        drawn.month, drawn.i, drawn.h, lsoa.force,
                        crime_type_of(drawn.u) as crime_type,
                        (drawn.h % 1000) < {int(NO_LOCATION_SHARE * 1000)} as no_location,
                        lsoa.lsoa_code, lsoa.lsoa_name, lsoa.lat, lsoa.lon
                    from drawn join lsoa on drawn.lsoa_idx = lsoa.idx
                )
                select
                    case when crime_type <> 'Anti-social behaviour'
                        then sha256('{seed}-' || month || '-' || i) end as "Crime ID",
                    month as "Month",
                    force as "Reported by",
                    force as "Falls within",
                    case when not no_location
                        then printf('%.6f', lon + (((h >> 8) % 1000)::bigint - 500) / 200000.0) end
                        as "Longitude",
                    case when not no_location
                        then printf('%.6f', lat + (((h >> 20) % 1000)::bigint - 500) / 300000.0) end
                        as "Latitude",
                    case when no_location then 'No location'
                        else 'On or near ' || street_of(h >> 32) end as "Location",
                    case when not no_location then lsoa_code end as "LSOA code",
                    case when not no_location then lsoa_name end as "LSOA name",
                    crime_type as "Crime type",
                    case when crime_type <> 'Anti-social behaviour'
                        then outcome_of(h >> 40) end as "Last outcome category",
                    null as "Context",
                    month as _month,
                    force as _force
                from rows
                order by month, force, i
            ) to '{staging}' (format csv, header true, partition_by (_month, _force))
            """
        )
        for part in sorted(staging.glob("_month=*/_force=*/*.csv")):
            month = part.parent.parent.name.split("=", 1)[1]
            force = part.parent.name.split("=", 1)[1]
            target = out / month / f"{month}-{slug(_unescape(force))}-street.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            part.replace(target)
        shutil.rmtree(staging, ignore_errors=True)
        total_rows += sum(int(n) for _, n in month_rows)
    con.close()
    files = sorted(p for m in all_months for p in (out / m.strftime("%Y-%m")).glob("*.csv"))
    return Generated(
        files=len(files),
        rows=total_rows,
        bytes=sum(p.stat().st_size for p in files),
        seconds=time.monotonic() - started,
        months=[m.strftime("%Y-%m") for m in all_months],
    )


def _unescape(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/bench/national"))
    parser.add_argument("--years", type=float, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rows-per-year", type=int, default=ROWS_PER_YEAR)
    args = parser.parse_args(argv)
    result = generate(args.out, args.years, args.seed, args.rows_per_year)
    print(
        f"{result.files} files, {result.rows:,} rows, {result.bytes / 1e9:.2f} GB"
        f" in {result.seconds:.1f}s"
    )


if __name__ == "__main__":
    main()
