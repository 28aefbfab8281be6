"""Replace a results folder whole, so that an interrupted report loses nothing.

The report is written into a staging folder beside the target (``results.partial-<pid>``, on
the same filesystem) and swapped in at the end: the old folder is renamed aside
(``results.old-<pid>``), the staging folder renamed into place, the old one removed. A run
killed before the swap leaves the previous folder as it was; the next run removes the
folders of runs that are no longer alive (and puts a folder set aside back in place if a run
died between the two renames).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

STAGING = "partial"
ASIDE = "old"


def staging_dir(target: Path, pid: int | None = None) -> Path:
    """The staging folder of ``target`` for process ``pid`` (default: this process)."""
    return target.with_name(f"{target.name}.{STAGING}-{pid or os.getpid()}")


def _aside_dir(target: Path) -> Path:
    return target.with_name(f"{target.name}.{ASIDE}-{os.getpid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def leftovers(target: Path) -> list[Path]:
    """Staging and set-aside folders of ``target`` whose process has ended (or is this one)."""
    found = []
    for path in sorted(target.parent.glob(f"{target.name}.*-*")):
        kind, _, pid = path.name[len(target.name) + 1:].rpartition("-")
        if path.is_dir() and kind in (STAGING, ASIDE) and pid.isdigit() \
                and (int(pid) == os.getpid() or not _alive(int(pid))):
            found.append(path)
    return found


def clean_stale(target: Path) -> list[Path]:
    """Remove the leftovers of interrupted runs; returns what was removed. A set-aside folder
    whose target is missing (a run killed between the two renames) is put back instead."""
    removed = []
    for path in leftovers(target):
        if path.name.startswith(f"{target.name}.{ASIDE}-") and not target.exists():
            path.rename(target)
            continue
        shutil.rmtree(path)
        removed.append(path)
    return removed


def begin(target: Path) -> Path:
    """Clean up after interrupted runs and return a new, empty staging folder for ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    staging = staging_dir(target)
    staging.mkdir()
    return staging


def carry(target: Path, staging: Path, keep: tuple[str, ...]) -> list[str]:
    """Copy the files named in ``keep`` (paths relative to ``target``, written by other
    programs) from ``target`` into ``staging`` unless the report wrote them; returns those copied."""
    copied = []
    for name in keep:
        source, dest = target / name, staging / name
        if source.is_file() and not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
            copied.append(name)
    return copied


def swap(staging: Path, target: Path) -> Path:
    """Put ``staging`` in place of ``target`` (two renames); the previous folder is removed."""
    aside = _aside_dir(target)
    if target.exists():
        os.rename(target, aside)
    os.rename(staging, target)
    shutil.rmtree(aside, ignore_errors=True)
    return target


def discard(staging: Path) -> None:
    """Remove a staging folder (a failed or interrupted report)."""
    shutil.rmtree(staging, ignore_errors=True)
