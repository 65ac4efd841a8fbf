"""Faults of Airflow's task processes, on real servers: the execute task SIGKILLed mid-run, with and without a retry.

The module's ``airflow_servers`` are those of ``tests/integration/servers.py`` (api-server,
scheduler, dag-processor, triggerer on FAB + LDAP, LocalExecutor, PostgreSQL), started once for
the module through its ``running_airflow``, with two fault reports as their notebooks folder
(``fault_retry`` with ``retries: 1``, ``fault_noretry`` without). The process to kill is the one
the run's row names (``host``, ``pid``: written by the execute step, ``runs/liveness.begin_attempt``).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nbreports.runs.liveness import reconcile
from nbreports.runs.model import Platform
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store, open_store
from nbreports.storage.tables import RunRow
from tests.conftest import create_pg_database, drop_pg_database
from tests.faults.checks import (
    assert_latest_intact,
    assert_no_partial_files,
    assert_nothing_lost,
    assert_recorded,
    snapshot,
)
from tests.faults.reports import make_fault_report, pid_alive, read_mark, wait_for
from tests.integration.ldap_server import LdapServer
from tests.integration.servers import AirflowServers, running_airflow, servers_env

REPORTS = {"fault_retry": {"retries": 1, "retry_delay": 0}, "fault_noretry": {}}


@pytest.fixture(scope="module")
def airflow_servers(
    airflow_home: dict[str, str],  # the session's (tests/conftest.py), shared with tests/integration
    ldap_server: LdapServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AirflowServers]:
    """The servers of ``tests/integration/servers.py`` on the fault reports, with a platform database of their own."""
    folder = tmp_path_factory.mktemp("fault-servers")
    platform_url = create_pg_database("nbr_fault_servers")
    notebooks = folder / "notebooks"
    for name, spec in REPORTS.items():
        make_fault_report(notebooks, name, **spec)
    env = servers_env(airflow_home, ldap_server, folder, notebooks, platform_url)
    PlatformDB(platform_url).engine.dispose()  # migrated before the tasks race to do it
    try:
        with running_airflow(env, folder) as servers:
            servers.wait_for_dags(REPORTS)
            yield servers
    finally:
        PlatformDB(platform_url).engine.dispose()
        drop_pg_database(platform_url)
        shutil.rmtree(folder / "marks", ignore_errors=True)


@pytest.fixture(scope="module")
def platform(airflow_servers: AirflowServers) -> Platform:
    """The servers' store and platform database, as the test reads them."""
    store = open_store(str(airflow_servers.store_dir))
    return Platform.from_settings(store=store, database_url=airflow_servers.platform_db_url)


def row_of_dag_run(platform: Platform, dag_run_id: str) -> RunRow | None:
    """The one run a DAG run wrote (several would be a bug: a retry must not write a second run)."""
    with Session(platform.db.engine, expire_on_commit=False) as session:
        rows = list(session.scalars(select(RunRow).where(RunRow.dag_run_id == dag_run_id)))
    assert len(rows) <= 1, f"DAG run {dag_run_id} wrote {len(rows)} runs: {[r.run_id for r in rows]}"
    return rows[0] if rows else None


def kill_mid_execute(servers: AirflowServers, platform: Platform, report: str) -> dict[str, Any]:
    """Trigger ``report``, wait until its slow cell runs, SIGKILL the execute task's process; what was killed."""
    mark = servers.folder / "marks" / report
    mark.parent.mkdir(exist_ok=True)
    resp = servers.trigger(report, {"mark": str(mark), "hold": 120})
    assert resp.status_code == 200, resp.text
    dag_run_id = resp.json()["dag_run_id"]
    kernel, child = wait_for("the slow cell", lambda: read_mark(mark), timeout=180)
    row = wait_for("the execute step's pid", lambda: (r := row_of_dag_run(platform, dag_run_id)) and r.pid and r)
    assert row.host == os.uname().nodename
    assert psutil.Process(child).ppid() == row.pid, "the row's pid is not the process running the notebook"
    before = snapshot(platform.store)
    os.kill(row.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for("the killed try's notebook to stop", lambda: not pid_alive(kernel) and not pid_alive(child), timeout=30)
    return {
        "dag_run_id": dag_run_id,
        "run_id": row.run_id,
        "pid": row.pid,
        "before": before,
        "orphans_gone_s": time.monotonic() - killed_at,
        "mark": mark,
    }


def watch_latest(servers: AirflowServers, platform: Platform, report: str, killed: dict[str, Any]) -> dict[str, Any]:
    """Wait for the DAG run to end, checking all along that ``latest.json`` is sound whenever it exists."""
    seen = []
    deadline = time.monotonic() + 240
    while (state := servers.dag_run(report, killed["dag_run_id"])["state"]) not in ("success", "failed"):
        latest = assert_latest_intact(platform.store, report, required=False)
        if latest:
            seen.append(latest["run_id"])
        tasks = servers.task_states(report, killed["dag_run_id"]) if time.monotonic() > deadline else None
        assert tasks is None, f"the DAG run is still {state}: {tasks}"
        servers.check_alive()
        time.sleep(0.5)
    return {"state": state, "latest_seen": seen}


@pytest.mark.faults("7. task retried after its first try was killed (SIGKILL mid-execute, retries: 1)")
def test_a_killed_execute_task_is_retried_and_the_retry_continues_the_same_run(
    airflow_servers: AirflowServers, platform: Platform, fault
) -> None:
    killed = kill_mid_execute(airflow_servers, platform, "fault_retry")
    ended = watch_latest(airflow_servers, platform, "fault_retry", killed)

    run_id = killed["run_id"]
    assert ended["state"] == "success", airflow_servers.task_states("fault_retry", killed["dag_run_id"])
    row = row_of_dag_run(platform, killed["dag_run_id"])  # the same run, not a second one
    assert row is not None
    assert row.run_id == run_id
    assert_recorded(platform.db, [run_id])
    assert (row.status, row.attempt) == (RunStatus.SUCCESS, 2)
    assert row.pid != killed["pid"]  # the retry's process
    after = snapshot(platform.store)
    assert_nothing_lost(killed["before"], after, retried=[run_id])
    assert_no_partial_files(after)
    latest = assert_latest_intact(platform.store, "fault_retry")
    assert latest["run_id"] == run_id
    assert set(ended["latest_seen"]) <= {run_id}  # never another, and this one only once it was whole
    first_try = [k for k in after if k.startswith(f"runs/fault_retry/{run_id}/attempts/1/")]
    fault.note(
        f"run {run_id}: attempt 1 killed (pid {killed['pid']}), its notebook stopped in "
        f"{killed['orphans_gone_s']:.1f} s; attempt 2 success; attempts/1 holds {len(first_try)} file(s)"
    )


@pytest.mark.faults("1. SIGKILL of the task process mid-execute (no retries)")
def test_a_killed_execute_task_without_retries_ends_recorded_failed(
    airflow_servers: AirflowServers, platform: Platform, fault
) -> None:
    killed = kill_mid_execute(airflow_servers, platform, "fault_noretry")
    ended = watch_latest(airflow_servers, platform, "fault_noretry", killed)

    assert ended["state"] == "failed"

    def dag_run_state(dag_id: str, dag_run_id: str) -> str | None:  # Airflow's word, through its REST API
        try:
            return str(airflow_servers.dag_run(dag_id, dag_run_id)["state"])
        except httpx.HTTPStatusError:
            return None

    lost = reconcile(platform, dag_run_state=dag_run_state)  # what nbreports_reconcile does
    row = assert_recorded(platform.db, [killed["run_id"]])[killed["run_id"]]
    assert row.status == RunStatus.FAILED
    assert row.failure_kind in (FailureKind.LOST, FailureKind.ENGINE_ERROR), row.failure_kind
    assert row.error
    after = snapshot(platform.store)
    assert_nothing_lost(killed["before"], after)
    assert_no_partial_files(after)
    assert not platform.store.exists(Store.latest_key("fault_noretry"))  # no successful run, no latest
    assert ended["latest_seen"] == []
    assert platform.store.exists(Store.run_key("fault_noretry", killed["run_id"], "report.html"))
    fault.note(f"run {killed['run_id']}: failed, {row.failure_kind}: {row.error[:90]} (reconcile then: {len(lost)})")
