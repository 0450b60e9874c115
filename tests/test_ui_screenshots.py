"""The data team's Dagster UI, looked at in headless Chromium (issue 17).

A ``dagster-webserver`` is started on the definitions against a temporary DAGSTER_HOME
holding the materialised sample (as of 2017-05-31): the freshness and partner health
checks evaluated, the 2016/17 Q4 report built.  Its GraphQL API must return the report's
fiscal-quarter partition keys and the checks' descriptions; then Chromium renders five
pages (asset graph, a mart with its checks, the partner health view, the report's
partitions and overview), whose DOM must show what the page is for (not Dagster's
loading screen) and whose PNG must not be blank.  The screenshots are kept in ``data/screenshots/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from PIL import Image

from orchestration.freshness import feed_freshness
from orchestration.health import partner_health
from orchestration.publish import publish_marts
from orchestration.report_assets import add_report_quarters, quarterly_report, report_quarter_keys
from orchestration.resources import WarehouseSettings
from tests.test_dbt_marts import AREA, AS_OF, sample_build
from tests.test_report_browser import run_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "data" / "screenshots"
WINDOW = (1600, 1000)
PARTITION_KEYS_QUERY = """
{ assetNodeOrError(assetKey: {path: ["quarterly_report"]}) {
    ... on AssetNode { partitionKeys } } }
"""
DESCRIPTION_QUERY = """
{ assetNodeOrError(assetKey: {path: %s}) { ... on AssetNode { description } } }
"""
CHECKS_QUERY = """
{ assetNodeOrError(assetKey: {path: ["marts", "fct_missing_returns"]}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks {
        checks { name description } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["data"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory):
    """A dagster-webserver on the materialised sample; yields its port."""
    build = sample_build(tmp_path_factory)
    root = tmp_path_factory.mktemp("ui")
    warehouse = root / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(build.warehouse, warehouse)
    publish_marts(warehouse, as_of=AS_OF)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    (home / ".nux").mkdir()  # Dagster's "join the community" pop-up counts as seen
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    resource = WarehouseSettings(warehouse=str(warehouse), as_of=AS_OF.isoformat(), area=AREA[0])
    with dg.DagsterInstance.from_config(str(home)) as instance:
        checks = dg.materialize(
            [feed_freshness, partner_health],
            selection=dg.AssetSelection.all_asset_checks(),
            resources={"warehouse": resource},
            instance=instance,
        )
        assert checks.success
        add_report_quarters(instance, AS_OF)
        report = dg.materialize(
            [quarterly_report],
            partition_key="2016-17-Q4",
            resources={"warehouse": resource},
            instance=instance,
        )
        assert report.success
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CSP_WAREHOUSE": str(warehouse),
        "CSP_AS_OF": AS_OF.isoformat(),
        "CSP_AREA": AREA[0],
        "PYTHONPATH": str(REPO),
    }
    log = (root / "webserver.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            *("-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_default_signals,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (root / "webserver.log").read_text()[-3000:]
            try:
                if _graphql(port, "{ version }").get("version"):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster-webserver did not answer in 120 s"
            time.sleep(1)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_graphql_gives_fiscal_quarter_partitions_and_described_checks(ui: int) -> None:
    node = _graphql(ui, PARTITION_KEYS_QUERY)["assetNodeOrError"]
    assert node["partitionKeys"] == report_quarter_keys(AS_OF)
    assert node["partitionKeys"][-1] == "2016-17-Q4"
    checks = _graphql(ui, CHECKS_QUERY)["assetNodeOrError"]["assetChecksOrError"]["checks"]
    names = {c["name"]: c["description"] for c in checks}
    assert "partner_health" in names and "missing_returns" in names
    assert all((text or "").strip() for text in names.values()), names


def _description(port: int, *path: str) -> str:
    query = DESCRIPTION_QUERY % json.dumps(list(path))
    return _graphql(port, query)["assetNodeOrError"]["description"]


def test_descriptions_keep_angle_brackets_and_carry_no_raw_sql(ui: int) -> None:
    # markdown: the brackets are escaped so the UI shows them rather than eating a "tag"
    assert "reports/&lt;yyyy-yy&gt;-Q&lt;n&gt;/" in _description(ui, "quarterly_report")
    mart = _description(ui, "marts", "fct_measure_quarter")
    assert mart.strip() and "raw sql" not in mart.lower() and "select" not in mart.lower()


PAGES = {
    # name: (path, words the rendered page must show)
    # the global lineage opens on the groups, in order ingest ... publish, report
    "asset_graph": ("/asset-groups", ["Global asset lineage", "intermediate", "report"]),
    # the marts group as a list (its lineage graph is wider than the window)
    "marts_list": (
        "/locations/orchestration.definitions/asset-groups/marts/list",
        ["fct_missing_returns", "fct_measure_quarter", "dim_measure"],
    ),
    "mart_checks": ("/assets/marts/fct_missing_returns?view=checks", ["partner_health"]),
    "partner_health": (
        "/assets/marts/fct_missing_returns?view=checks&checkDetail=partner_health",
        ["Probation"],
    ),
    "report_partitions": ("/assets/quarterly_report?view=partitions", ["2016-17-Q4"]),
    # the description as the UI renders it: the brackets are shown, not swallowed
    "report_overview": ("/assets/quarterly_report", ["reports/&lt;yyyy-yy&gt;-Q&lt;n&gt;/"]),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot(ui: int, name: str, tmp_path: Path) -> None:
    path, words = PAGES[name]
    url = f"http://127.0.0.1:{ui}{path}"
    budget = "--virtual-time-budget=20000"
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS / f"{name}.png"
    png.unlink(missing_ok=True)
    # one page load: headless Chromium writes the screenshot and prints the DOM
    shot = f"--screenshot={png}"
    dom = run_chromium(tmp_path / "profile", budget, size, shot, "--dump-dom", url).stdout
    missing = [word for word in words if word not in dom]
    assert not missing, f"{name}: {missing} not on the rendered page (see {png})"
    with Image.open(png) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, f"{name}: a blank page"
    commonest = max(count for count, _ in colours)
    assert commonest < 0.97 * WINDOW[0] * WINDOW[1], f"{name}: almost one colour"
