"""Live, lost or superseded: the heartbeat of an executing run, and what records a run whose process died.

A run's row says ``running`` from prepare until publish. When the process, worker or pod running
it dies in between, nothing would ever finish the row. Three things close that gap:

* the execute step writes a heartbeat into the row (``heartbeat_at``, ``host``, ``pid``) every
  ``heartbeat_s`` (:class:`Heartbeat`);
* :func:`reconcile` records a running run as failed with ``FailureKind.LOST`` once whoever ran it
  is gone: its DAG run no longer runs (Airflow's word, asked by the maintenance DAG), or, for a run
  ``nbr`` started, its process on this host no longer exists (asked by ``nbr`` on start). Its
  partial output is published like any failed run's, and ``latest`` does not move;
* a retry of the same Airflow task supersedes the attempt its killed try left instead of writing
  a second run: an execute retry continues the same run (:func:`begin_attempt`; the earlier
  attempt's files are kept under ``attempts/<n>/``), a prepare retry records the earlier try's run
  as lost, superseded by the new one (:func:`supersede_earlier_tries`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.engines import ExecutionResult
from nbreports.errors import DatabaseError, StoreError
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.search.hooks import run_published
from nbreports.storage.store import Store
from nbreports.storage.tables import RunRow

log = logging.getLogger(__name__)

# The files of one attempt of a run, kept under attempts/<n>/ when a retry supersedes it.
ATTEMPT_FILES = ("output.ipynb", "execution.json", "report.html", "scraps.json", "run.json", "kernel.json")
DAG_RUN_ACTIVE = frozenset({"queued", "running"})  # Airflow's DagRunState values of a run still going

DagRunState = Callable[[str, str], str | None]  # (dag_id, dag_run_id) -> its state, None when unknown


def this_process() -> dict[str, Any]:
    """The ``host`` and ``pid`` written into the row of the run this process works on."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


class Heartbeat:
    """Writes ``heartbeat_at`` into a run's row every ``interval`` seconds while the ``with`` block runs.

    A heartbeat that cannot be written (the database restarting) is logged and tried again at the
    next beat: it never fails the run it watches.
    """

    def __init__(self, platform: Platform, run_id: str, interval: float | None = None) -> None:
        self.db = platform.db
        self.run_id = run_id
        self.interval = interval or platform.settings.heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"nbr-heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.db.update_run(self.run_id, heartbeat_at=datetime.now(UTC))
            except DatabaseError as exc:
                log.warning("heartbeat of run %s not written (tried again in %ss): %s", self.run_id, self.interval, exc)


@dataclass(frozen=True)
class LostRun:
    """A run :func:`reconcile` recorded as lost, and why."""

    report: str
    run_id: str
    reason: str


def lost_reason(row: RunRow, now: datetime, platform: Platform, dag_run_state: DagRunState | None) -> str | None:
    """Why a running run is lost, or None while it may still be alive.

    Airflow decides for a run of a DAG run: lost once that DAG run is over (or gone) and the run's
    heartbeat is older than two beats. An execute task waiting in a queue keeps no heartbeat, so a
    stale heartbeat alone never condemns a run whose DAG run still runs. A run without a DAG run
    (``nbr``) is lost when its process on this host is gone, or when it sent no heartbeat for
    ``lost_after_s`` on another host.
    """
    settings = platform.settings
    beat = _aware(row.heartbeat_at or row.started_at)
    silent = (now - beat).total_seconds()
    if row.dag_id and row.dag_run_id:
        if dag_run_state is None or silent < 2 * settings.heartbeat_s:
            return None
        state = dag_run_state(row.dag_id, row.dag_run_id)
        if state in DAG_RUN_ACTIVE:
            return None
        dag_run = f"its DAG run {row.dag_id}/{row.dag_run_id}"
        ended = f"{dag_run} is {state}" if state else f"{dag_run} no longer exists"
        return f"{ended} and the run sent no heartbeat for {silent:.0f}s{_where(row)}"
    if row.host == socket.gethostname() and row.pid and not _pid_alive(row.pid):
        return f"its process {row.pid} on {row.host} is gone (last heartbeat {silent:.0f}s ago)"
    if silent >= settings.lost_after_s:
        return f"the run sent no heartbeat for {silent:.0f}s{_where(row)}"
    return None


def reconcile(
    platform: Platform, *, dag_run_state: DagRunState | None = None, now: datetime | None = None
) -> list[LostRun]:
    """Record every running run whose process is gone as failed with ``FailureKind.LOST``.

    ``dag_run_state`` asks Airflow how a DAG run stands (the maintenance DAG passes it); without it
    only runs ``nbr`` started are judged. Idempotent: a run is recorded once, then it is no longer running.
    """
    now = now or datetime.now(UTC)
    lost = []
    for row in _running_rows(platform):
        reason = lost_reason(row, now, platform, dag_run_state)
        if reason:
            record_lost(platform, row, reason)
            lost.append(LostRun(row.report, row.run_id, reason))
    return lost


def record_lost(platform: Platform, row: RunRow, reason: str) -> dict[str, Any]:
    """Publish a lost run as failed, with its partial output (or its input) kept, and ``latest`` unmoved."""
    from nbreports.runs.publish import publish  # publish imports the liveness-free run model only

    plan = _plan_of(platform, row)
    result = ExecutionResult.failure(FailureKind.LOST, f"run lost: {reason}")
    if plan.cached_from or not platform.store.exists(plan.key("input.ipynb")):  # nothing of its own to publish
        plan.cached_from = None
        record = {**plan.to_dict(), "status": str(RunStatus.FAILED), "error": result.error, "error_type": "lost"}
        platform.store.write_json(plan.key("run.json"), record)
        ended = datetime.now(UTC)
        platform.db.update_run(
            row.run_id, status=RunStatus.FAILED, failure_kind=FailureKind.LOST, error=result.error, ended_at=ended
        )
        run_published(platform.db, row.report, row.run_id, None, {})  # found by its error
        return record
    return publish(platform, plan, result)


def begin_attempt(platform: Platform, plan: RunPlan, try_number: int) -> None:
    """Make this Airflow try the run's current attempt, keeping what an earlier attempt left.

    An earlier attempt's files are copied to ``attempts/<n>/`` first, so the retry overwrites
    nothing that is not kept; the row goes back to ``running`` for this try.
    """
    row = platform.db.run_row(plan.run_id)
    earlier = row.attempt if row else None
    if earlier is not None and earlier != try_number:
        _keep_attempt(platform.store, plan, earlier)
    platform.db.update_run(
        plan.run_id,
        status=RunStatus.RUNNING,
        attempt=try_number,
        failure_kind=None,
        error=None,
        failed_cell=None,
        ended_at=None,
        heartbeat_at=datetime.now(UTC),
        **this_process(),
    )


def supersede_earlier_tries(platform: Platform, report: str, airflow_task: str, run_id: str) -> list[str]:
    """Record as lost the runs an earlier try of the same Airflow task left running; their ids."""
    earlier = (RunRow.report == report, RunRow.airflow_task == airflow_task, RunRow.run_id != run_id)
    rows = _running_rows(platform, *earlier)
    for row in rows:
        record_lost(platform, row, f"superseded by run {run_id}, a retry of the Airflow task {airflow_task}")
    return [row.run_id for row in rows]


def _running_rows(platform: Platform, *where: Any) -> list[RunRow]:
    """The rows of the running runs (that match ``where``), detached from any session."""
    query = select(RunRow).where(RunRow.status == RunStatus.RUNNING, *where)
    try:
        with Session(platform.db.engine, expire_on_commit=False) as session:
            return list(session.scalars(query))
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not read the running runs: {exc}") from exc


def _keep_attempt(store: Store, plan: RunPlan, attempt: int) -> None:
    for name in ATTEMPT_FILES:
        key = plan.key(name)
        if store.exists(key):
            store.write_bytes(plan.key(f"attempts/{attempt}/{name}"), store.read_bytes(key))


def _plan_of(platform: Platform, row: RunRow) -> RunPlan:
    """The run's plan as prepare stored it (``plan.json``), else rebuilt from its row."""
    try:
        return RunPlan.from_dict(platform.store.read_json(Store.run_key(row.report, row.run_id, "plan.json")))
    except StoreError:
        return RunPlan(
            report=row.report,
            run_id=row.run_id,
            title=row.report,
            notebook_version=row.notebook_version,
            parameters=row.parameters,
            kernel=row.kernel or platform.settings.default_kernel,
            executor=row.executor,
            cell_timeout=0,
            run_timeout=0,
            hide_code=False,
            started_at=_aware(row.started_at).isoformat(),
            input_uri=row.input_uri or "",
            cache_key=row.cache_key,
            cached_from=None,
            profile=row.profile,
            image=row.image,
            dag_id=row.dag_id,
        )


def _aware(when: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _where(row: RunRow) -> str:
    return f" (last on {row.host}, process {row.pid})" if row.host else ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
