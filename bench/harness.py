"""``make bench``: national police.uk volumes through the warehouse, against bare DuckDB.

    python -m bench [--years 10] [--keep] [--scales 1,3,10]

1. generates police.uk street-level files for the 43 forces (``bench.generate``);
2. times bare DuckDB (``read_csv`` into a table) and the project's police.uk ingest on
   the same files (``--years`` of them);
3. times a full build (``python -m orchestration.run``: ingest, dbt build, checks and
   everything else in the nightly job) on 1, 3 and ``--years`` years, each into a new
   warehouse, with the peak resident memory of the whole process tree;
4. reruns the nightly job on the largest warehouse with nothing new, then with one new
   month of national files;
5. prints the table and writes it into ``docs/performance.md`` (between the
   ``bench:begin``/``bench:end`` markers; the rest of the file is left alone), and
   removes ``data/bench/`` unless ``--keep``.

Every step runs in its own process (``bench.procmon``), with ``CSP_AREA=all``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from bench import procmon
from bench.generate import FIRST_MONTH, ROWS_PER_YEAR, months

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
GB = 1024**3


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss: int
    rows: int | None = None
    bytes: int | None = None
    ok: bool = True
    detail: dict = field(default_factory=dict)


def _python() -> str:
    return sys.executable


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(ROOT), "CSP_AREA": "all", "CSP_PSEUDONYM_KEY": "bench-key"})
    # the generator wrote the files seconds ago: the bench times loading them, not the
    # wait for a file to settle (CSP_SETTLE_SECONDS, 120 s by default), which would
    # otherwise leave every file pending and time an empty run
    env["CSP_SETTLE_SECONDS"] = "0"
    env.update(extra)
    return env


def _result(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {}


def _link_months(national: Path, landing: Path, month_names: list[str]) -> None:
    """Hard-link the months' files into landing/policeuk_street/<month>/ (no copies)."""
    for month in month_names:
        target = landing / "policeuk_street" / month
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted((national / month).glob("*.csv")):
            link = target / path.name
            if not link.exists():
                os.link(path, link)


def _files(national: Path, month_names: list[str]) -> tuple[int, int, int]:
    paths = [p for m in month_names for p in (national / m).glob("*.csv")]
    return len(paths), sum(p.stat().st_size for p in paths), 0


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    disk = shutil.disk_usage(ROOT)
    versions = []
    for dist in (
        "duckdb",
        "dagster",
        "dagster-dbt",
        "dbt-core",
        "dbt-duckdb",
        "great-expectations",
        "pandas",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{dist} {metadata.version(dist)}")
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "ram": f"{mem_kb / 1024**2:.1f} GiB",
        "disk": f"{disk.total / 1e9:.0f} GB ({disk.free / 1e9:.0f} GB free at start)",
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": ", ".join(versions),
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.out).resolve()
        self.national = self.work / "national"
        self.logs = self.work / "logs"
        self.steps: list[Step] = []
        self.all_months = [m.strftime("%Y-%m") for m in months(FIRST_MONTH, args.years * 12)]
        last = months(FIRST_MONTH, args.years * 12 + 1)[-1]
        self.new_month_name = last.strftime("%Y-%m")
        next_month = months(last, 2)[-1]
        self.as_of = (next_month + timedelta(days=30)).isoformat()

    def say(self, text: str) -> None:
        print(f"[bench {datetime.now():%H:%M:%S}] {text}", flush=True)

    def measure(self, name: str, cmd: list[str], env: dict[str, str], **info) -> Step:
        shown = " ".join(a if len(a) <= 80 else a[:60] + f"… ({len(a)} chars)" for a in cmd[-3:])
        self.say(f"{name}: {shown}")
        self.logs.mkdir(parents=True, exist_ok=True)
        measured = procmon.run(cmd, env=env, cwd=ROOT, log=self.logs / f"{name}.log")
        step = Step(name, measured.seconds, measured.peak_rss, ok=measured.returncode == 0, **info)
        step.detail.update(_result(measured.output))
        if not step.ok:
            tail = "\n".join(measured.output.splitlines()[-15:])
            self.say(f"{name} FAILED (exit {measured.returncode}):\n{tail}")
        self.say(f"{name}: {step.seconds:.1f}s, peak {step.peak_rss / GB:.2f} GiB")
        self.steps.append(step)
        return step

    # -- scenarios ------------------------------------------------------------------
    def generate(self) -> None:
        cmd = [
            _python(),
            "-m",
            "bench.generate",
            "--out",
            str(self.national),
            "--years",
            str(self.args.years),
            "--rows-per-year",
            str(self.args.rows_per_year),
        ]
        self.measure("generate", cmd, _env())
        # the month after the last one, for the "one new month" run
        cmd = [
            _python(),
            "-c",
            "from bench.generate import generate, FIRST_MONTH; from pathlib import Path;"
            f"generate(Path({str(self.national)!r}), 1/12, first=__import__('bench.generate')"
            f".generate.months(FIRST_MONTH, {self.args.years * 12 + 1})[-1],"
            f" first_index={self.args.years * 12}, rows_per_year={self.args.rows_per_year})",
        ]
        self.measure("generate_new_month", cmd, _env())

    def landing(self, years: int) -> Path:
        landing = self.work / f"landing_{years}y"
        _link_months(self.national, landing, self.all_months[: years * 12])
        return landing

    def volume(self, years: int) -> tuple[int, int]:
        files, size, _ = _files(self.national, self.all_months[: years * 12])
        return files, size

    def bare(self) -> Step:
        years = self.args.years
        db = self.work / "bare.duckdb"
        files, size = self.volume(years)
        cmd = [_python(), "-m", "bench.tasks", "bare", str(db), self._glob_list()]
        step = self.measure(f"bare_duckdb_{years}y", cmd, _env(), bytes=size)
        step.rows = step.detail.get("rows")
        step.detail["files"] = files
        db.unlink(missing_ok=True)
        return step

    def _glob_list(self) -> str:
        # read_csv takes a list of globs; one per month keeps the new month out
        return "['" + "', '".join(str(self.national / m / "*.csv") for m in self.all_months) + "']"

    def ingest(self) -> Step:
        years = self.args.years
        landing = self.landing(years)
        warehouse = self.work / f"ingest_{years}y.duckdb"
        warehouse.unlink(missing_ok=True)
        files, size = self.volume(years)
        env = _env(CSP_LANDING=str(landing), CSP_WAREHOUSE=str(warehouse), CSP_AS_OF=self.as_of)
        step = self.measure(
            f"ingest_{years}y", [_python(), "-m", "bench.tasks", "ingest"], env, bytes=size
        )
        step.rows = (step.detail.get("rows_loaded") or 0) + (
            step.detail.get("rows_outside_area") or 0
        )
        step.detail["files"] = files
        if files and not step.rows:
            step.ok = False  # nothing loaded is a broken measurement, not a fast one
        warehouse.unlink(missing_ok=True)
        return step

    def build_env(self, years: int) -> dict[str, str]:
        home = self.work / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        return _env(
            CSP_LANDING=str(self.landing(years)),
            CSP_WAREHOUSE=str(self.work / f"warehouse_{years}y" / "warehouse.duckdb"),
            CSP_AS_OF=self.as_of,
            DAGSTER_HOME=str(home),
        )

    def full_build(self, years: int) -> Step:
        env = self.build_env(years)
        shutil.rmtree(Path(env["CSP_WAREHOUSE"]).parent, ignore_errors=True)
        files, size = self.volume(years)
        step = self.measure(
            f"full_build_{years}y", [_python(), "-m", "orchestration.run"], env, bytes=size
        )
        step.detail["files"] = files
        step.detail["warehouse_bytes"] = _size(Path(env["CSP_WAREHOUSE"]).parent)
        return step

    def nightly(self, years: int) -> Step:
        return self.measure(
            "nightly_nothing_new",
            [_python(), "-m", "bench.tasks", "nightly"],
            self.build_env(years),
        )

    def run_nothing_new(self, years: int) -> Step:
        """``make run`` with nothing new (it must say so, not rebuild)."""
        return self.measure(
            "run_nothing_new", [_python(), "-m", "orchestration.run"], self.build_env(years)
        )

    def new_month(self, years: int) -> Step:
        env = self.build_env(years)
        _link_months(self.national, Path(env["CSP_LANDING"]), [self.new_month_name])
        files, size = _files(self.national, [self.new_month_name])[:2]
        step = self.measure(
            "one_new_month", [_python(), "-m", "bench.tasks", "nightly"], env, bytes=size
        )
        step.detail["files"] = files
        return step

    # -- run ------------------------------------------------------------------------
    def run(self) -> int:
        started = time.monotonic()
        facts = machine()
        self.work.mkdir(parents=True, exist_ok=True)
        if not self.args.reuse or not self.national.exists():
            shutil.rmtree(self.national, ignore_errors=True)
            self.generate()
        scales = sorted({s for s in self.args.scales if s <= self.args.years} | {self.args.years})
        try:
            self.bare()
            self.ingest()
            for years in scales:
                self.full_build(years)
            self.nightly(self.args.years)
            self.run_nothing_new(self.args.years)
            self.new_month(self.args.years)
        finally:
            results = {
                "command": self.args.command,
                "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": facts,
                "years": self.args.years,
                "rows_per_year": self.args.rows_per_year,
                "steps": [asdict(s) for s in self.steps],
                "total_seconds": time.monotonic() - started,
            }
            (self.work.parent / "bench_results.json").write_text(json.dumps(results, indent=2))
        table = render(results)
        print(table)
        if self.args.doc:
            write_doc(Path(self.args.doc), table)
            self.say(f"wrote {self.args.doc}")
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
            self.say(f"removed {self.work} (KEEP=1 keeps it)")
        return 0 if all(s.ok for s in self.steps) else 1


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def _step(results: dict, name: str) -> dict | None:
    return next((s for s in results["steps"] if s["name"] == name), None)


def targets(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, limit, met) for every target of the issue."""
    years = results["years"]
    bare = _step(results, f"bare_duckdb_{years}y")
    ingest = _step(results, f"ingest_{years}y")
    build = _step(results, f"full_build_{years}y")
    build1 = _step(results, "full_build_1y")
    nightly = _step(results, "nightly_nothing_new")
    month = _step(results, "one_new_month")
    again = _step(results, "run_nothing_new")
    builds = [s for s in results["steps"] if s["name"].startswith("full_build_")]
    out: list[tuple[str, str, str, bool | None]] = []
    if bare and ingest and bare["rows"] and ingest["rows"]:
        ratio = (ingest["rows"] / ingest["seconds"]) / (bare["rows"] / bare["seconds"])
        out.append(("ingest throughput vs bare DuckDB", f"{ratio:.2f}x", ">= 0.7x", ratio >= 0.7))
    if bare and build:
        ratio = build["seconds"] / bare["seconds"]
        limit = 2.5 if years == 1 else 1.5
        out.append(
            (
                f"full build {years}y vs bare DuckDB load",
                f"{ratio:.1f}x",
                f"<= {limit:g}x",
                ratio <= limit,
            )
        )
    if bare and build1 and years > 1:
        # bare DuckDB loads every year; one year's share of it is the 1-year floor
        ratio = build1["seconds"] / (bare["seconds"] / years)
        out.append(
            (
                "full build 1y vs bare DuckDB load (1/N of it)",
                f"{ratio:.1f}x",
                "<= 2.5x",
                ratio <= 2.5,
            )
        )
    if builds:
        peak = max(s["peak_rss"] for s in builds + [s for s in (nightly, month, again) if s])
        out.append(
            (
                "peak memory (any build or nightly)",
                f"{peak / GB:.2f} GiB",
                "<= 4 GiB",
                peak <= 4 * GB,
            )
        )
    for step, name, limit in (
        (again, "make run, nothing new", 5),
        (nightly, "nightly skip, nothing new", 1),
        (month, "one new month of national files", 10),
    ):
        if step:
            ratio = f" ({step['seconds'] / bare['seconds']:.2f}x bare)" if bare else ""
            out.append(
                (
                    name,
                    f"{step['seconds']:.1f} s{ratio}",
                    f"<= {limit} s",
                    step["seconds"] <= limit and step["ok"],
                )
            )
    return out


def render(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['when']} with `{results['command']}`"
        f" ({results['years']} years, {results['rows_per_year']:,} rows a year;"
        f" whole run {results['total_seconds'] / 60:.0f} min).",
        "",
        f"Machine: {m['cpu']}; {m['ram']} RAM; disk {m['disk']}; {m['os']};"
        f" Python {m['python']}; {m['versions']}.",
        "",
        "| step | files | rows | CSV size | wall time | vs bare | rows/s | MB/s | peak memory"
        " (tree) | ok |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    floor = _step(results, f"bare_duckdb_{results['years']}y")
    for s in results["steps"]:
        rows = s["rows"]
        size = s["bytes"]
        files = s["detail"].get("files", "")
        rate = f"{rows / s['seconds']:,.0f}" if rows else ""
        mbps = f"{size / 1e6 / s['seconds']:,.0f}" if size and rows else ""
        vs_bare = f"{s['seconds'] / floor['seconds']:.2f}x" if floor else ""
        lines.append(
            f"| {s['name']} | {files} | {f'{rows:,}' if rows else ''} |"
            f" {f'{size / 1e9:.2f} GB' if size else ''} | {s['seconds']:.1f} s |"
            f" {vs_bare} | {rate} |"
            f" {mbps} | {s['peak_rss'] / GB:.2f} GiB | {'yes' if s['ok'] else 'FAILED'} |"
        )
    lines += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for name, measured, limit, met in targets(results):
        lines.append(f"| {name} | {measured} | {limit} | {'yes' if met else '**no**'} |")
    return "\n".join(lines)


def write_doc(path: Path, table: str) -> None:
    block = f"{BEGIN}\n{table}\n{END}"
    if path.exists() and BEGIN in path.read_text():
        text = path.read_text()
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1] if END in rest else ""
        path.write_text(head + block + tail)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Performance at national scale\n\n{block}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument(
        "--scales",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 3, 10],
        help="years of the full builds (default 1,3,10)",
    )
    parser.add_argument("--rows-per-year", type=int, default=ROWS_PER_YEAR)
    parser.add_argument("--out", default=str(ROOT / "data" / "bench" / "run"))
    parser.add_argument("--doc", default=str(DOC), help="'' to leave docs/performance.md alone")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--reuse", action="store_true", help="reuse generated files if present")
    args = parser.parse_args(argv)
    args.command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    return Bench(args).run()
