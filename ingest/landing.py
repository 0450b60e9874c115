"""What the landing folder offers: which files, under which name, and which wait.

* Hidden files (``.name``, Office's ``~$name``) are ignored.
* A symbolic link (file or folder) is never followed: it is reported and skipped, so a
  link to ``/etc/passwd`` is not read, hashed or loaded.
* A file modified less than ``CSP_SETTLE_SECONDS`` ago may still be being written: it
  is left for the next run and reported as pending (:func:`unsettled`).
* A file is shown — in the ledger, the raw tables, logs and messages — under its path
  relative to the landing folder with reference-shaped tokens masked and control
  characters escaped (:func:`display_name`, rules in ``ingest/redact.py``).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.config import Settings
from ingest.feeds import FEEDS
from ingest.redact import safe_name

log = logging.getLogger("csp.ingest")


@dataclass
class Scan:
    owned: dict[str, list[Path]]
    unowned: list[Path] = field(default_factory=list)
    links: list[Path] = field(default_factory=list)


def display_name(landing: Path, path: Path, key: str) -> str:
    """The name a landing file is known by everywhere (see the module docstring)."""
    try:
        relative = path.relative_to(landing).as_posix()
    except ValueError:
        relative = str(path)
    return safe_name(relative, key)


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


def scan(landing: Path) -> Scan:
    """Files per feed folder (oldest delivery first), files no feed owns, and links."""
    result = Scan({name: [] for name in FEEDS})
    if not landing.exists():
        return result
    found: list[Path] = []
    for folder, dirs, files in os.walk(landing, followlinks=False):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in [d for d in dirs if (here / d).is_symlink()]:
            result.links.append(here / name)
            dirs.remove(name)
        for name in sorted(files):
            path = here / name
            if _hidden(name):
                continue
            if path.is_symlink():
                result.links.append(path)
            elif path.is_file():
                found.append(path)
    for path in sorted(found):
        parts = path.relative_to(landing).parts
        if len(parts) > 1 and parts[0] in result.owned:
            result.owned[parts[0]].append(path)
        else:
            result.unowned.append(path)
    for paths in result.owned.values():
        # oldest delivery first, so that a correction supersedes what it corrects
        paths.sort(key=lambda p: (p.stat().st_mtime, p.name))
    return result


def discover(landing: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Files per feed folder, and files no feed owns (hidden files and links left out)."""
    found = scan(landing)
    return found.owned, found.unowned


def _age(path: Path, now: float) -> float:
    return now - path.stat().st_mtime


def split_settled(settings: Settings, paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(settled, still settling) by modification time against ``settle_seconds``."""
    now = time.time()
    settled, waiting = [], []
    for path in paths:
        (waiting if _age(path, now) < settings.settle_seconds else settled).append(path)
    return settled, waiting


def pending_message(settings: Settings, path: Path) -> str:
    age = max(0.0, _age(path, time.time()))
    return (
        f"{display_name(Path(settings.landing), path, settings.effective_key)}: modified"
        f" {age:.0f}s ago, less than CSP_SETTLE_SECONDS={settings.settle_seconds:g}: it may"
        " still be being written; left for the next run"
    )


def link_message(settings: Settings, path: Path) -> str:
    return (
        f"{display_name(Path(settings.landing), path, settings.effective_key)}: a symbolic"
        " link, not followed and not loaded; copy the file itself into the landing folder"
    )


def settled_only(settings: Settings, paths: list[Path]) -> list[Path]:
    """The settled ``paths``; each one left waiting is logged at WARNING."""
    settled, waiting = split_settled(settings, paths)
    for path in waiting:
        log.warning("pending: %s", pending_message(settings, path))
    return settled


def held_back(settings: Settings) -> list[str]:
    """Why each landing file that this run does not load was left: still settling, or a
    symbolic link. For the run summary (``orchestration/run.py``)."""
    found = scan(Path(settings.landing))
    files = [p for paths in found.owned.values() for p in paths] + found.unowned
    waiting = split_settled(settings, files)[1]
    return [f"pending: {pending_message(settings, p)}" for p in waiting] + [
        f"skipped: {link_message(settings, p)}" for p in found.links
    ]


def unsettled_files(settings: Settings) -> list[str]:
    """Display names of the landing files still settling (left for the next run)."""
    found = scan(Path(settings.landing))
    files = [p for paths in found.owned.values() for p in paths] + found.unowned
    landing = Path(settings.landing)
    return [
        display_name(landing, p, settings.effective_key) for p in split_settled(settings, files)[1]
    ]
