"""The warehouse settings as a Dagster resource (read from the environment at run time)."""

from __future__ import annotations

import dagster as dg

from ingest.config import Settings

# every asset that writes the DuckDB file runs in this pool; dagster.yaml limits it to one
WAREHOUSE_POOL = "duckdb_warehouse"


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
