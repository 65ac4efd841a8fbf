"""The publish step: HTML, scraps and the run record; ``latest`` moves on success; the run row is completed.

A publish that cannot write the store (the endpoint gone, the disk full) still records the run:
its row is completed as failed with the store's error before the ``StoreError`` is raised, so no
run stays ``running`` with nobody to finish it; a later publish of the same run (an Airflow
retry) rewrites its files and completes the row again. ``latest`` moves only after the run's
files and record are stored, and the row is written last, retried while the database restarts.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import nbformat
from sqlalchemy.exc import InterfaceError, OperationalError

from nbreports.engines import ExecutionResult
from nbreports.errors import DatabaseError, StoreError
from nbreports.kernel.report import FILE as KERNEL_REPORT
from nbreports.kernel.report import checked_sections
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.render import render_html
from nbreports.runs.scraps import read_scraps, small_scraps
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.search.hooks import run_published
from nbreports.storage.store import Store

log = logging.getLogger(__name__)

DB_RETRY_S = (0.5, 1, 2, 4, 8)  # waits between tries of the row's last write while the database restarts


def publish(platform: Platform, plan: RunPlan, result: ExecutionResult) -> dict[str, Any]:
    """Render HTML, read scraps, write the run record, move ``latest`` on success, record the run.

    ``StoreError`` when the store cannot be read or written, after the run's row is recorded as
    failed with that error (``latest`` unmoved); publishing the same run again is safe.
    """
    try:
        if plan.cached_from:
            return _publish_cache_hit(platform, plan)
        return _publish(platform, plan, result)
    except StoreError as exc:
        _record_store_failure(platform, plan, result, exc)
        raise


def _publish(platform: Platform, plan: RunPlan, result: ExecutionResult) -> dict[str, Any]:
    store = platform.store
    ended = datetime.now(UTC)
    output_uri: str | None = store.uri(plan.key("output.ipynb"))
    try:
        nb = nbformat.reads(store.read_bytes(plan.key("output.ipynb")).decode("utf-8"), as_version=4)
    except StoreError:
        nb = nbformat.reads(store.read_bytes(plan.key("input.ipynb")).decode("utf-8"), as_version=4)
        output_uri = None
    scraps = read_scraps(nb)
    html_uri = store.write_bytes(
        plan.key("report.html"), render_html(nb, hide_code=plan.hide_code, title=plan.title).encode()
    )
    store.write_json(plan.key("scraps.json"), scraps)
    record = {
        **plan.to_dict(),
        "status": str(result.status),
        "ended_at": ended.isoformat(),
        "duration_s": _seconds_since(plan, ended),
        "execution_s": result.duration_s,
        "error": result.error,
        "error_type": result.error_type and str(result.error_type),
        "failed_cell": result.failed_cell,
        "output_uri": output_uri,
        "html_uri": html_uri,
        "run_uri": store.uri(plan.key("")),
        "scraps": small_scraps(scraps, platform.settings.scraps_xcom_limit),
    }
    metrics = _run_metrics(platform, plan)
    if metrics:
        record["metrics"] = metrics
    pod = result.extra.get("pod") or {}
    if pod:  # image digest, peak memory, exit code
        record["pod"] = pod
    record["peak_memory_bytes"] = pod.get("peak_memory_bytes") or result.extra.get("peak_memory_bytes")
    store.write_json(plan.key("run.json"), record)
    if result.status == RunStatus.SUCCESS:  # the run's files and record are all stored by now
        store.write_json(Store.latest_key(plan.report), record)
    _complete_row(
        platform,
        plan.run_id,
        status=result.status,
        ended_at=ended,
        duration_s=record["duration_s"],
        output_uri=output_uri,
        html_uri=html_uri,
        scraps=record["scraps"],
        error=result.error,
        failed_cell=result.failed_cell,
        failure_kind=result.error_type if result.status == RunStatus.FAILED else None,
        metrics=metrics or None,
        image_digest=pod.get("image_digest") or plan.image_digest,  # what the pod ran, else what prepare resolved
        peak_memory_bytes=record["peak_memory_bytes"],
    )
    run_published(platform.db, plan.report, plan.run_id, nb, scraps)  # the masked output: no secret is indexed
    return record


def _seconds_since(plan: RunPlan, ended: datetime) -> float:
    return round((ended - datetime.fromisoformat(plan.started_at)).total_seconds(), 3)


def _run_metrics(platform: Platform, plan: RunPlan) -> dict[str, Any]:
    """What the kernel reported in the run's ``kernel.json`` (query-cache counts, upstream runs read), checked.

    The kernel has no way to the platform database: this is where what it reports is recorded.
    """
    try:
        return checked_sections(platform.store.read_json(plan.key(KERNEL_REPORT)))
    except StoreError:
        return {}


def _publish_cache_hit(platform: Platform, plan: RunPlan) -> dict[str, Any]:
    """Record a cache hit: a run of its own whose outputs are those of the run it reuses."""
    store = platform.store
    source = store.read_json(Store.run_key(plan.report, plan.cached_from or "", "run.json"))
    ended = datetime.now(UTC)
    record = {
        **source,
        **plan.to_dict(),
        "status": str(RunStatus.SUCCESS),
        "ended_at": ended.isoformat(),
        "duration_s": _seconds_since(plan, ended),
        "execution_s": 0.0,
        "cache_hit_of": plan.cached_from,
        "run_uri": store.uri(plan.key("")),
    }
    store.write_json(plan.key("run.json"), record)
    store.write_json(Store.latest_key(plan.report), record)
    _complete_row(
        platform,
        plan.run_id,
        status=RunStatus.SUCCESS,
        ended_at=ended,
        duration_s=record["duration_s"],
        output_uri=record["output_uri"],
        html_uri=record["html_uri"],
        scraps=record["scraps"],
    )
    run_published(platform.db, plan.report, plan.run_id, None, {})  # found through the run it reuses
    return record


def _complete_row(platform: Platform, run_id: str, **fields: Any) -> None:
    """The run row's last write, tried again while the database is unreachable (a restart, a failover)."""
    for wait in (*DB_RETRY_S, None):
        try:
            platform.db.update_run(run_id, **fields)
            return
        except DatabaseError as exc:
            if wait is None or not isinstance(exc.__cause__, (OperationalError, InterfaceError)):
                raise  # given up, or not the connection (no such run, a bad value)
            log.warning("run %s not recorded yet (tried again in %ss): %s", run_id, wait, exc)
            time.sleep(wait)


def _record_store_failure(platform: Platform, plan: RunPlan, result: ExecutionResult, exc: StoreError) -> None:
    """Complete the row of a run whose publish could not use the store: failed, with the store's error."""
    kind = result.error_type if result.status == RunStatus.FAILED else FailureKind.STORE_ERROR
    error = f"publishing failed, the store could not be used: {exc}"
    if result.status == RunStatus.FAILED:  # the run's own failure comes first
        error = f"{result.error}; {error}"
    try:
        _complete_row(
            platform,
            plan.run_id,
            status=RunStatus.FAILED,
            ended_at=datetime.now(UTC),
            error=error,
            failure_kind=kind,
            failed_cell=result.failed_cell,
        )
    except DatabaseError as db_exc:  # the StoreError is what the caller sees; this is why the row still runs
        log.error("run %s could not be recorded as failed either: %s", plan.run_id, db_exc)
