"""Helpers a notebook calls from inside its kernel (no Airflow needed).

The engine passes the store location to the kernel through ``NBREPORTS_*`` variables, so a
report can read another report's latest published results::

    from nbreports.kernel.upstream import latest_scraps
    sales = latest_scraps("sales_summary")
"""

from __future__ import annotations

from typing import Any

from nbreports.errors import StoreError
from nbreports.settings import get_settings
from nbreports.storage.store import Store, open_store


def _store() -> Store:
    settings = get_settings()
    return open_store(settings.resolved_store_url, settings.store_options)


def latest_run(report: str) -> dict[str, Any]:
    """The run record of the last successful run of ``report``."""
    try:
        record: dict[str, Any] = _store().read_json(Store.latest_key(report))
    except StoreError as exc:
        raise StoreError(f"report {report!r} has no successful run yet") from exc
    return record


def latest_scraps(report: str) -> dict[str, Any]:
    """All scraps of the last successful run of ``report``."""
    record = latest_run(report)
    executed = record.get("cache_hit_of") or record["run_id"]  # a cache hit's outputs are its source's
    scraps: dict[str, Any] = _store().read_json(Store.run_key(report, executed, "scraps.json"))
    return scraps
