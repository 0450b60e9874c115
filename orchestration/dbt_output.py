"""What a ``dbt build`` step tells people: console lines, one summary line per layer,
and metadata on the marts: row counts, the as-of date, and how many deliveries were
received after it (loaded, but not counted).

dagster-dbt echoes every dbt log line to ``sys.stdout``.  When the ``csp.dbt.console``
logger has a level (``make run`` sets one, orchestration/console.py), each line goes to
that logger instead, at dbt's own level: info lines are shown only with ``-v``, dbt's
warnings and errors always.  Elsewhere (the Dagster UI and daemon) the lines stay on
stdout, in the step's compute log.

Row counts are read after dbt has finished, in one read-only connection: a count per
mart and the after-as-of list, 0.5 s measured on the sample's warehouse on this (busy)
2-core machine, against a 35-45 s build.  dagster-dbt's ``fetch_row_counts()`` is not
used: it queries through dbt's adapter in this process while the dbt subprocess still
holds the DuckDB file open (dbt-duckdb's ``keep_open``, on by default), which DuckDB
locks against other processes.  From the first mart on, the build's events
are held back until then and emitted in their order (Dagster wants a multi-asset's
outputs in topological order), the marts' with that metadata.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from ingest.config import Settings
from ingest.warehouse_file import open_warehouse
from orchestration.as_of import deliveries_after_as_of, describe_after_as_of

CONSOLE = logging.getLogger("csp.dbt.console")
SUMMARY = logging.getLogger("csp.dbt")
LEVELS = {"error": logging.ERROR, "warn": logging.WARNING}
LAYERS = ("seeds", "staging", "intermediate", "marts")


def console_routed() -> bool:
    """``make run`` configured the dbt console logger: route dbt's lines to it."""
    return CONSOLE.level != logging.NOTSET


def _emit(text: str, event) -> None:
    message = str(event) if event is not None else None
    level = LEVELS.get(event.raw_event["info"]["level"], logging.INFO) if event else None
    for line in text.splitlines():
        # a line that is not the event's own message was not JSON: never drop it
        CONSOLE.log(level if line == message else logging.WARNING, "%s", line)


def raw_events(invocation) -> Iterator:
    """dagster-dbt's raw events with its stdout echo routed to ``csp.dbt.console``."""
    events = invocation.stream_raw_events()
    while True:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            event = next(events, None)
        _emit(buffer.getvalue(), event)
        if event is None:
            return
        yield event


def asset_events(invocation) -> Iterator:
    """``invocation.stream()``, with the console routed when ``make run`` asks for it."""
    if not console_routed():
        yield from invocation.stream()
        return
    for event in raw_events(invocation):
        yield from event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        )


def _key_of(event, keys_by_output: Mapping[str, dg.AssetKey]) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return keys_by_output.get(event.output_name)
    return getattr(event, "asset_key", None)


def _is_mart(key: dg.AssetKey | None) -> bool:
    return key is not None and key.path[0] == "marts"


def with_metadata(
    context: dg.AssetExecutionContext, invocation, settings: Settings
) -> Iterator[dg.Output | dg.AssetCheckResult | dg.AssetObservation]:
    """The build's events; from the first mart's on once dbt is done, the marts' with
    row counts, the as-of date and the deliveries received after it."""
    SUMMARY.info("dbt build started (as of %s)", settings.effective_as_of.isoformat())
    keys_by_output = context.assets_def.keys_by_output_name
    held = []
    for event in asset_events(invocation):
        if held or _is_mart(_key_of(event, keys_by_output)):
            held.append(event)
        else:
            yield event
    extra = _post_build_metadata(held, keys_by_output, settings) if held else {}
    for event in held:
        key = _key_of(event, keys_by_output)
        if isinstance(event, dg.Output) and key in extra:
            event = event.with_metadata({**event.metadata, **extra[key]})
        yield event
    summarise_layers(context, invocation)


def _post_build_metadata(held, keys_by_output, settings: Settings) -> dict[dg.AssetKey, dict]:
    keys = {keys_by_output[e.output_name] for e in held if isinstance(e, dg.Output)}
    started = time.monotonic()
    as_of = settings.effective_as_of
    con = open_warehouse(settings.warehouse, read_only=True)
    try:
        late = deliveries_after_as_of(con)
        common: dict[str, Any] = {
            "as_of": dg.MetadataValue.text(as_of.isoformat()),
            "received_after_as_of": dg.MetadataValue.int(sum(d.files for d in late)),
        }
        if late:
            common["not_counted"] = dg.MetadataValue.md(
                describe_after_as_of(late, as_of, markdown=True)
            )
        extra: dict[dg.AssetKey, dict[str, Any]] = {}
        for key in filter(_is_mart, keys):
            rows = con.execute(f"select count(*) from {'.'.join(key.path)}").fetchone()[0]
            extra[key] = {"dagster/row_count": dg.MetadataValue.int(rows), **common}
    finally:
        con.close()
    SUMMARY.debug("post-build metadata read in %.2fs", time.monotonic() - started)
    return extra


def _layer(node_id: str, manifest: Mapping[str, Any]) -> str:
    from orchestration.dbt_assets import dbt_group_name

    nodes = manifest.get("nodes", {})
    node = nodes.get(node_id) or manifest.get("unit_tests", {}).get(node_id) or {}
    if node.get("resource_type") in ("test", "unit_test"):
        attached = node.get("attached_node") or next(
            iter(node.get("depends_on", {}).get("nodes", [])), None
        )
        node = nodes.get(attached) or manifest.get("sources", {}).get(attached) or {}
        if node.get("resource_type") == "source":
            return "staging"
    return dbt_group_name(node) or "other"


def layer_lines(run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[str]:
    """One line per dbt layer (seeds, staging, intermediate, marts) and one for the build:
    what ran, how it ended, how long it took."""
    kinds: dict[str, Counter] = defaultdict(Counter)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    seconds: dict[str, float] = defaultdict(float)
    for result in run_results.get("results", []):
        node_id = result["unique_id"]
        layer = _layer(node_id, manifest)
        kind = node_id.split(".")[0].replace("_", " ")
        kinds[layer][kind] += 1
        status = {"success": "pass"}.get(result["status"], result["status"])
        outcomes[layer][status] += 1
        seconds[layer] += result.get("execution_time") or 0.0
    lines = []
    for layer in sorted(kinds, key=lambda x: LAYERS.index(x) if x in LAYERS else len(LAYERS)):
        lines.append(
            f"dbt {layer}: {_counts(kinds[layer])} {_outcome(outcomes[layer])}"
            f" in {seconds[layer]:.1f} s"
        )
    total_kinds = sum(kinds.values(), Counter())
    total_outcomes = sum(outcomes.values(), Counter())
    elapsed = run_results.get("elapsed_time") or sum(seconds.values())
    lines.append(f"dbt: {_counts(total_kinds)} {_outcome(total_outcomes)} in {elapsed:.1f} s")
    return lines


def _counts(kinds: Counter) -> str:
    order = ("seed", "model", "test", "unit test", "snapshot")
    names = sorted(kinds, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(f"{kinds[k]} {k}{'s' if kinds[k] != 1 else ''}" for k in names)


def _outcome(outcomes: Counter) -> str:
    if set(outcomes) <= {"pass"}:
        return "passed"
    return "(" + ", ".join(f"{n} {s}" for s, n in sorted(outcomes.items())) + ")"


def summarise_layers(context: dg.AssetExecutionContext, invocation) -> None:
    """Log the layer lines (console at INFO, and the Dagster event log)."""
    try:
        lines = layer_lines(invocation.get_artifact("run_results.json"), invocation.manifest)
    except FileNotFoundError:  # dbt stopped before writing its results
        return
    for line in lines:
        SUMMARY.info("%s", line)
        context.log.info(line)
