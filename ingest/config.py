"""Settings from the environment (see README: Configuration)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

log = logging.getLogger("csp.config")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LANDING = PROJECT_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_AREA = "E06000004"  # Stockton-on-Tees
SAMPLE_AS_OF = date(2017, 5, 31)
SAMPLE_MARKER = ".csp-sample"
# a file modified less than this many seconds ago may still be being written: left for
# the next run (CSP_SETTLE_SECONDS)
DEFAULT_SETTLE_SECONDS = 120.0

# Documented demo key: it makes the sample data's hashes reproducible and must never
# protect real personal references.  The pipeline warns loudly when it meets real data.
DEMO_PSEUDONYM_KEY = "csp-demo-key-not-for-real-data"
DEMO_KEY_WARNING = (
    "CSP_PSEUDONYM_KEY is not set: personal references are being hashed with the PUBLIC"
    " DEMO KEY, which anyone with the code can reverse by guessing. Set CSP_PSEUDONYM_KEY"
    " to a secret before loading real data."
)

STRAY_MARKER_WARNING = (
    "{landing} holds a {marker} file but is not the default sample folder ({default}):"
    " the marker is IGNORED and the folder is treated as REAL DATA (today's as-of date;"
    " the demo key only if CSP_PSEUDONYM_KEY is unset). Delete the marker if these are"
    " real extracts; generate the sample with `make sample` into the default folder."
)


def _settle_from_env() -> float:
    return float(os.environ.get("CSP_SETTLE_SECONDS") or DEFAULT_SETTLE_SECONDS)


@dataclass(frozen=True)
class Settings:
    landing: Path = DEFAULT_LANDING
    warehouse: Path = DEFAULT_WAREHOUSE
    as_of: date | None = None
    area_code: str = DEFAULT_AREA
    pseudonym_key: str | None = None
    settle_seconds: float = field(default_factory=_settle_from_env)

    @property
    def has_sample_marker(self) -> bool:
        return (Path(self.landing) / SAMPLE_MARKER).exists()

    @property
    def is_sample(self) -> bool:
        """The sample marker counts only in the default sample folder: a real landing
        folder that inherited one must not run with the sample's as-of date and key."""
        return self.has_sample_marker and _same_folder(self.landing, DEFAULT_LANDING)

    @property
    def has_stray_sample_marker(self) -> bool:
        return self.has_sample_marker and not self.is_sample

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
        settle = env.get("CSP_SETTLE_SECONDS")
        return cls(
            landing=Path(env.get("CSP_LANDING") or DEFAULT_LANDING),
            warehouse=Path(env.get("CSP_WAREHOUSE") or DEFAULT_WAREHOUSE),
            as_of=date.fromisoformat(as_of) if as_of else None,
            area_code=env.get("CSP_AREA") or DEFAULT_AREA,
            pseudonym_key=env.get("CSP_PSEUDONYM_KEY") or None,
            # unset in ``environ``: the process environment, else the default
            **({"settle_seconds": float(settle)} if settle else {}),
        )


def _same_folder(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def warn_if_demo_key_on_real_data(settings: Settings) -> bool:
    """Log a loud warning when the demo key would hash non-sample data, and when a sample
    marker is found outside the default sample folder; True if it warned."""
    warned = False
    if settings.has_stray_sample_marker:
        log.warning(
            STRAY_MARKER_WARNING.format(
                landing=settings.landing, marker=SAMPLE_MARKER, default=DEFAULT_LANDING
            )
        )
        warned = True
    if settings.uses_demo_key and not settings.is_sample:
        banner = "!" * 78
        log.warning(
            "\n%s\n%s\nLanding folder: %s\n%s", banner, DEMO_KEY_WARNING, settings.landing, banner
        )
        warned = True
    return warned
