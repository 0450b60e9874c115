"""The nine feeds' ``contract``/``volume`` checks run in one step (``feed_expectations``)
and their ``rejected_files`` checks in another (``rejected_files_checks``), each a
subsettable multi-asset check; a partial nightly run still selects only the feeds it
loaded, under the same check keys."""

from __future__ import annotations

import dagster as dg

from ingest.feeds import FEEDS
from orchestration.changes import RunPlan
from orchestration.checks import (
    CONTRACT,
    REJECTED_FILES,
    VOLUME,
    feed_checks,
    rejected_files_checks,
)
from orchestration.definitions import defs
from orchestration.run import NIGHTLY, partial_job


def _rejected_keys(keys) -> set[dg.AssetCheckKey]:
    return {key for key in keys if key.name == REJECTED_FILES}


def _feed_keys(keys) -> set[dg.AssetCheckKey]:
    return {key for key in keys if key.name in (CONTRACT, VOLUME)}


def test_one_definition_keeps_one_check_key_per_feed():
    [checks] = rejected_files_checks
    assert checks.can_subset
    assert _rejected_keys(checks.check_keys) == {
        dg.AssetCheckKey(dg.AssetKey(["raw", feed]), REJECTED_FILES) for feed in FEEDS
    }


def test_a_partial_run_selects_only_the_loaded_feeds_rejected_files_check():
    job = partial_job(defs, NIGHTLY, RunPlan(feeds=("idva_referrals",), files=1))
    selected = _rejected_keys(job.asset_layer.asset_graph.asset_check_keys)
    assert selected == {dg.AssetCheckKey(dg.AssetKey(["raw", "idva_referrals"]), REJECTED_FILES)}
    idva = dg.AssetKey(["raw", "idva_referrals"])
    assert _feed_keys(job.asset_layer.asset_graph.asset_check_keys) == {
        dg.AssetCheckKey(idva, CONTRACT),
        dg.AssetCheckKey(idva, VOLUME),
    }
    full = defs.resolve_job_def(NIGHTLY)
    assert len(_rejected_keys(full.asset_layer.asset_graph.asset_check_keys)) == len(FEEDS)


def test_the_feed_checks_keep_a_blocking_contract_and_a_volume_check_per_feed():
    [checks] = feed_checks
    assert checks.can_subset
    specs = {(s.asset_key.path[-1], s.name): s for s in checks.check_specs}
    assert set(specs) == {(feed, name) for feed in FEEDS for name in (CONTRACT, VOLUME)}
    assert all(specs[(feed, CONTRACT)].blocking for feed in FEEDS)
    assert not any(specs[(feed, VOLUME)].blocking for feed in FEEDS)
