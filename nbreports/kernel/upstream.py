"""Helpers a notebook calls from inside its kernel (no Airflow needed): another report's results.

The engine passes the store location to the kernel through ``NBREPORTS_*`` variables, so a
report can read another report's published results::

    from nbreports.kernel.upstream import upstream_run, upstream_scraps
    sales = upstream_scraps("sales_summary")

Which run is read: when this run was triggered by the upstream's Asset event, the run that event
named (prepare records it: ``RunPlan.upstream_runs``), so two quick upstream runs never mix; the
upstream's latest successful run only for a manual run, an upstream no event named, or Jupyter.
The kernel learns the triggering runs from ``NBREPORTS_UPSTREAM_RUNS`` (JSON: report → run id) when
the engine sets it, else from its own run's input notebook (``metadata.nbreports.upstream_runs``).
Within a run, the first read of an upstream fixes its run for the kernel's other reads, so
``upstream_run`` and ``upstream_scraps`` always describe the same run. ``latest_run`` and
``latest_scraps`` are the names notebooks already use: the same functions.

Only what the reading report's team may view: ``AccessDenied`` names both reports otherwise (who
the reader is, in a run and in Jupyter, is ``nbreports.access.kernel``'s to say). In a run, the
upstream runs read are noted in the run's ``kernel.json`` (``upstream``: report → run id).
"""

from __future__ import annotations

import json
import os
import threading
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
from nbreports.errors import ConfigError, NbreportsError, StoreError
from nbreports.identifiers import check_report_name, check_run_id
from nbreports.kernel.report import current_report
from nbreports.reports.spec import SPEC_FILE
from nbreports.settings import get_settings
from nbreports.storage.store import Store, open_store


def _store() -> Store:
    settings = get_settings()
    return open_store(settings.resolved_store_url, settings.store_options)


def _report_folder() -> Path | None:
    """The report folder the kernel runs in, if it is one.

    Jupyter starts kernels there; a run's kernel works in its bundle's copy and is told the worker's
    notebooks folder as ``NBREPORTS_NOTEBOOKS_DIR``.
    """
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


UPSTREAM_ENV = "NBREPORTS_UPSTREAM_RUNS"
_lock = threading.Lock()
_triggers: dict[tuple[str, str], dict[str, str]] = {}  # (report, run id) -> its upstream runs, read once
_pinned: dict[tuple[str, str, str], dict[str, Any]] = {}  # (report, run id, upstream) -> the record read


def decode_upstream_runs(value: str, source: str = UPSTREAM_ENV) -> dict[str, str]:
    """``{"report": "run id"}`` JSON back as a dict, every name checked; ``ConfigError`` naming ``source``."""
    try:
        runs = json.loads(value) if value else {}
    except ValueError as exc:
        raise ConfigError(f"{source} is not JSON: {exc}") from exc
    if not isinstance(runs, dict) or not all(isinstance(v, str) for v in runs.values()):
        raise ConfigError(f"{source} must be a JSON object of report name -> run id")
    try:
        return {check_report_name(str(k)): check_run_id(v) for k, v in runs.items()}
    except NbreportsError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


def _from_input(report: str, run_id: str) -> dict[str, str]:
    """The upstream runs prepare wrote into this run's input notebook (``metadata.nbreports``)."""
    key = Store.run_key(report, run_id, "input.ipynb")
    try:
        provenance = json.loads(_store().read_bytes(key)).get("metadata", {}).get("nbreports", {})
    except (StoreError, ValueError, AttributeError):
        return {}  # no input notebook to ask (e.g. a kernel started by hand with a run's variables)
    return decode_upstream_runs(json.dumps(provenance.get("upstream_runs") or {}), f"{key} metadata.nbreports")


def triggering_runs() -> dict[str, str]:
    """Upstream report → the run whose Asset event triggered this run; empty for a manual run or Jupyter."""
    if (raw := os.environ.get(UPSTREAM_ENV)) is not None:
        return decode_upstream_runs(raw)
    settings = get_settings()
    if not (settings.report and settings.run_id):
        return {}
    me = (settings.report, settings.run_id)
    with _lock:
        if me not in _triggers:
            _triggers[me] = _from_input(*me)
        return _triggers[me]


def _record_of(report: str, run_id: str) -> dict[str, Any]:
    """The run record of ``run_id`` of ``report``: a successful run of that report, or an error saying why not."""
    try:
        record: dict[str, Any] = _store().read_json(Store.run_key(report, run_id, "run.json"))
    except StoreError as exc:
        raise StoreError(f"run {run_id} of report {report!r}, which triggered this run, has no run record") from exc
    if record.get("report") != report or record.get("run_id") != run_id or record.get("status") != "success":
        raise StoreError(f"run {run_id} of report {report!r}, which triggered this run, is not a successful run")
    return record


def upstream_run(report: str) -> dict[str, Any]:
    """The run record of ``report``'s run this run reads: the one that triggered it, else the latest successful."""
    check_may_read(report)
    settings = get_settings()
    pin = (settings.report, settings.run_id, report) if settings.report and settings.run_id else None
    with _lock:
        if pin in _pinned:
            return _pinned[pin]
    if (run_id := triggering_runs().get(report)) is not None:
        record = _record_of(report, run_id)
    else:
        try:
            record = _store().read_json(Store.latest_key(report))
        except StoreError as exc:
            raise StoreError(f"report {report!r} has no successful run yet") from exc
    if pin is not None:
        with _lock:
            record = _pinned.setdefault(pin, record)
    return record


def upstream_scraps(report: str) -> dict[str, Any]:
    """All scraps of ``report``'s run this run reads (``upstream_run``)."""
    record = upstream_run(report)
    executed = record.get("cache_hit_of") or record["run_id"]  # a cache hit's outputs are its source's
    scraps: dict[str, Any] = _store().read_json(Store.run_key(report, executed, "scraps.json"))
    _note_read(report, str(record["run_id"]))
    return scraps


latest_run = upstream_run  # the names notebooks already import: they follow the triggering run too
latest_scraps = upstream_scraps


def _note_read(report: str, run_id: str) -> None:
    kernel = current_report()
    if kernel is not None:
        kernel.put("upstream", {**(kernel.get("upstream") or {}), report: run_id})
