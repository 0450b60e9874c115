"""Great Expectations suites as Dagster asset checks (GX 1.x called directly, not dagster-ge).

Every feed asset ``raw/<feed>`` gets two checks, computed by one check op:

``contract`` (blocking, ERROR)  suites ``feed.<feed>`` (types, allowed values, natural key,
    dates inside the delivered period) and ``feed.<feed>.ledger`` (no outstanding
    rejected file).  When it fails, nothing downstream of the feed is built in that run:
    the last good marts stay as they were.  The next good delivery makes it pass again.
``volume`` (WARN, not blocking)  suite ``feed.<feed>.volume``: rows per fiscal quarter
    against the same months last year, within ``CSP_VOLUME_TOLERANCE``.

Each run re-renders GX Data Docs into ``gx_data_docs/`` next to the warehouse file.
``feed_checks`` (and ``mart_checks``, for the suites in ``expectations/marts.py``) go into
``Definitions(asset_checks=...)``.  See docs/expectations.md.

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

import dagster as dg

from expectations.feed_suites import FeedReport, validate_feed
from expectations.marts import MART_SUITES, MartSuite, validate_mart
from expectations.runner import data_docs_dir, failures_markdown, sample_markdown
from ingest.feeds import FEEDS, Feed
from orchestration.resources import WAREHOUSE_POOL, WarehouseSettings

CONTRACT = "contract"
VOLUME = "volume"


def contract_result(report: FeedReport, asset_key: dg.AssetKey) -> dg.AssetCheckResult:
    failures = [f for outcome in report.contract for f in outcome.failures]
    metadata: dict[str, dg.MetadataValue] = {
        "suites": dg.MetadataValue.text(", ".join(o.suite for o in report.contract)),
        "rows_checked": dg.MetadataValue.int(report.rows),
        "current_loads": dg.MetadataValue.int(report.current_loads),
        "expectations_evaluated": dg.MetadataValue.int(sum(o.evaluated for o in report.contract)),
        "expectations_failed": dg.MetadataValue.int(len(failures)),
        "rejected_files_outstanding": dg.MetadataValue.int(len(report.outstanding)),
        "rejected_files_resolved": dg.MetadataValue.int(
            len(report.rejections) - len(report.outstanding)
        ),
        "data_docs": dg.MetadataValue.path(str(report.data_docs)),
    }
    if failed := report.failed_expectations_md():
        metadata["failed_expectations"] = dg.MetadataValue.md(failed)
    if rows := report.offending_rows_md():
        metadata["offending_rows"] = dg.MetadataValue.md(rows)
    if outstanding := report.outstanding_md():
        metadata["outstanding_rejected_files"] = dg.MetadataValue.md(outstanding)
    pages = [o.docs_url for o in report.contract if o.docs_url and not o.success]
    if pages:
        metadata["data_docs_failed_validation"] = dg.MetadataValue.url(pages[0])
    description = "contract holds"
    if report.outstanding:
        first = report.outstanding[0].delivery
        description = f"outstanding rejected file: {first.error or first.file_name}"
        if len(report.outstanding) > 1:
            description += f" (and {len(report.outstanding) - 1} more)"
    elif failures:
        description = f"{len(failures)} expectation(s) failed: {failures[0].description}"
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
        "data_docs": dg.MetadataValue.path(str(report.data_docs)),
    }
    if outside := report.volume_md(only_failing=True):
        metadata["quarters_outside_tolerance"] = dg.MetadataValue.md(outside)
    if recent := report.volume_md(only_failing=False):
        metadata["recent_quarters"] = dg.MetadataValue.md(recent)
    if report.volume.docs_url and not report.volume.success:
        metadata["data_docs_failed_validation"] = dg.MetadataValue.url(report.volume.docs_url)
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


def build_feed_checks(feed: Feed) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(["raw", feed.name])

    @dg.multi_asset_check(
        name=f"{feed.name}_expectations",
        specs=[
            dg.AssetCheckSpec(
                CONTRACT,
                asset=asset_key,
                blocking=True,
                description=f"GX suites feed.{feed.name} and feed.{feed.name}.ledger: the"
                " feed contract over current rows, and no outstanding rejected file.",
            ),
            dg.AssetCheckSpec(
                VOLUME,
                asset=asset_key,
                blocking=False,
                description=f"GX suite feed.{feed.name}.volume: rows per fiscal quarter"
                " within the tolerance of the same months last year (warning only).",
            ),
        ],
        pool=WAREHOUSE_POOL,
        description=f"Great Expectations suites of {feed.table}.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
        report = validate_feed(warehouse.settings(), feed, run_name=context.run.run_id[:8])
        for outcome in [*report.contract, report.volume]:
            if not outcome.success:
                context.log.warning(
                    "%s failed; Data Docs: %s", outcome.suite, outcome.docs_url or report.data_docs
                )
        yield contract_result(report, asset_key)
        yield volume_result(report, asset_key)

    return _checks


def build_mart_check(spec: MartSuite) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(spec.asset_key))

    @dg.asset_check(
        asset=asset_key,
        name=spec.check_name,
        blocking=spec.blocking,
        pool=WAREHOUSE_POOL,
        description=spec.description or f"GX suite {spec.suite} over {spec.table}.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
        settings = warehouse.settings()
        outcome = validate_mart(settings, spec, run_name=context.run.run_id[:8])
        metadata: dict[str, dg.MetadataValue] = {
            "suite": dg.MetadataValue.text(spec.suite),
            "rows_checked": dg.MetadataValue.int(outcome.rows),
            "expectations_evaluated": dg.MetadataValue.int(outcome.evaluated),
            "expectations_failed": dg.MetadataValue.int(len(outcome.failures)),
            "data_docs": dg.MetadataValue.path(
                str(data_docs_dir(settings.warehouse) / "index.html")
            ),
        }
        if outcome.failures:
            metadata["failed_expectations"] = dg.MetadataValue.md(
                failures_markdown(outcome.failures)
            )
        if rows := sample_markdown(outcome.failures, spec.index_columns):
            metadata["offending_rows"] = dg.MetadataValue.md(rows)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
            metadata=metadata,
        )

    return _check


feed_checks = [build_feed_checks(feed) for feed in FEEDS.values()]
mart_checks = [build_mart_check(spec) for spec in MART_SUITES]
asset_checks = [*feed_checks, *mart_checks]
