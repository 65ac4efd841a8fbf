"""Helpers a notebook calls from inside its kernel (no Airflow needed): other reports' latest results.

The engine passes the store location to the kernel through ``NBREPORTS_*`` variables, so a
report can read another report's latest published results::

    from nbreports.kernel.upstream import latest_scraps
    sales = latest_scraps("sales_summary")

Only what the reading report's team may view: ``AccessDenied`` names both reports otherwise (who
the reader is, in a run and in Jupyter, is ``nbreports.access.kernel``'s to say). In a run, the
upstream runs read are noted in the run's ``kernel.json`` (``upstream``: report → run id).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbreports.access.kernel import (
    READABLE_ENV,
    check_listed,
    check_read,
    decode_readable,
    reading_report,
    report_principal,
)
from nbreports.errors import StoreError
from nbreports.identifiers import check_report_name
from nbreports.kernel.report import current_report
from nbreports.reports.spec import SPEC_FILE
from nbreports.settings import get_settings
from nbreports.storage.store import Store, open_store


def _store() -> Store:
    settings = get_settings()
    return open_store(settings.resolved_store_url, settings.store_options)


def _report_folder() -> Path | None:
    """The report folder the kernel runs in (engines and Jupyter start kernels there), if it is one."""
    cwd = Path.cwd()
    return cwd if (cwd / SPEC_FILE).is_file() else None


def _notebooks_dir(folder: Path | None) -> Path:
    settings = get_settings()
    if settings.notebooks_dir is None and folder is not None:
        return folder.parent
    return settings.resolved_notebooks_dir


def check_may_read(upstream: str) -> None:
    """Raise ``AccessDenied`` unless this kernel's report (its team) may view ``upstream``."""
    check_report_name(upstream)
    settings = get_settings()
    readable = os.environ.get(READABLE_ENV)
    if settings.report and readable is not None:  # a pod: the worker decided from the catalog
        check_listed(settings.report, upstream, decode_readable(readable))
        return
    from nbreports.access.teams import load_teams, teams_path
    from nbreports.reports.catalog import find_report

    folder = _report_folder()
    notebooks = _notebooks_dir(folder)
    teams = load_teams(teams_path(notebooks))
    reader = reading_report(settings.report, folder.name if folder else None)
    check_read(report_principal(reader, teams) if reader else None, find_report(notebooks, upstream).rules)


def latest_run(report: str) -> dict[str, Any]:
    """The run record of the last successful run of ``report``."""
    check_may_read(report)
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
    _note_read(report, str(record["run_id"]))
    return scraps


def _note_read(report: str, run_id: str) -> None:
    kernel = current_report()
    if kernel is not None:
        kernel.put("upstream", {**(kernel.get("upstream") or {}), report: run_id})
