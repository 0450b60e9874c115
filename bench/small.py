"""``make bench-small``: the fixed cost of a run, on the sample data, against bare DuckDB.

    python -m bench.small [--doc docs/performance.md] [--keep]

Every step runs in its own process (``bench.procmon``), one after the other, on one
warehouse in ``data/bench/small/``:

1. ``bare_duckdb_sample``: every sample CSV read into a DuckDB table per feed (the
   physical floor: the same bytes, no rules);
2. ``first_run``: ``python -m orchestration.run`` from an empty warehouse, one month of
   police ASB incidents held back;
3. ``nothing_new``: the same again (what ``make run`` does when nothing changed);
4. ``nightly_skip``: ``python -m bench.tasks nightly`` (the schedule's check);
5. ``one_new_month``: the held-back month dropped in (a partial run);
6. ``as_of_moved``: the as-of date a month later, nothing new (a partial run).

The table (each step with its ratio to bare DuckDB in the same run, and the issue's
targets) is printed and written into docs/performance.md between the
``bench-small:begin``/``bench-small:end`` markers.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import procmon
from bench.harness import GB, ROOT, Step, _env, _result, machine

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench-small:begin -->", "<!-- bench-small:end -->"
AS_OF, LATER = "2017-05-31", "2017-06-30"
HELD_BACK = Path("police_asb_incidents") / "asb_incidents_2017-03.csv"
PIPELINE = re.compile(r"Pipeline csp_nightly succeeded in ([\d.]+)s")

# (step, limit in seconds or None, what the limit is on): the targets
TARGETS = [
    ("first_run", 20.0, "pipeline"),
    ("nothing_new", 5.0, "wall"),
    ("nightly_skip", 1.0, "wall"),
    ("one_new_month", None, "wall"),
    ("as_of_moved", None, "wall"),
]


def bare(landing: str, db: str) -> dict:
    """One table per feed folder from all its CSV files (``python -m bench.small bare``)."""
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db)
    started = time.monotonic()
    rows = 0
    for folder in sorted(p for p in Path(landing).iterdir() if p.is_dir()):
        files = [str(f) for f in sorted(folder.glob("*.csv"))]
        if not files:
            continue
        table = f'"{folder.name}"'
        try:
            con.execute(f"create table {table} as select * from read_csv(?, {OPTIONS})", [files])
            rows += con.execute(f"select count(*) from {table}").fetchone()[0]
        except duckdb.Error:  # the sample's awkward files (UTF-16, Latin-1): one by one
            for number, file in enumerate(files):
                rows += _bare_one(con, f'"{folder.name}_{number}"', file)
    con.close()
    return {"rows": rows, "seconds": time.monotonic() - started}


OPTIONS = "union_by_name = true, all_varchar = true"


def _bare_one(con, table: str, file: str) -> int:
    """One awkward file into its own table, in the first encoding DuckDB accepts."""
    import duckdb

    for encoding in ("utf-8", "utf-16", "latin-1"):
        try:
            con.execute(
                f"create or replace table {table} as select * from read_csv(?, {OPTIONS},"
                f" encoding = '{encoding}')",
                [file],
            )
        except duckdb.Error:
            continue
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    return 0


class SmallBench:
    def __init__(self, out: Path) -> None:
        self.work = out
        self.landing = out / "landing"
        self.steps: list[Step] = []

    def env(self, as_of: str = AS_OF) -> dict[str, str]:
        home = self.work / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        return _env(
            CSP_LANDING=str(self.landing),
            CSP_WAREHOUSE=str(self.work / "data" / "warehouse.duckdb"),
            CSP_AS_OF=as_of,
            CSP_AREA="E06000004",
            CSP_SETTLE_SECONDS="0",
            DAGSTER_HOME=str(home),
        )

    def measure(self, name: str, cmd: list[str], env: dict[str, str]) -> Step:
        print(f"[bench-small {datetime.now():%H:%M:%S}] {name}", flush=True)
        logs = self.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        measured = procmon.run(cmd, env=env, cwd=ROOT, log=logs / f"{name}.log")
        step = Step(name, measured.seconds, measured.peak_rss, ok=measured.returncode == 0)
        step.detail.update(_result(measured.output))
        found = PIPELINE.findall(measured.output)
        if found:
            step.detail["pipeline_seconds"] = float(found[-1])
        if not step.ok:
            print("\n".join(measured.output.splitlines()[-15:]), file=sys.stderr)
        print(f"  {step.seconds:.1f}s, peak {step.peak_rss / GB:.2f} GiB", flush=True)
        self.steps.append(step)
        return step

    def run(self) -> dict:
        started = time.monotonic()
        facts = machine()
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        from ingest.sample_data import generate

        generate(self.landing)
        aside = self.work / HELD_BACK.name
        shutil.move(self.landing / HELD_BACK, aside)
        db = str(self.work / "bare.duckdb")
        step = self.measure(
            "bare_duckdb_sample",
            [sys.executable, "-m", "bench.small", "bare", str(self.landing), db],
            self.env(),
        )
        step.rows = step.detail.get("rows")
        run = [sys.executable, "-m", "orchestration.run"]
        self.measure("first_run", run, self.env())
        self.measure("nothing_new", run, self.env())
        self.measure("nightly_skip", [sys.executable, "-m", "bench.tasks", "nightly"], self.env())
        shutil.move(aside, self.landing / HELD_BACK)
        self.measure("one_new_month", run, self.env())
        self.measure("as_of_moved", run, self.env(LATER))
        return {
            "command": "python -m bench.small",
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": facts,
            "steps": [asdict(s) for s in self.steps],
            "total_seconds": time.monotonic() - started,
        }


def render(results: dict) -> str:
    steps = {s["name"]: s for s in results["steps"]}
    floor = steps.get("bare_duckdb_sample", {}).get("seconds") or None
    m = results["machine"]
    lines = [
        f"Measured {results['when']} with `{results['command']}` (the sample data, area"
        f" E06000004, as of {AS_OF}; whole run {results['total_seconds']:.0f} s).",
        "",
        f"Machine: {m['cpu']}; {m['ram']} RAM; load average at the end"
        f" {_load()}; Python {m['python']}; {m['versions']}.",
        "",
        "| step | wall time | pipeline | vs bare DuckDB | peak memory (tree) | ok |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in results["steps"]:
        pipeline = s["detail"].get("pipeline_seconds")
        ratio = f"{s['seconds'] / floor:.2f}x" if floor else ""
        lines.append(
            f"| {s['name']} | {s['seconds']:.1f} s |"
            f" {f'{pipeline:.1f} s' if pipeline is not None else ''} | {ratio} |"
            f" {s['peak_rss'] / GB:.2f} GiB | {'yes' if s['ok'] else 'FAILED'} |"
        )
    lines += [
        "",
        "| target | measured | vs bare DuckDB | limit | met |",
        "|---|---:|---:|---:|---|",
    ]
    for name, limit, on in TARGETS:
        step = steps.get(name)
        if step is None:
            continue
        value = step["detail"].get("pipeline_seconds") if on == "pipeline" else step["seconds"]
        if value is None:
            value = step["seconds"]
        met = "" if limit is None else ("yes" if value <= limit and step["ok"] else "**no**")
        ratio = f"{value / floor:.2f}x" if floor else ""
        shown = "" if limit is None else f"<= {limit:g} s"
        lines.append(f"| {name} ({on}) | {value:.1f} s | {ratio} | {shown} | {met} |")
    return "\n".join(lines)


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def write_doc(path: Path, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## Sample data (`make bench-small`)\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bare"]:
        print("RESULT " + json.dumps(bare(argv[1], argv[2])))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.small", description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "data" / "bench" / "small"))
    parser.add_argument("--doc", default=str(DOC), help="'' to leave docs/performance.md alone")
    parser.add_argument("--keep", action="store_true", help="keep data/bench/small/")
    args = parser.parse_args(argv)
    bench = SmallBench(Path(args.out).resolve())
    results = bench.run()
    (bench.work.parent / "bench_small_results.json").write_text(json.dumps(results, indent=2))
    table = render(results)
    print(table)
    if args.doc:
        write_doc(Path(args.doc), table)
    if not args.keep:
        shutil.rmtree(bench.work, ignore_errors=True)
    return 0 if all(s["ok"] for s in results["steps"]) else 1


if __name__ == "__main__":
    sys.exit(main())
