"""Great Expectations suites as Dagster asset checks (GX 1.x called directly, not dagster-ge).

Every feed asset ``raw/<feed>`` gets three checks:

``contract`` (blocking, ERROR)  suite ``feed.<feed>`` (types, allowed values, natural key,
    dates inside the delivered period) over the *loaded* rows new since the last passing
    check (``raw.check_watermark``; large deliveries as per-load SQL counts, suite
    ``feed.<feed>.loads``, plus a bounded sample).  A rejected file loads no rows, so it
    cannot fail this check; it fails only on a genuinely corrupt state of the loaded data,
    and then nothing downstream of the feed is built in that run.
``volume`` (WARN, not blocking)  suite ``feed.<feed>.volume``: rows per fiscal quarter
    against the same months last year, within ``CSP_VOLUME_TOLERANCE``.
``rejected_files`` (WARN, not blocking)  suite ``feed.<feed>.ledger``: no outstanding
    rejected delivery, as the dbt view ``int_ingest__rejected_deliveries`` defines it (so
    it runs after the dbt build); metadata lists each one with file, row, column and
    reason.  A bad delivery costs only its own series: ``int_measure_quarter`` marks the
    series-quarters it would have fed ``rejected``; everything else rebuilds and publishes.
    Before the first dbt build has created the view, the check fails (WARN) saying so.

The marts' integrity (grain, keys, allowed values, completeness, year to date) is the
dbt tests' (dagster-dbt asset checks).  GX lists what they cannot (``expectations/marts.py``,
``mart_checks``): ``marts/fct_missing_returns`` ``missing_returns`` (WARN: every open
return of the current plan year, with a rollup by owning agency) and
``marts/fct_published_reconciliation`` ``expectations`` (WARN, never failed: lists the
differences).

Every feed's ``contract`` and ``volume`` run in one step (``feed_expectations``), every
feed's ``rejected_files`` in another (``rejected_files_checks``): subsettable multi-asset
checks, so a partial run selects per feed under the same check keys, and each step makes
one GX context and renders Data Docs once.

Each run re-renders GX Data Docs into ``gx_data_docs/`` next to the warehouse file; the
checks link to them over http (``orchestration/data_docs.py``, served by ``make dev``).
``feed_checks``, ``rejected_files_checks`` and ``mart_checks`` go into
``Definitions(asset_checks=...)``.  See docs/expectations.md.

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

import dagster as dg

from expectations.feed_suites import FeedReport, LedgerReport, validate_feed, validate_ledgers
from expectations.ledger import LedgerViewMissing
from expectations.marts import MartResult, MartSuite, mart_check_groups, validate_marts
from expectations.runner import data_docs_dir, failures_markdown, md_table, sample_markdown
from ingest.feeds import FEEDS, Feed
from orchestration.data_docs import docs_link
from orchestration.resources import WAREHOUSE_POOL, WarehouseSettings

CONTRACT = "contract"
VOLUME = "volume"
REJECTED_FILES = "rejected_files"
# the dbt view defining outstanding rejected deliveries (the rejected_files checks run after it)
REJECTED_DELIVERIES = dg.AssetKey(["intermediate", "int_ingest__rejected_deliveries"])


def contract_result(report: FeedReport, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    failures = [f for outcome in report.contract for f in outcome.failures]
    metadata: dict[str, dg.MetadataValue] = {
        "suites": dg.MetadataValue.text(", ".join(o.suite for o in report.contract)),
        "rows_checked": dg.MetadataValue.int(report.rows),
        "current_loads": dg.MetadataValue.int(report.current_loads),
        "loads_checked": dg.MetadataValue.int(report.loads_checked),
        "checked_after_load_id": dg.MetadataValue.int(report.checked_after),
        "checked_through_load_id": dg.MetadataValue.int(report.checked_through),
        "watermark_advanced": dg.MetadataValue.bool(report.watermark_advanced),
        "validation_mode": dg.MetadataValue.text(report.mode),
        "largest_frame_rows": dg.MetadataValue.int(report.largest_frame),
        "expectations_evaluated": dg.MetadataValue.int(sum(o.evaluated for o in report.contract)),
        "expectations_failed": dg.MetadataValue.int(len(failures)),
        "data_docs": docs_link(report.data_docs),
    }
    if failed := report.failed_expectations_md():
        metadata["failed_expectations"] = dg.MetadataValue.md(failed)
    if rows := report.offending_rows_md():
        metadata["offending_rows"] = dg.MetadataValue.md(rows)
    if loads := report.failing_loads_md():
        metadata["failing_loads"] = dg.MetadataValue.md(loads)
    pages = [o.docs_url for o in report.contract if o.docs_url and not o.success]
    if pages:
        metadata["data_docs_failed_validation"] = docs_link(pages[0])
    description = "contract holds"
    if failures:
        # in summary mode a rule fails twice (sample rows, per-load counts): count it once
        failed = len({f.description for f in failures})
        description = f"{failed} expectation(s) failed: {failures[0].description}"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CONTRACT,
        passed=report.contract_passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=description,
    )


def volume_result(report: FeedReport, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    frame = report.volume_frame
    compared = int(frame["ratio_checked"].notna().sum()) if len(frame) else 0
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(report.volume.suite),
        "tolerance": dg.MetadataValue.float(report.tolerance),
        "quarters_delivered": dg.MetadataValue.int(len(frame)),
        "quarters_compared": dg.MetadataValue.int(compared),
        "data_docs": docs_link(report.data_docs),
    }
    if outside := report.volume_md(only_failing=True):
        metadata["quarters_outside_tolerance"] = dg.MetadataValue.md(outside)
    if recent := report.volume_md(only_failing=False):
        metadata["recent_quarters"] = dg.MetadataValue.md(recent)
    if report.volume.docs_url and not report.volume.success:
        metadata["data_docs_failed_validation"] = docs_link(report.volume.docs_url)
    description = (
        f"every compared quarter within ±{report.tolerance:.0%} of last year"
        if report.volume_passed
        else f"volume outside ±{report.tolerance:.0%} of the same months last year"
    )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=VOLUME,
        passed=report.volume_passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def rejected_files_result(report: LedgerReport, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    """WARN while a rejected delivery of the feed is outstanding; never blocks."""
    outstanding = report.outstanding
    metadata: dict[str, dg.MetadataValue] = {
        "suite": dg.MetadataValue.text(report.outcome.suite),
        "rejected_files_outstanding": dg.MetadataValue.int(len(outstanding)),
        "rejected_files_resolved": dg.MetadataValue.int(len(report.rejections) - len(outstanding)),
        "data_docs": docs_link(report.data_docs),
    }
    if table := report.outstanding_md():
        metadata["outstanding_rejected_files"] = dg.MetadataValue.md(table)
    if report.outcome.docs_url and not report.outcome.success:
        metadata["data_docs_failed_validation"] = dg.MetadataValue.url(report.outcome.docs_url)
    description = "no outstanding rejected file"
    if outstanding:
        first = outstanding[0].delivery
        description = (
            f"outstanding rejected file: {first.error or first.file_name}"
            " (its series-quarters are marked rejected; everything else was published)"
        )
        if len(outstanding) > 1:
            description += f" (and {len(outstanding) - 1} more)"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=REJECTED_FILES,
        passed=report.outcome.success and not outstanding,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def build_rejected_files_checks(feeds: list[Feed]) -> dg.AssetChecksDefinition:
    """Every feed's ``rejected_files`` check in one step (each a small read of the ledger
    view; nine steps cost more in Dagster's step overhead than the checks themselves).
    ``can_subset``: a partial run selects only the feeds it loaded."""
    keys = {feed.name: dg.AssetKey(["raw", feed.name]) for feed in feeds}

    @dg.multi_asset_check(
        name="rejected_files_checks",
        specs=[
            dg.AssetCheckSpec(
                REJECTED_FILES,
                asset=keys[feed.name],
                blocking=False,
                additional_deps=[REJECTED_DELIVERIES],
                description=f"GX suite feed.{feed.name}.ledger: no outstanding rejected"
                f" {feed.name} delivery (dbt view int_ingest__rejected_deliveries; warning"
                " only: the rejected file's series-quarters are marked rejected, nothing"
                " else is held back).",
            )
            for feed in feeds
        ],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="GX suites feed.<feed>.ledger: no outstanding rejected delivery.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        chosen = [feed for feed in feeds if keys[feed.name] in selected]
        try:
            reports = validate_ledgers(
                warehouse.settings(), chosen, run_name=context.run.run_id[:8]
            )
        except LedgerViewMissing as exc:
            for feed in chosen:
                yield dg.AssetCheckResult(
                    asset_key=keys[feed.name],
                    check_name=REJECTED_FILES,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=str(exc),
                )
            return
        for report in reports:
            if not report.outcome.success:
                context.log.warning(
                    "%s failed; Data Docs: %s", report.outcome.suite, report.data_docs
                )
            yield rejected_files_result(report, keys[report.feed.name])

    return _checks


def build_feed_checks(feeds: list[Feed]) -> dg.AssetChecksDefinition:
    """Every feed's ``contract`` and ``volume`` checks in one step: one GX context, Data
    Docs rendered once (nine steps cost more in step overhead and Data Docs rebuilds than
    the validations).  ``can_subset``: a partial run selects only the feeds it loaded; a
    failing contract still blocks only what is downstream of its own feed."""
    keys = {feed.name: dg.AssetKey(["raw", feed.name]) for feed in feeds}
    specs = []
    for feed in feeds:
        specs += [
            dg.AssetCheckSpec(
                CONTRACT,
                asset=keys[feed.name],
                blocking=True,
                description=f"GX suite feed.{feed.name}: the feed contract over the loads"
                " new since the last passing check (natural key over all current rows).",
            ),
            dg.AssetCheckSpec(
                VOLUME,
                asset=keys[feed.name],
                blocking=False,
                description=f"GX suite feed.{feed.name}.volume: rows per fiscal quarter"
                " within the tolerance of the same months last year (warning only).",
            ),
        ]

    @dg.multi_asset_check(
        name="feed_expectations",
        specs=specs,
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Great Expectations suites of the raw feed tables.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
        from expectations.runner import GxRun

        selected = context.selected_asset_check_keys
        chosen = [f for f in feeds if any(k.asset_key == keys[f.name] for k in selected)]
        settings = warehouse.settings()
        gx_run = GxRun(settings.warehouse, context.run.run_id[:8])
        reports = [
            validate_feed(settings, feed, gx_run.run_id.run_name, gx_run=gx_run) for feed in chosen
        ]
        gx_run.finish()  # Data Docs once; sets each outcome's docs_url
        for report in reports:
            asset_key = keys[report.feed.name]
            for outcome in [*report.contract, report.volume]:
                if not outcome.success:
                    context.log.warning(
                        "%s failed; Data Docs: %s",
                        outcome.suite,
                        outcome.docs_url or report.data_docs,
                    )
            if dg.AssetCheckKey(asset_key, CONTRACT) in selected:
                yield contract_result(report, asset_key)
            if dg.AssetCheckKey(asset_key, VOLUME) in selected:
                yield volume_result(report, asset_key)

    return _checks


def listing_metadata(result: MartResult) -> tuple[dict[str, dg.MetadataValue], str | None]:
    """Every row of a listing suite's frame as a markdown table, and a one-line summary."""
    import pandas as pd

    listing = result.spec.listing
    if listing is None:
        return {}, None
    frame = result.frame
    if result.outcome.success and not listing.always:
        return {f"{listing.key}_count": dg.MetadataValue.int(len(frame))}, None
    shown = frame.head(listing.limit)[[c for c, _ in listing.columns]]
    rows = [[None if pd.isna(v) else v for v in row] for row in shown.itertuples(index=False)]
    table = md_table([header for _, header in listing.columns], rows)
    if len(frame) > listing.limit:
        table += f"\n\n({len(frame) - listing.limit} more rows not shown)"
    summary = f"{len(frame)} {listing.noun}"
    if listing.count_by and len(frame):
        counts = sorted(frame[listing.count_by].value_counts().items(), key=lambda c: (-c[1], c[0]))
        words = listing.count_label or str
        summary += " (" + ", ".join(f"{n} {words(value)}" for value, n in counts) + ")"
    summary += f", listed in `{listing.key}`"
    metadata: dict[str, dg.MetadataValue] = {
        f"{listing.key}_count": dg.MetadataValue.int(len(frame))
    }
    if len(frame):
        metadata[listing.key] = dg.MetadataValue.md(table)
    if listing.rollup_by and len(frame):
        column, header = listing.rollup_by
        metadata[f"{listing.key}_by_{column}"] = dg.MetadataValue.md(rollup_table(frame, listing))
    return metadata, summary


def rollup_table(frame, listing) -> str:
    """Rows per value of ``listing.rollup_by`` (e.g. per owning agency), split by ``count_by``."""
    column, header = listing.rollup_by
    by = listing.count_by
    kinds = sorted(frame[by].dropna().unique()) if by else []
    rows = []
    for value, group in frame.fillna({column: "(none)"}).groupby(column, sort=True):
        counts = group[by].value_counts() if by else {}
        rows.append([value, len(group), *(int(counts.get(k, 0)) for k in kinds)])
    rows.sort(key=lambda r: (-r[1], str(r[0])))
    return md_table([header, "returns", *kinds], rows)


def mart_check_result(results: list[MartResult], warehouse) -> dg.AssetCheckResult:
    """One check over the suites of one mart: what failed, offending rows, listings."""
    blocking = results[0].spec.blocking
    failures = [f for r in results for f in r.outcome.failures]
    metadata: dict[str, dg.MetadataValue] = {
        "suites": dg.MetadataValue.text(", ".join(r.spec.suite for r in results)),
        "rows_checked": dg.MetadataValue.int(sum(r.outcome.rows for r in results)),
        "expectations_evaluated": dg.MetadataValue.int(sum(r.outcome.evaluated for r in results)),
        "expectations_failed": dg.MetadataValue.int(len(failures)),
        "data_docs": docs_link(data_docs_dir(warehouse) / "index.html"),
    }
    if failures:
        metadata["failed_expectations"] = dg.MetadataValue.md(failures_markdown(failures))
    samples = [
        table
        for r in results
        if (table := sample_markdown(r.outcome.failures, r.spec.index_columns))
    ]
    if samples:
        metadata["offending_rows"] = dg.MetadataValue.md("\n\n".join(samples))
    summaries = []
    for result in results:
        listed, summary = listing_metadata(result)
        metadata |= listed
        if summary:
            summaries.append(summary)
    pages = [r.outcome.docs_url for r in results if r.outcome.docs_url and not r.outcome.success]
    if pages:
        metadata["data_docs_failed_validation"] = docs_link(pages[0])
    # a listing says what failed by itself; other failures lead the description
    unlisted = [f for r in results if r.spec.listing is None for f in r.outcome.failures]
    parts = (
        [f"{len(unlisted)} expectation(s) failed: {unlisted[0].description}"] if unlisted else []
    )
    parts += summaries
    if not parts:
        parts = [f"all {sum(r.outcome.evaluated for r in results)} expectations hold"]
    description = "; ".join(parts)
    return dg.AssetCheckResult(
        passed=all(r.outcome.success for r in results),
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


def build_mart_check(specs: MartSuite | list[MartSuite]) -> dg.AssetChecksDefinition:
    """One asset check running the given suites (same asset key, check name, blocking)."""
    specs = [specs] if isinstance(specs, MartSuite) else list(specs)
    [(key, name)] = {(spec.asset_key, spec.check_name) for spec in specs}
    [blocking] = {spec.blocking for spec in specs}
    suites = ", ".join(spec.suite for spec in specs)
    description = next((s.description for s in specs if s.description), "")
    asset_key = dg.AssetKey(list(key))

    @dg.asset_check(
        asset=asset_key,
        name=name,
        blocking=blocking,
        pool=WAREHOUSE_POOL,
        description=description or f"GX suite(s) {suites} over {specs[0].table}.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
        settings = warehouse.settings()
        results = validate_marts(settings, specs, run_name=context.run.run_id[:8])
        for result in results:
            if not result.outcome.success:
                context.log.warning(
                    "%s failed; Data Docs: %s", result.spec.suite, result.outcome.docs_url
                )
        return mart_check_result(results, settings.warehouse)

    return _check


feed_checks = [build_feed_checks(list(FEEDS.values()))]
rejected_files_checks = [build_rejected_files_checks(list(FEEDS.values()))]
mart_checks = [build_mart_check(specs) for specs in mart_check_groups().values()]
asset_checks = [*feed_checks, *rejected_files_checks, *mart_checks]
