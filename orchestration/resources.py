"""The warehouse settings as a Dagster resource (read from the environment at run time).

In a run that writes the warehouse (tag ``csp/writer=warehouse``, see jobs.py) the
resource also guards the write, before the first step claims its pool slot: it takes
the warehouse's writer lock (orchestration/writer_lock.py; waits bounded, re-entrant
for ``make run``), recovers runs of this instance whose process is gone
(orchestration/recovery.py), waits (bounded) until no other process holds DuckDB's
lock on the file, and releases the writer lock when the run ends.
"""

from __future__ import annotations

import dagster as dg

from ingest.config import Settings

# every asset that writes the DuckDB file runs in this pool; dagster.yaml limits it to one
WAREHOUSE_POOL = "duckdb_warehouse"
# the tag of runs that write the warehouse (run queue limit in dagster.yaml, writer lock)
WRITER_TAG = ("csp/writer", "warehouse")


def is_writer_run(tags: dict[str, str] | None) -> bool:
    return bool(tags) and tags.get(WRITER_TAG[0]) == WRITER_TAG[1]


class WarehouseSettings(dg.ConfigurableResource):
    """Paths and options of one warehouse; unset fields come from CSP_* variables."""

    landing: str | None = None
    warehouse: str | None = None
    as_of: str | None = None
    area: str | None = None

    def settings(self) -> Settings:
        base = Settings.from_env()
        overrides = {
            "CSP_LANDING": self.landing or str(base.landing),
            "CSP_WAREHOUSE": self.warehouse or str(base.warehouse),
            "CSP_AS_OF": self.as_of or (base.as_of.isoformat() if base.as_of else ""),
            "CSP_AREA": self.area or base.area_code,
            "CSP_PSEUDONYM_KEY": base.pseudonym_key or "",
        }
        return Settings.from_env(overrides)

    def _writes(self, context: dg.InitResourceContext) -> bool:
        run = context.run
        return run is not None and is_writer_run(run.tags)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self._writes(context):
            return
        from ingest.warehouse_file import open_warehouse
        from orchestration import writer_lock
        from orchestration.recovery import recover_dead_runs

        warehouse = self.settings().warehouse
        writer_lock.acquire(
            warehouse,
            f"Dagster run of {context.run.job_name}",
            run=context.run.run_id,
        )
        try:
            if context.instance is not None:
                recover_dead_runs(context.instance, report=context.log.warning)
            if warehouse.exists():
                open_warehouse(warehouse).close()  # another process's DuckDB lock: wait
        except BaseException:
            writer_lock.release(warehouse)
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._writes(context):
            from orchestration import writer_lock

            writer_lock.release(self.settings().warehouse)
