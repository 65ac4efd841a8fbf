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
_lock = threading.Lock()
_disk: tuple[float, list[Report]] = (0.0, [])


def notebooks_dir() -> Path:
    """Return the same folder the DAG files read (``nbreports.settings``)."""
    return get_settings().resolved_notebooks_dir


@cache
def platform() -> Platform:
    from operators.hooks import NbreportsHook

    return NbreportsHook().platform


def disk_reports() -> list[Report]:
    """Return the valid reports in the notebooks folder, re-read at most every few seconds (parsing is cached)."""
    global _disk
    with _lock:
        loaded_at, reports = _disk
        if time.monotonic() - loaded_at > _DISK_TTL_S:
            settings = platform().settings
            reports, _errors = load_reports(notebooks_dir(), settings.derived_cache_dir)
            _disk = (time.monotonic(), reports)
        return reports


def forget_disk_reports() -> None:
    """Read the notebooks folder again on the next request (after a write changed a report)."""
    global _disk
    with _lock:
        _disk = (0.0, [])


def disk_report(name: str) -> Report | None:
    """The report of that name in the notebooks folder, or None when its folder is not there (or invalid)."""
    return next((r for r in disk_reports() if r.name == name), None)
