"""How long each test file took in a recent full run, so that ``make test`` hands the
longest files to the xdist workers first (longest processing time first: the two
workers then finish together instead of one waiting on a long file started last).

``tests/durations.json`` is a hint, not a result: a file it does not know counts as
quick, and a stale figure only changes the order. Refresh it from the JUnit report that
``make test`` writes:

    .venv/bin/python -m tests.durations data/test-results.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

DURATIONS = Path(__file__).with_name("durations.json")


def load() -> dict[str, float]:
    """Seconds per test file (``tests/test_x.py``), or nothing if the file is unreadable."""
    try:
        return {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def from_junit(report: Path) -> dict[str, float]:
    """Seconds per test file in a JUnit XML report (set-up, call and tear-down)."""
    seconds: Counter[str] = Counter()
    for case in ET.parse(report).iter("testcase"):
        package, module = case.get("classname", "").split(".")[:2]  # tests.test_x[.Class]
        seconds[f"{package}/{module}.py"] += float(case.get("time") or 0)
    return {name: round(value, 1) for name, value in sorted(seconds.items())}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    durations = from_junit(Path(argv[0]))
    DURATIONS.write_text(json.dumps(durations, indent=1, sort_keys=True) + "\n")
    print(f"{DURATIONS}: {len(durations)} files, {sum(durations.values()):.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
