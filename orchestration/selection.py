"""What a partial nightly run selects: one rule for ``make run`` (orchestration/run.py)
and the daemon's schedule and landing sensor (orchestration/jobs.py, sensors.py).

A plan (``orchestration.changes.plan_run``) that is neither a skip nor a full build names
the feeds with new or changed files and whether the as-of date moved. The run then
holds those feeds' assets, the ledger asset ``raw/load_log``, the dbt models that read
the as-of date when it moved, everything downstream of them in the job, the checks of
what it holds, and the ``feed_freshness`` checks (they read ``fct_missing_returns``,
which every partial run rebuilds). docs/performance.md "Rebuild only what a delivery
touches" says why the result equals a full build (tests/test_incremental.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class Subset:
    assets: frozenset[dg.AssetKey]
    checks: frozenset[dg.AssetCheckKey]


def nightly_subset(job: dg.JobDefinition, asset_graph, plan) -> Subset | None:
    """The part of the resolved nightly ``job`` that ``plan`` needs, or None for all of it."""
    from orchestration.dbt_assets import as_of_asset_keys
    from orchestration.freshness import feed_freshness

    if plan.full or plan.skip:
        return None
    roots = [dg.AssetKey(["raw", feed]) for feed in plan.feeds]
    if roots or plan.unowned:
        roots.append(dg.AssetKey(["raw", "load_log"]))
    if plan.as_of_changed:
        roots += as_of_asset_keys()
    in_job = set(job.asset_layer.asset_graph.get_all_asset_keys())
    selected = dg.AssetSelection.assets(*roots).downstream().resolve(asset_graph) & in_job
    checks = set(job.asset_layer.asset_graph.asset_check_keys)
    chosen = {key for key in checks if key.asset_key in selected}
    chosen |= set(feed_freshness.check_keys) & checks
    return Subset(frozenset(selected), frozenset(chosen))


def nightly_request(context, plan, **request) -> dg.RunRequest:
    """A schedule's or sensor's RunRequest for the nightly job, narrowed to ``plan``'s
    subset (the same one ``make run`` would run). Without the repository to resolve the
    job in (a context built by hand), it asks for the whole job: a full build is always
    right, only slower."""
    from orchestration.run import NIGHTLY

    tags = {**request.pop("tags", {}), "csp/plan": plan.describe()[:200]}
    if plan.full or plan.skip:
        return dg.RunRequest(**request, tags=tags)
    try:
        repository = context.repository_def
    except dg.DagsterInvariantViolationError:
        repository = None
    if repository is None:
        return dg.RunRequest(**request, tags=tags)
    subset = nightly_subset(repository.get_job(NIGHTLY), repository.asset_graph, plan)
    return dg.RunRequest(
        **request,
        tags=tags,
        asset_selection=sorted(subset.assets, key=lambda k: k.to_user_string()),
        asset_check_keys=sorted(subset.checks, key=lambda k: k.to_user_string()),
    )
