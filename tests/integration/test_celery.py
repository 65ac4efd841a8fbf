"""Report runs on the CeleryExecutor: two workers, each with its own hostname, home, DAG bundle and queues.

The servers of ``tests/integration/servers.py`` (FAB + LDAP, PostgreSQL for Airflow and the
platform) run the CeleryExecutor with Redis as the broker, the store is on the S3 endpoint, and
two ``airflow celery worker`` processes (``celery_workers.py``) serve the module's queues:
``worker-a`` the default queue, ``worker-b`` the default queue and the ``large`` profile's. Any
task of a run may land on either worker, so prepare, execute and publish share only the platform
database, the store and XCom; the report's files reach the executing worker as the run's bundle.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from nbreports.runs.model import Platform
from nbreports.runs.states import RunStatus
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store, open_store
from nbreports.storage.tables import RunRow
from tests.conftest import REPO, create_pg_database, drop_pg_database
from tests.faults.checks import assert_latest_intact, assert_nothing_lost, assert_recorded, snapshot
from tests.faults.reports import make_fault_report, read_mark, wait_for
from tests.helpers import make_report
from tests.integration.celery_workers import CeleryWorker, celery_env
from tests.integration.ldap_server import LdapServer
from tests.integration.servers import AirflowServers, running_airflow, servers_env

RUNS = 20
READS_ITS_FILES = """
import os, pathlib, socket, scrapbook as sb
rows = pathlib.Path('data.csv').read_text().splitlines()
pathlib.Path('scribble.txt').write_text('written beside the notebook')
sb.glue('seen', {'n': n, 'rows': len(rows), 'host': socket.gethostname(), 'cwd': os.getcwd()})
"""
REPORTS = ("celery_files", "celery_large", "fault_retry")


def _reports(notebooks: Path) -> None:
    for name, spec in (("celery_files", {}), ("celery_large", {"profile": "large"})):
        folder = make_report(notebooks, name, "n: int = 0", READS_ITS_FILES, spec=spec)
        (folder / "data.csv").write_text("region,total\nnorth,1\nsouth,2\n")
    make_fault_report(notebooks, "fault_retry", retries=1, retry_delay=0)


def _config(folder: Path, large_queue: str) -> dict[str, str]:
    """The shipped teams and profiles files, with ``large`` routed to its own queue and open to every report."""
    teams = yaml.safe_load((REPO / "config" / "teams.yaml").read_text())
    teams["teams"]["default"]["profiles"] = ["small", "large"]
    profiles = yaml.safe_load((REPO / "config" / "profiles.yaml").read_text())
    profiles["profiles"]["large"]["queue"] = large_queue
    (folder / "teams.yaml").write_text(yaml.safe_dump(teams))
    (folder / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    return {
        "NBREPORTS_TEAMS_FILE": str(folder / "teams.yaml"),
        "NBREPORTS_PROFILES_FILE": str(folder / "profiles.yaml"),
    }


class Cluster:
    """The servers, the two workers, and the platform (database and S3 store) as the test reads it."""

    def __init__(self, servers: AirflowServers, workers: dict[str, CeleryWorker], platform: Platform, queues: dict):
        self.servers, self.workers, self.platform, self.queues = servers, workers, platform, queues

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        with self.servers.client() as c:
            resp = c.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
        resp.raise_for_status()
        return {ti["task_id"]: ti for ti in resp.json()["task_instances"]}

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        with self.servers.client() as c:
            resp = c.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/tries")
        resp.raise_for_status()
        return sorted(resp.json()["task_instances"], key=lambda t: t["try_number"])

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        resp = self.servers.trigger(dag_id, conf)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["dag_run_id"])

    def wait_all(self, dag_id: str, run_ids: list[str], timeout: float) -> dict[str, str]:
        """Each DAG run's final state, waiting for all (one list request a poll: the API serves the tasks too)."""
        deadline, states = time.monotonic() + timeout, {}
        while len(states) < len(run_ids):
            runs = self.servers.dag_runs(dag_id, limit=100, state=["success", "failed"])
            states = {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in run_ids}
            self.check_alive()
            if time.monotonic() > deadline:
                pending = {r: self.task_instances(dag_id, r) for r in run_ids if r not in states}
                raise AssertionError(f"{len(pending)} runs of {dag_id} unfinished: {pending}\n{self.tails()}")
            time.sleep(2)
        return states

    def row(self, dag_run_id: str) -> RunRow | None:
        with Session(self.platform.db.engine, expire_on_commit=False) as session:
            rows = list(session.scalars(select(RunRow).where(RunRow.dag_run_id == dag_run_id)))
        assert len(rows) <= 1, f"DAG run {dag_run_id} wrote {len(rows)} runs"
        return rows[0] if rows else None

    def check_alive(self) -> None:
        self.servers.check_alive()

    def tails(self) -> str:
        return "\n".join(w.tail() for w in self.workers.values())


@pytest.fixture(scope="module")
def celery_cluster(
    airflow_home: dict[str, str], ldap_server: LdapServer, s3_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("celery")
    tag = uuid.uuid4().hex[:8]
    queues = {"default": f"nbr-{tag}-default", "large": f"nbr-{tag}-large"}
    platform_url = create_pg_database("nbr_celery")
    store_url = f"s3://reports/celery-{tag}"
    notebooks = folder / "notebooks"  # the servers' (the dag-processor's) copy; each worker has its own
    _reports(notebooks)
    env = servers_env(airflow_home, ldap_server, folder, notebooks, platform_url)
    env |= _config(folder, queues["large"])
    env |= {"NBREPORTS_STORE_URL": store_url, "NBREPORTS_STORE_OPTIONS": f'{{"endpoint_url": "{s3_server}"}}'}
    env = celery_env(env, "redis://127.0.0.1:6379/0", queues["default"])
    PlatformDB(platform_url).engine.dispose()  # migrated before the tasks race to do it
    workers = {
        "worker-a": CeleryWorker("worker-a", (queues["default"],), folder / "worker-a", {}),
        "worker-b": CeleryWorker("worker-b", (queues["default"], queues["large"]), folder / "worker-b", {}),
    }
    try:
        with running_airflow(env, folder / "servers") as servers:
            for worker in workers.values():
                worker.env = servers.env
                worker.start(notebooks)
            for worker in workers.values():
                worker.wait_ready()
            servers.wait_for_dags(REPORTS)
            store = open_store(store_url, {"endpoint_url": s3_server})
            platform = Platform.from_settings(store=store, database_url=platform_url)
            yield Cluster(servers, workers, platform, queues)
            platform.db.engine.dispose()
    finally:
        for worker in workers.values():
            worker.stop()
        PlatformDB(platform_url).engine.dispose()
        drop_pg_database(platform_url)
        shutil.rmtree(folder / "marks", ignore_errors=True)


def _check_run(cluster: Cluster, report: str, dag_run_id: str, tis: dict[str, dict[str, Any]], n: int) -> str:
    """The run of ``dag_run_id`` succeeded with the right outputs, executed where Airflow says; its run id."""
    row = cluster.row(dag_run_id)
    assert row is not None
    assert row.status == RunStatus.SUCCESS, row.error
    store = cluster.platform.store
    seen = store.read_json(Store.run_key(report, row.run_id, "scraps.json"))["seen"]
    assert seen["n"] == n
    assert seen["rows"] == 3  # the data file came with the bundle, on whichever worker executed it
    assert seen["host"] == tis["execute"]["hostname"] == row.host  # the kernel ran on the execute task's worker
    assert not seen["cwd"].startswith(str(cluster.workers[seen["host"]].folder))  # a run folder, not the bundle
    for name in ("output.ipynb", "report.html", "run.json"):
        assert store.exists(Store.run_key(report, row.run_id, name)), name
    return row.run_id


@pytest.fixture(scope="module")
def triggered(celery_cluster: Cluster) -> dict[str, list[str]]:
    """Every run of the spread and routing tests, triggered at once (the workers stay busy) and finished."""
    runs = {
        "spread": [celery_cluster.trigger("celery_files", {"n": i}) for i in range(RUNS)],
        "by_spec": [celery_cluster.trigger("celery_large", {"n": i}) for i in range(2)],  # default profile large
        "by_trigger": [celery_cluster.trigger("celery_files", {"n": 100 + i, "profile": "large"}) for i in range(2)],
    }
    files = celery_cluster.wait_all("celery_files", runs["spread"] + runs["by_trigger"], timeout=600)
    large = celery_cluster.wait_all("celery_large", runs["by_spec"], timeout=120)
    assert set(files.values()) | set(large.values()) == {"success"}, (files, large)
    return runs


def test_twenty_runs_spread_over_both_workers_with_their_tasks_on_either(
    celery_cluster: Cluster, triggered: dict[str, list[str]]
) -> None:
    hosts: dict[str, dict[str, str]] = {}
    run_ids = []
    for n, dag_run_id in enumerate(triggered["spread"]):
        tis = celery_cluster.task_instances("celery_files", dag_run_id)
        hosts[dag_run_id] = {task: ti["hostname"] for task, ti in tis.items()}
        assert {ti["queue"] for ti in tis.values()} == {celery_cluster.queues["default"]}
        run_ids.append(_check_run(celery_cluster, "celery_files", dag_run_id, tis, n))
    every_host = {h for tasks in hosts.values() for h in tasks.values()}
    assert every_host == {"worker-a", "worker-b"}, hosts  # both workers ran tasks, and nobody else
    split = [r for r, tasks in hosts.items() if tasks["prepare"] != tasks["execute"]]
    assert split, f"no run was prepared on one worker and executed on the other: {hosts}"
    assert_recorded(celery_cluster.platform.db, run_ids)
    latest = assert_latest_intact(celery_cluster.platform.store, "celery_files")
    assert latest["status"] == "success"
    for worker in celery_cluster.workers.values():  # each worker's DAG bundle is as it was: runs work in copies
        assert not list(worker.folder.glob("notebooks/*/scribble.txt"))


def test_a_profile_with_a_queue_sends_the_execute_task_to_the_workers_serving_it(
    celery_cluster: Cluster, triggered: dict[str, list[str]]
) -> None:
    large, default = celery_cluster.queues["large"], celery_cluster.queues["default"]
    for report, key, first in (("celery_large", "by_spec", 0), ("celery_files", "by_trigger", 100)):
        for i, dag_run_id in enumerate(triggered[key]):
            tis = celery_cluster.task_instances(report, dag_run_id)
            assert tis["execute"]["queue"] == large
            assert tis["execute"]["hostname"] == "worker-b"  # the only worker serving the large queue
            assert tis["prepare"]["queue"] == default  # only the execute task needs the compute
            _check_run(celery_cluster, report, dag_run_id, tis, first + i)
    refused = celery_cluster.servers.trigger("celery_files", {"n": 1, "profile": "gpu"})  # not one the team may use
    assert refused.status_code == 400  # the trigger form's choices are the team's profiles
    assert "Invalid input for param profile: 'gpu' is not one of ['small', 'large']" in refused.text


def test_a_worker_killed_mid_run_fails_that_try_and_the_retry_succeeds_on_the_other_worker(
    celery_cluster: Cluster,
) -> None:
    mark = celery_cluster.servers.folder / "marks" / "fault_retry"
    mark.parent.mkdir(parents=True, exist_ok=True)
    dag_run_id = celery_cluster.trigger("fault_retry", {"mark": str(mark), "hold": 120})
    wait_for("the slow cell", lambda: read_mark(mark), timeout=180)
    row = wait_for("the execute step's host", lambda: (r := celery_cluster.row(dag_run_id)) and r.host and r)
    victim = celery_cluster.workers[row.host]
    [survivor] = [w for w in celery_cluster.workers.values() if w is not victim]
    before = snapshot(celery_cluster.platform.store)
    victim.kill()
    assert not victim.alive()

    final = celery_cluster.wait_all("fault_retry", [dag_run_id], timeout=300)[dag_run_id]
    tries = celery_cluster.tries("fault_retry", dag_run_id, "execute")
    assert final == "success", (tries, survivor.tail())
    assert [(t["try_number"], t["state"], t["hostname"]) for t in tries] == [
        (1, "failed", victim.name),  # the killed try, failed once its heartbeats stopped
        (2, "success", survivor.name),
    ]
    after_row = celery_cluster.row(dag_run_id)  # the same run continued, not a second one
    assert after_row is not None
    assert (after_row.run_id, after_row.status, after_row.attempt) == (row.run_id, RunStatus.SUCCESS, 2)
    assert after_row.host == survivor.name
    assert_recorded(celery_cluster.platform.db, [row.run_id])
    after = snapshot(celery_cluster.platform.store)
    assert_nothing_lost(before, after, retried=[row.run_id])
    assert assert_latest_intact(celery_cluster.platform.store, "fault_retry")["run_id"] == row.run_id
