"""Faults of the services a run depends on: the S3 endpoint gone during publish, PostgreSQL restarted mid-run.

3. The store is on the S3 endpoint behind a proxy that the test cuts in the middle of publish and
   restores; the "stopped endpoint" is that cut proxy, because the session's endpoint (moto's
   server) keeps its objects in memory and a real restart would lose the store.
4. The platform database's PostgreSQL server is stopped and started again (``pg_ctlcluster``) while
   an ``nbr run`` child executes. The server is the one the suite uses (``NBREPORTS_TEST_PG``), so
   the restart is kept short (stop, 2 s down, start) and runs through ``nbr run`` in a child process,
   not through the Airflow servers: the suite runs one test at a time, so only connections pooled
   in this process see it, and they are checked before use (``pool_pre_ping``).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from nbreports.errors import StoreError
from nbreports.reports.catalog import load_report
from nbreports.runs.execute import execute
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.runner import run_report
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.storage.store import open_store
from tests.conftest import PG_ADMIN_URL
from tests.faults.checks import assert_latest_intact, assert_nothing_lost, assert_recorded, snapshot
from tests.faults.proxy import cuttable_proxy
from tests.faults.reports import make_fault_report, read_mark, runs_of, start_nbr, use_platform, wait_for


@pytest.mark.faults("3. S3 endpoint stopped during publish, started again")
def test_a_publish_cut_off_from_s3_is_recorded_and_a_retry_after_restore_publishes(
    notebooks: Path, pg_db_url: str, s3_endpoint: str, nbr_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fault
) -> None:
    """The endpoint goes away at the publish's first write after the HTML (scraps.json): a cut proxy
    (see the module docstring: moto keeps its objects in memory, so it is never really stopped)."""
    folder = make_fault_report(notebooks, "fault_s3")
    prefix = f"s3://reports/faults-{os.urandom(6).hex()}"
    direct = open_store(prefix, {"endpoint_url": s3_endpoint})  # the test's own view, never cut
    with cuttable_proxy(s3_endpoint) as proxy:
        platform = use_platform(monkeypatch, nbr_env, prefix, pg_db_url, endpoint_url=proxy.url)
        report = load_report(folder)
        good = run_report(platform, report, {})
        plan = prepare(platform, report, {})
        result = execute(platform, plan, lambda line: None)
        before = snapshot(direct)

        proxy.cut_on = re.compile(rb"^PUT \S*/scraps\.json")
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"scraps\.json") as failed:
            publish(platform, plan, result)
        gave_up_s = time.monotonic() - started

        assert proxy.is_cut
        row = assert_recorded(platform.db, [plan.run_id])[plan.run_id]  # the database does not need the store
        assert (row.status, row.failure_kind) == (RunStatus.FAILED, FailureKind.STORE_ERROR)
        assert "scraps.json" in row.error
        assert assert_latest_intact(direct, "fault_s3")["run_id"] == good["run_id"]  # latest never moved
        assert_nothing_lost(before, snapshot(direct))

        proxy.restore()
        record = publish(platform, plan, result)  # the retry

    assert record["status"] == RunStatus.SUCCESS
    row = assert_recorded(platform.db, [plan.run_id, good["run_id"]])[plan.run_id]
    assert (row.status, row.failure_kind, row.error) == (RunStatus.SUCCESS, None, None)
    after = snapshot(direct)
    assert_nothing_lost(before, after)
    assert assert_latest_intact(direct, "fault_s3")["run_id"] == plan.run_id
    fault.note(f"publish gave up after {gave_up_s:.1f} s: {str(failed.value)[:100]}")
    fault.note(f"retry after restore: success, latest -> {plan.run_id}")


def _cluster_of(url: str) -> tuple[str, str]:
    """The (version, name) of the local PostgreSQL cluster listening on ``url``'s port (``pg_lsclusters``)."""
    port = str(urlparse(url).port or 5432)
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout  # noqa: S607
    for line in listing.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    raise AssertionError(f"no local PostgreSQL cluster on port {port}: {listing}")


@contextmanager
def postgres_down(url: str) -> Iterator[None]:
    """Stop the PostgreSQL cluster serving ``url`` (fast: sessions are cut); start it again on exit, always."""
    version, name = _cluster_of(url)
    subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", "fast"], check=True, capture_output=True)  # noqa: S603, S607
    try:
        yield
    finally:
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, capture_output=True)  # noqa: S603, S607


@pytest.mark.faults("4. PostgreSQL restarted during a run")
def test_a_run_survives_its_database_restarting_and_ends_recorded(
    notebooks: Path, tmp_path: Path, pg_db_url: str, nbr_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fault
) -> None:
    folder = make_fault_report(notebooks, "fault_pg")
    platform = use_platform(monkeypatch, nbr_env, str(tmp_path / "store"), pg_db_url)
    good = run_report(platform, load_report(folder), {})
    before = snapshot(platform.store)
    nbr_env["NBREPORTS_HEARTBEAT_S"] = "0.3"

    mark = tmp_path / "mark"
    proc = start_nbr(nbr_env, "run", "fault_pg", "-p", "mark", str(mark), "-p", "hold", "8")
    wait_for("the slow cell", lambda: read_mark(mark))
    started = time.monotonic()
    with postgres_down(PG_ADMIN_URL):
        time.sleep(2)
    down_s = time.monotonic() - started
    _out, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, err
    assert "heartbeat of run" in err, err  # the heartbeats did fail while the server was down
    [run] = [r for r in runs_of(platform, "fault_pg") if r["run_id"] != good["run_id"]]
    row = assert_recorded(platform.db, [run["run_id"], good["run_id"]])[run["run_id"]]
    assert row.status == RunStatus.SUCCESS
    assert_nothing_lost(before, snapshot(platform.store))
    assert assert_latest_intact(platform.store, "fault_pg")["run_id"] == run["run_id"]
    missed = err.count("heartbeat of run")
    fault.note(f"server down {down_s:.1f} s; {missed} heartbeat(s) not written, logged; run {run['run_id']}: success")
