"""One Dagster asset per agency feed: its ``raw.<feed>`` table, loaded from the landing folder.

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

import dagster as dg

from ingest.config import DEMO_KEY_WARNING
from ingest.feeds import FEEDS, Feed
from ingest.loader import FileResult, connect, ingest_feed, record_unowned
from orchestration.resources import WAREHOUSE_POOL, WarehouseSettings

GROUP = "ingest"


def summarise(results: list[FileResult]) -> dict[str, dg.MetadataValue]:
    """Asset metadata for one ingest run: counts per status and the rejected files."""
    by_status: dict[str, int] = {}
    for result in results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    rejected = [r for r in results if r.status == "rejected"]
    metadata: dict[str, dg.MetadataValue] = {
        "files_seen": dg.MetadataValue.int(len(results)),
        "files_loaded": dg.MetadataValue.int(by_status.get("loaded", 0)),
        "files_duplicate": dg.MetadataValue.int(by_status.get("duplicate", 0)),
        "files_unchanged": dg.MetadataValue.int(by_status.get("unchanged", 0)),
        "files_rejected": dg.MetadataValue.int(len(rejected)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
    }
    if rejected:
        metadata["rejected"] = dg.MetadataValue.md(
            "\n".join(f"- `{r.file_name}`: {r.error}" for r in rejected)
        )
    return metadata


def _table_metadata(con, table: str) -> dict[str, dg.MetadataValue]:
    rows, loads = con.execute(
        f"""
        select count(*), count(distinct _load_id)
        from {table} where _load_id in (select load_id from raw.load_log where status = 'loaded')
        """
    ).fetchone()
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "current_loads": dg.MetadataValue.int(loads),
    }


def _has_personal_columns(feed: Feed) -> bool:
    return any(col.kind == "personal" for col in feed.columns)


def build_feed_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", feed.name],
        group_name=GROUP,
        kinds={"duckdb", "python"},
        description=f"{feed.title}: `{feed.table}`, loaded from landing/{feed.name}/.",
        owners=[],
        pool=WAREHOUSE_POOL,
        metadata={"owner_agency": feed.owner, "landing_folder": feed.name},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseSettings):
        settings = warehouse.settings()
        if settings.uses_demo_key and not settings.is_sample and _has_personal_columns(feed):
            context.log.warning(DEMO_KEY_WARNING)
        con = connect(settings)
        try:
            results = ingest_feed(con, settings, feed.name)
            metadata = summarise(results) | _table_metadata(con, feed.table)
        finally:
            con.close()
        for result in results:
            if result.status == "rejected":
                context.log.error(result.error)
        return dg.MaterializeResult(metadata=metadata)

    return _asset


feed_assets = [build_feed_asset(feed) for feed in FEEDS.values()]


@dg.asset(
    key=["raw", "load_log"],
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="Ledger of every file seen in the landing folder (`raw.load_log`); also"
    " records files in folders no feed owns.",
)
def load_log(context: dg.AssetExecutionContext, warehouse: WarehouseSettings):
    settings = warehouse.settings()
    con = connect(settings)
    try:
        unowned = record_unowned(con, settings)
        for result in unowned:
            if result.status == "rejected":
                context.log.error(result.error)
        counts = dict(
            con.execute("select status, count(*) from raw.load_log group by status").fetchall()
        )
    finally:
        con.close()
    metadata = {f"files_{k}": dg.MetadataValue.int(v) for k, v in sorted(counts.items())}
    metadata["unowned_files_new"] = dg.MetadataValue.int(
        sum(1 for r in unowned if r.status == "rejected")
    )
    return dg.MaterializeResult(metadata=metadata)


ingest_assets = [*feed_assets, load_log]
