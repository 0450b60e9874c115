"""What ``make run`` prints: quiet by default, everything with ``-v`` or ``CSP_LOG_LEVEL``.

Quiet (``CSP_LOG_LEVEL=INFO``, the default): our own progress (one line per feed, one
line per dbt layer with its counts), every warning and error, and the run summary.
Verbose (``-v`` or ``CSP_LOG_LEVEL=DEBUG``): also one line per file, every line dbt
prints, Dagster's own warnings and the Beta/Deprecation warnings of the libraries.
``CSP_LOG_LEVEL=WARNING`` leaves only warnings, errors and the summary.

Nothing is lost by being quiet: errors of any logger and dbt's warnings and errors
always show; Dagster's step failures reach the console through the run's console
logger (at ERROR when quiet); everything is in the Dagster event log and dbt's own
``dbt.log`` of the invocation.  These settings apply to ``make run`` only: the Dagster
UI and daemon keep every dbt line in the step's compute log.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

LEVELS = ("DEBUG", "INFO", "WARNING")
# ingest/loader.py's per-file progress line (its per-feed line stays): shown verbose only
PER_FILE_FORMAT = "[%s] %d/%d %s: %s%s"


class _Quiet(logging.Filter):
    """Drops detail records below WARNING: per-file progress and Dagster's own Python
    logging (a run's Dagster events reach the console through its console logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and not record.name.startswith("dagster"):
            return True
        if record.name.startswith("dagster"):
            return record.levelno >= logging.ERROR
        return record.msg != PER_FILE_FORMAT


class _Stderr(logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (not the one of the moment it was made)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def log_level(verbose: bool = False) -> str:
    """DEBUG with ``-v``, else ``CSP_LOG_LEVEL`` (DEBUG, INFO, WARNING; INFO by default)."""
    if verbose:
        return "DEBUG"
    level = (os.environ.get("CSP_LOG_LEVEL") or "INFO").strip().upper()
    if level not in LEVELS:
        raise SystemExit(f"CSP_LOG_LEVEL={level!r}: expected one of {', '.join(LEVELS)}")
    return level


def configure(level: str) -> dict:
    """Set up logging and warnings for ``make run``; returns the run config of the job
    (the level of Dagster's console logger)."""
    verbose = level == "DEBUG"
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    if not verbose:
        handler.addFilter(_Quiet())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(old)  # main() called again in one process
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("csp").setLevel(logging.DEBUG if verbose else level)
    # dbt's console lines (orchestration/dbt_assets.py): its info lines only when verbose
    logging.getLogger("csp.dbt.console").setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        _silence_library_warnings()
    return run_config(level)


def run_config(level: str = "INFO") -> dict:
    """The job's run config: Dagster's console logger at WARNING when verbose, else ERROR
    (its warnings, GX's failed suites among them, are in the run summary)."""
    console = "WARNING" if level == "DEBUG" else "ERROR"
    return {"loggers": {"console": {"config": {"log_level": console}}}}


def _silence_library_warnings() -> None:
    """Dagster's beta/preview/deprecation notices are for the developers, not for the
    person running the pipeline (``-v`` shows them)."""
    from dagster._utils.warnings import BetaWarning, PreviewWarning, SupersessionWarning

    for category in (BetaWarning, PreviewWarning, SupersessionWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
