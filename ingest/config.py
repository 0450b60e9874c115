"""Settings from the environment (see README: Configuration)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LANDING = PROJECT_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_AREA = "E06000004"  # Stockton-on-Tees
SAMPLE_AS_OF = date(2017, 5, 31)
SAMPLE_MARKER = ".csp-sample"

# Documented demo key: it makes the sample data's hashes reproducible and must never
# protect real personal references.  The pipeline warns loudly when it meets real data.
DEMO_PSEUDONYM_KEY = "csp-demo-key-not-for-real-data"
DEMO_KEY_WARNING = (
    "CSP_PSEUDONYM_KEY is not set: personal references are being hashed with the PUBLIC"
    " DEMO KEY, which anyone with the code can reverse by guessing. Set CSP_PSEUDONYM_KEY"
    " to a secret before loading real data."
)


@dataclass(frozen=True)
class Settings:
    landing: Path = DEFAULT_LANDING
    warehouse: Path = DEFAULT_WAREHOUSE
    as_of: date | None = None
    area_code: str = DEFAULT_AREA
    pseudonym_key: str | None = None

    @property
    def is_sample(self) -> bool:
        return (Path(self.landing) / SAMPLE_MARKER).exists()

    @property
    def effective_as_of(self) -> date:
        if self.as_of is not None:
            return self.as_of
        return SAMPLE_AS_OF if self.is_sample else date.today()

    @property
    def effective_key(self) -> str:
        return self.pseudonym_key or DEMO_PSEUDONYM_KEY

    @property
    def uses_demo_key(self) -> bool:
        return self.effective_key == DEMO_PSEUDONYM_KEY

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        as_of = env.get("CSP_AS_OF") or None
        return cls(
            landing=Path(env.get("CSP_LANDING") or DEFAULT_LANDING),
            warehouse=Path(env.get("CSP_WAREHOUSE") or DEFAULT_WAREHOUSE),
            as_of=date.fromisoformat(as_of) if as_of else None,
            area_code=env.get("CSP_AREA") or DEFAULT_AREA,
            pseudonym_key=env.get("CSP_PSEUDONYM_KEY") or None,
        )


def warn_if_demo_key_on_real_data(settings: Settings) -> bool:
    """Log a loud warning when the demo key would hash non-sample data; True if it did."""
    if settings.uses_demo_key and not settings.is_sample:
        banner = "!" * 78
        log.warning(
            "\n%s\n%s\nLanding folder: %s\n%s", banner, DEMO_KEY_WARNING, settings.landing, banner
        )
        return True
    return False
