"""What a kernel reports about its run, kept in the run's own folder: ``runs/<report>/<run_id>/kernel.json``.

The kernel never reaches the platform database (the engines do not give it the URL): the helpers
it runs (the query cache's counts, the upstream runs it read) write their section of this one
file, and the publish step, outside the kernel, checks it and records it with the run
(``nbreports.runs.publish``). A notebook can only ever write its own run's file, and publish keeps
only the known sections and numbers, so nothing a notebook writes can rewrite another run's history.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from nbreports.errors import StoreError, UnsafePathError
from nbreports.identifiers import check_report_name, check_run_id
from nbreports.settings import get_settings
from nbreports.storage.store import Store, open_store

FILE = "kernel.json"
COUNTERS = ("hits", "misses", "expired", "corrupt", "bytes_read", "bytes_written", "uncached")  # the query cache's
MAX_UPSTREAM = 100


class KernelReport:
    """The sections of one run's ``kernel.json``; each ``put`` rewrites the whole (small) file."""

    def __init__(self, store: Store, report: str, run_id: str) -> None:
        self.store, self.key = store, Store.run_key(report, run_id, FILE)
        self._lock = threading.Lock()
        self.sections: dict[str, Any] = {}
        with contextlib.suppress(StoreError, TypeError, ValueError):  # a restarted kernel keeps what it had
            found = store.read_json(self.key)
            if isinstance(found, dict):
                self.sections = found

    def get(self, section: str) -> Any:
        """What ``section`` holds so far (None when nothing was reported)."""
        with self._lock:
            return self.sections.get(section)

    def put(self, section: str, value: Any) -> None:
        """Set ``section`` and write the file."""
        with self._lock:
            self.sections[section] = value
            snapshot = dict(self.sections)
            self.store.write_json(self.key, snapshot)


_current: KernelReport | None = None
_current_lock = threading.Lock()


def current_report() -> KernelReport | None:
    """This kernel's report, when the engine named the run (``NBREPORTS_REPORT`` and ``NBREPORTS_RUN_ID``)."""
    global _current
    settings = get_settings()
    if not (settings.report and settings.run_id):
        return None
    with _current_lock:
        if _current is None or _current.key != Store.run_key(settings.report, settings.run_id, FILE):
            store = open_store(settings.resolved_store_url, settings.store_options)
            _current = KernelReport(store, settings.report, settings.run_id)
        return _current


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else None


def _run_of(report: Any, run_id: Any) -> bool:
    try:
        check_report_name(report)
        check_run_id(run_id)
    except (UnsafePathError, TypeError):
        return False
    return True


def checked_sections(raw: Any) -> dict[str, Any]:
    """What publish records of a ``kernel.json``: the known sections, with well-formed values only.

    The kernel runs the notebook's code, so the file is untrusted input: anything else is dropped.
    """
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    cache = raw.get("query_cache")
    if isinstance(cache, dict):
        counts = {k: _count(cache.get(k)) for k in COUNTERS}
        out["query_cache"] = {k: v for k, v in counts.items() if v is not None}
    upstream = raw.get("upstream")
    if isinstance(upstream, dict):
        reads = [(k, v) for k, v in upstream.items() if _run_of(k, v)]
        out["upstream"] = dict(sorted(reads)[:MAX_UPSTREAM])
    return out
