"""Lost runs: heartbeats, a killed ``nbr run`` recorded as lost, Airflow's word on DAG runs, and retries
that continue or supersede a run instead of writing a second one (real kernels and processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from nbreports.browse.runs import recent_runs
from nbreports.reports.catalog import load_report
from nbreports.runs.execute import execute
from nbreports.runs.liveness import Heartbeat, reconcile
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.storage.store import Store
from tests.helpers import make_report

GLUE = "import scrapbook as sb\nsb.glue('n', n)"


def _row(platform, run_id):
    row = platform.db.run_row(run_id)
    assert row is not None
    return row


def _age(platform, run_id, seconds):
    """Make the run's last heartbeat ``seconds`` old."""
    platform.db.update_run(run_id, heartbeat_at=datetime.now(UTC) - timedelta(seconds=seconds))


def test_the_heartbeat_advances_while_the_run_executes(platform, notebooks):
    plan = prepare(platform, load_report(make_report(notebooks, "beat", "n: int = 1", GLUE)), {})
    first = _row(platform, plan.run_id).heartbeat_at
    with Heartbeat(platform, plan.run_id, interval=0.05):
        time.sleep(0.4)
    assert _row(platform, plan.run_id).heartbeat_at > first


def test_a_killed_nbr_run_is_recorded_lost_with_its_input_kept_and_latest_unmoved(platform, notebooks):
    make_report(notebooks, "slow", "n: int = 1", "import time\ntime.sleep(120)", GLUE)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from nbreports.cli import main; sys.exit(main())", "run", "slow"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NBREPORTS_NOTEBOOKS_DIR": str(notebooks)},
        start_new_session=True,  # its process group: papermill's child and the kernel die with it
    )
    deadline = time.monotonic() + 90
    while not recent_runs(platform.db, "slow") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert proc.poll() is None, "nbr run ended before its run was recorded"
    [running] = recent_runs(platform.db, "slow")
    assert running["status"] == "running"
    assert (running["host"], running["pid"]) == (os.uname().nodename, proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    [lost] = reconcile(platform)
    assert lost.run_id == running["run_id"]
    assert f"process {proc.pid}" in lost.reason
    row = _row(platform, lost.run_id)
    assert (row.status, row.failure_kind) == (RunStatus.FAILED, FailureKind.LOST)
    assert row.error.startswith("run lost: ")
    key = lambda name: Store.run_key("slow", lost.run_id, name)  # noqa: E731
    assert platform.store.exists(key("input.ipynb"))
    assert platform.store.exists(key("report.html"))  # the partial run is published like any failed one
    assert platform.store.read_json(key("run.json"))["error_type"] == "lost"
    assert not platform.store.exists(Store.latest_key("slow"))
    assert reconcile(platform) == []  # once recorded, it is no longer running


def test_a_dag_run_s_run_is_lost_only_once_airflow_says_its_dag_run_is_over(platform, notebooks):
    report = load_report(make_report(notebooks, "queued", "n: int = 1", GLUE))
    plan = prepare(platform, report, {}, dag_id="queued", dag_run_id="manual__1")
    states = {("queued", "manual__1"): "running"}
    asked = []

    def dag_run_state(dag_id, run_id):
        asked.append(run_id)
        return states.get((dag_id, run_id))

    _age(platform, plan.run_id, 3600)  # an execute task waiting in a queue sends no heartbeat
    assert reconcile(platform, dag_run_state=dag_run_state) == []
    assert reconcile(platform) == []  # nbr cannot ask Airflow, so it leaves DAG runs' runs alone
    states[("queued", "manual__1")] = "failed"
    _age(platform, plan.run_id, 1)  # a beat just now: not judged yet, and Airflow is not asked
    asked.clear()
    assert reconcile(platform, dag_run_state=dag_run_state) == []
    assert asked == []
    _age(platform, plan.run_id, 3600)
    [lost] = reconcile(platform, dag_run_state=dag_run_state)
    assert "its DAG run queued/manual__1 is failed" in lost.reason
    gone = prepare(platform, report, {}, dag_id="queued", dag_run_id="manual__deleted")
    _age(platform, gone.run_id, 3600)
    [lost] = reconcile(platform, dag_run_state=dag_run_state)
    assert "no longer exists" in lost.reason
    assert _row(platform, gone.run_id).failure_kind == FailureKind.LOST


def test_an_execute_retry_continues_the_same_run_and_keeps_the_first_attempt(platform, notebooks):
    report = load_report(make_report(notebooks, "retried", "n: int = 1", GLUE))
    plan = prepare(platform, report, {"n": 4}, dag_id="retried", dag_run_id="manual__1")
    execute(platform, plan, lambda line: None, try_number=1)
    first_output = platform.store.read_bytes(plan.key("output.ipynb"))
    result = execute(platform, plan, lambda line: None, try_number=2)  # as if try 1 died before publish
    assert platform.store.read_bytes(plan.key("attempts/1/output.ipynb")) == first_output
    assert platform.store.exists(plan.key("attempts/1/execution.json"))
    record = publish(platform, plan, result)
    assert record["status"] == "success"
    [row] = recent_runs(platform.db, "retried")  # one run, not two
    assert (row["run_id"], row["status"], row["attempt"]) == (plan.run_id, "success", 2)


def test_a_prepare_retry_supersedes_the_run_its_killed_try_left(platform, notebooks):
    report = load_report(make_report(notebooks, "twice", "n: int = 1", GLUE))
    task = "twice/manual__1/prepare/-1"
    first = prepare(platform, report, {}, dag_id="twice", dag_run_id="manual__1", airflow_task=task)
    other = prepare(platform, report, {}, dag_id="twice", dag_run_id="manual__1", airflow_task="twice/manual__1/x/-1")
    second = prepare(platform, report, {}, dag_id="twice", dag_run_id="manual__1", airflow_task=task)
    row = _row(platform, first.run_id)
    assert (row.status, row.failure_kind) == (RunStatus.FAILED, FailureKind.LOST)
    assert f"superseded by run {second.run_id}" in row.error
    assert _row(platform, second.run_id).status == RunStatus.RUNNING
    assert _row(platform, other.run_id).status == RunStatus.RUNNING  # another task's run is not touched
    assert not platform.store.exists(Store.latest_key("twice"))


@pytest.mark.parametrize("seconds", [0.0, 5.0])
def test_a_run_on_another_host_is_lost_only_after_its_silence_outlasts_lost_after(platform, notebooks, seconds):
    plan = prepare(platform, load_report(make_report(notebooks, "far", "n: int = 1", GLUE)), {})
    platform.db.update_run(plan.run_id, host="another-worker", pid=1)
    _age(platform, plan.run_id, platform.settings.lost_after_s - 60 + seconds * 20)
    lost = reconcile(platform)
    assert [run.run_id for run in lost] == ([plan.run_id] if seconds else [])
