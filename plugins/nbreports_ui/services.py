"""The platform (database + store) and the on-disk reports, as the API server sees them.

Built lazily on the first request, through the same hook the tasks use, so the UI reads exactly
the database and store the runs were written to (Airflow connection ``nbreports_db``, settings
from ``NBREPORTS_*``).
"""

from __future__ import annotations

import threading
import time
from functools import cache
from pathlib import Path

from nbreports.reports.catalog import Report, load_reports
from nbreports.runs.model import Platform
from nbreports.settings import get_settings

_DISK_TTL_S = 10.0


class _DiskReports:
    """The notebooks folder's reports, re-read in the background when older than ``_DISK_TTL_S``.

    A request never waits for a re-read of a folder it has already read (at 1,000 reports one
    takes ~0.2 s): it gets the last list while a thread reads the folder again. After a write
    (``forget``) the next request reads it at once, so the writer sees its own change.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded_at = 0.0
        self.reports: list[Report] = []
        self.by_name: dict[str, Report] = {}
        self.current = False  # False: never read, or forgotten after a write
        self.refreshing = False

    def _read(self) -> None:
        reports, _errors = load_reports(notebooks_dir(), platform().settings.derived_cache_dir)
        with self.lock:
            self.reports, self.by_name = reports, {r.name: r for r in reports}
            self.loaded_at, self.current, self.refreshing = time.monotonic(), True, False

    def _refresh_in_background(self) -> None:
        try:
            self._read()
        finally:
            with self.lock:
                self.refreshing = False

    def get(self) -> tuple[list[Report], dict[str, Report]]:
        with self.lock:
            current, stale = self.current, time.monotonic() - self.loaded_at > _DISK_TTL_S
            if current and stale and not self.refreshing:
                self.refreshing = True
                threading.Thread(target=self._refresh_in_background, name="nbreports-disk", daemon=True).start()
        if not current:
            self._read()
        with self.lock:
            return self.reports, self.by_name

    def forget(self) -> None:
        with self.lock:
            self.current = False


_disk = _DiskReports()


def notebooks_dir() -> Path:
    """Return the same folder the DAG files read (``nbreports.settings``)."""
    return get_settings().resolved_notebooks_dir


@cache
def platform() -> Platform:
    from operators.hooks import NbreportsHook

    return NbreportsHook().platform


def disk_reports() -> list[Report]:
    """Return the valid reports in the notebooks folder (re-read in the background every few seconds)."""
    return _disk.get()[0]


def forget_disk_reports() -> None:
    """Read the notebooks folder again on the next request (after a write changed a report)."""
    _disk.forget()


def disk_report(name: str) -> Report | None:
    """The report of that name in the notebooks folder, or None when its folder is not there (or invalid)."""
    return _disk.get()[1].get(name)
