"""Faults of one machine, through ``nbr run`` in child processes on PostgreSQL and a real store.

2. the kernel SIGKILLed mid-run; 5. the local store's disk full (a tmpfs too small for the
output); 6. ten concurrent runs of the same report with the same parameters (on the S3 endpoint).
Each ends with the three checks of ``tests/faults/checks.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from nbreports.errors import NbreportsError
from nbreports.reports.catalog import load_report
from nbreports.runs.runner import run_report
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.storage.store import Store
from tests.faults.checks import (
    assert_latest_intact,
    assert_no_partial_files,
    assert_nothing_lost,
    assert_recorded,
    assert_whole,
    snapshot,
)
from tests.faults.reports import (
    make_fault_report,
    nbr,
    pid_alive,
    read_mark,
    runs_of,
    start_nbr,
    use_platform,
    wait_for,
)


@pytest.mark.faults("2. SIGKILL of the kernel mid-run")
def test_a_killed_kernel_is_recorded_kernel_died_with_its_output_kept(
    notebooks: Path, tmp_path: Path, pg_db_url: str, nbr_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fault
) -> None:
    folder = make_fault_report(notebooks, "fault_kernel")
    platform = use_platform(monkeypatch, nbr_env, str(tmp_path / "store"), pg_db_url)
    good = run_report(platform, load_report(folder), {})
    before = snapshot(platform.store)

    mark = tmp_path / "mark"
    proc = start_nbr(nbr_env, "run", "fault_kernel", "-p", "mark", str(mark), "-p", "hold", "120")
    kernel, child = wait_for("the slow cell", lambda: read_mark(mark))
    os.kill(kernel, signal.SIGKILL)
    _out, err = proc.communicate(timeout=120)

    assert proc.returncode == 1, err
    assert "FAILED" in err
    [run] = [r for r in runs_of(platform, "fault_kernel") if r["run_id"] != good["run_id"]]
    row = assert_recorded(platform.db, [run["run_id"]])[run["run_id"]]
    assert (row.status, row.failure_kind) == (RunStatus.FAILED, FailureKind.KERNEL_DIED)
    assert "kernel died" in row.error, row.error
    output = platform.store.read_bytes(Store.run_key("fault_kernel", run["run_id"], "output.ipynb")).decode()
    assert "sleep(hold)" in nbformat.reads(output, as_version=4).cells[row.failed_cell].source  # the cell it ran
    assert "before the fault" in output  # what ran before the kill is kept
    assert_whole(platform.store, Store.run_key("fault_kernel", run["run_id"], "report.html"))
    assert not pid_alive(child), "the papermill child outlived the run"
    after = snapshot(platform.store)
    assert_nothing_lost(before, after)
    assert_no_partial_files(after)
    assert assert_latest_intact(platform.store, "fault_kernel")["run_id"] == good["run_id"]
    fault.note(f"run {run['run_id']}: failed, {row.failure_kind}: {row.error[:80]}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (we are root): the local store's disk, which a big output does not fit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(  # noqa: S603 - argv fixed by the test
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],  # noqa: S607
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"the disk-full fault mounts a tmpfs and needs root: {exc}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)  # noqa: S603, S607


@pytest.mark.faults("5. local store's disk full")
def test_an_output_that_does_not_fit_is_a_clear_store_error_and_nothing_half_written(
    notebooks: Path,
    tmp_path: Path,
    small_disk: Path,
    pg_db_url: str,
    nbr_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    fault,
) -> None:
    folder = make_fault_report(notebooks, "fault_disk")
    platform = use_platform(monkeypatch, nbr_env, str(small_disk / "store"), pg_db_url)
    good = run_report(platform, load_report(folder), {})
    before = snapshot(platform.store)

    done = nbr(nbr_env, "run", "fault_disk", "-p", "big", "3000000")  # ~3 MB of output on a 1 MB disk

    assert done.returncode != 0
    [run] = [r for r in runs_of(platform, "fault_disk") if r["run_id"] != good["run_id"]]
    key = Store.run_key("fault_disk", run["run_id"], "output.ipynb")
    assert f"could not write {platform.store.uri(key)}" in done.stderr, done.stderr
    assert "No space left on device" in done.stderr
    after = snapshot(platform.store)
    assert_no_partial_files(after)
    assert key not in after  # never half of it
    assert_nothing_lost(before, after)
    assert assert_latest_intact(platform.store, "fault_disk")["run_id"] == good["run_id"]
    row = assert_recorded(platform.db, [run["run_id"]])[run["run_id"]]  # recorded by nbr run itself
    assert (row.status, row.failure_kind) == (RunStatus.FAILED, FailureKind.STORE_ERROR)
    assert "No space left on device" in row.error
    reconciled = nbr(nbr_env, "reconcile")  # nothing is left running for a reconcile to find
    assert reconciled.returncode == 0, reconciled.stderr
    assert "0 lost run(s) recorded" in reconciled.stdout
    assert_no_partial_files(snapshot(platform.store))
    assert assert_latest_intact(platform.store, "fault_disk")["run_id"] == good["run_id"]
    told = next(line for line in done.stderr.splitlines() if "No space left" in line)
    fault.note("nbr run: " + told.replace(platform.store.url_prefix, "<store>")[:110])
    fault.note(f"recorded at once: {row.failure_kind}: {row.error[:90]}")


@pytest.mark.faults("5b. disk full: the run's row names the store error at once")
def test_a_run_whose_output_does_not_fit_is_recorded_failed_with_the_store_error(
    notebooks: Path, small_disk: Path, pg_db_url: str, nbr_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_fault_report(notebooks, "fault_disk_now")
    platform = use_platform(monkeypatch, nbr_env, str(small_disk / "store"), pg_db_url)
    with pytest.raises(NbreportsError, match="No space left on device"):
        run_report(platform, load_report(folder), {"big": 3_000_000})
    [run] = runs_of(platform, "fault_disk_now")
    row = assert_recorded(platform.db, [run["run_id"]])[run["run_id"]]
    assert "No space left on device" in row.error


@pytest.mark.faults("6. ten concurrent runs, same report and parameters")
def test_ten_concurrent_runs_of_the_same_report_each_keep_their_own_folder(
    notebooks: Path,
    pg_db_url: str,
    s3_endpoint: str,
    nbr_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    fault,
) -> None:
    folder = make_fault_report(notebooks, "fault_crowd")
    prefix = f"s3://reports/faults-{os.urandom(6).hex()}"
    platform = use_platform(monkeypatch, nbr_env, prefix, pg_db_url, endpoint_url=s3_endpoint)
    first = run_report(platform, load_report(folder), {"hold": 1})
    before = snapshot(platform.store)

    procs = [start_nbr(nbr_env, "run", "fault_crowd", "-p", "hold", "1") for _ in range(10)]
    ended = [(proc, *proc.communicate(timeout=300)) for proc in procs]

    for proc, _out, err in ended:
        assert proc.returncode == 0, err
    runs = [r for r in runs_of(platform, "fault_crowd") if r["run_id"] != first["run_id"]]
    ids = {r["run_id"] for r in runs}
    assert len(ids) == 10
    rows = assert_recorded(platform.db, ids)
    assert {row.status for row in rows.values()} == {RunStatus.SUCCESS}
    after = snapshot(platform.store)
    assert_nothing_lost(before, after)
    for run_id in ids:  # each run's own folder, its files its own
        for name in ("input.ipynb", "output.ipynb", "report.html", "scraps.json", "run.json"):
            assert_whole(platform.store, Store.run_key("fault_crowd", run_id, name))
        assert platform.store.read_json(Store.run_key("fault_crowd", run_id, "run.json"))["run_id"] == run_id
        output = json.loads(platform.store.read_bytes(Store.run_key("fault_crowd", run_id, "output.ipynb")))
        assert output["metadata"]["nbreports"]["run_id"] == run_id
    latest = assert_latest_intact(platform.store, "fault_crowd")
    assert latest["run_id"] in ids
    fault.note(f"10 runs, 10 folders, all success; latest -> {latest['run_id']}")
