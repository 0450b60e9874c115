"""Publish a report folder as one: every file of a build appears at once, or none does.

``reports/<yyyy-yy>-Q<n>`` is a symbolic link to a complete build folder,
``reports/.builds/<yyyy-yy>-Q<n>-<stamp>-<id>/``.  :func:`publish_folder` writes a new
build (the new files, plus hard links to the files of the current build it does not
replace: another area's report of the same quarter), renames it from ``….partial`` to its
final name once complete, and then swaps the link with one ``os.replace``.  A process
killed at any point leaves the previous link, hence the previous files, in place; the
left-over ``.partial`` folder is removed by a later publish of that quarter.  Old builds
are removed once the link has moved (a reader that already opened a file keeps reading
it).  The builds stay inside ``reports/`` so that a file share exporting that folder
follows the link (Samba refuses links leaving the share by default).

A quarter folder that is still a plain directory (written before links were used) is
moved into ``.builds/`` once, just before the first swap.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

BUILDS = ".builds"
PARTIAL = ".partial"
# a .partial build older than this is an interrupted publish (a report takes seconds)
STALE_PARTIAL_SECONDS = 3600


def _carry_over(current: Path, build: Path) -> None:
    """Hard-link (or copy) the current build's files that the new build did not write."""
    if not current.is_dir():
        return
    for source in current.iterdir():
        target = build / source.name
        if not source.is_file() or target.exists():
            continue
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _prune(builds: Path, name: str, keep: Path) -> None:
    now = time.time()
    for old in builds.glob(f"{name}-*"):
        if old == keep or not old.is_dir():
            continue
        if old.name.endswith(PARTIAL) and now - old.stat().st_mtime < STALE_PARTIAL_SECONDS:
            continue  # perhaps another run's publish in progress
        shutil.rmtree(old, ignore_errors=True)


def publish_folder(folder: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(build)`` on an empty build folder, then make ``folder`` point at it.

    Returns the build folder now published as ``folder``.
    """
    folder = Path(folder)
    builds = folder.parent / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    final = builds / f"{folder.name}-{stamp}-{uuid.uuid4().hex[:8]}"
    partial = final.with_name(final.name + PARTIAL)
    partial.mkdir()
    try:
        write(partial)
        _carry_over(folder, partial)
        os.rename(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    link = folder.with_name(f".{folder.name}.link-{uuid.uuid4().hex}")
    os.symlink(Path(BUILDS) / final.name, link, target_is_directory=True)
    try:
        if folder.is_dir() and not folder.is_symlink():  # written before links were used
            os.rename(folder, builds / f"{folder.name}-{stamp}-legacy-{uuid.uuid4().hex[:8]}")
        os.replace(link, folder)
    finally:
        link.unlink(missing_ok=True)
    _prune(builds, folder.name, keep=final)
    return final
