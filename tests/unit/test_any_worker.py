"""A run prepared on one worker executes and publishes on another: only the database, the store and the plan travel.

Worker A prepares from its own copy of the notebooks (its DAG bundle); that copy is then deleted,
and worker B, with a copy of its own, executes and publishes the plan it got as JSON (XCom).
"""

import json
import shutil
from dataclasses import replace

import nbformat
import pytest

from nbreports.reports.catalog import load_report
from nbreports.runs.execute import execute
from nbreports.runs.model import RunPlan
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.states import FailureKind, RunStatus
from nbreports.settings import Settings
from nbreports.storage.store import Store
from tests.helpers import make_report

READS_ITS_FILES = """
import os, pathlib, scrapbook as sb
rows = pathlib.Path('data.csv').read_text().splitlines()
pathlib.Path('scribble.txt').write_text('a notebook writing beside itself')
sb.glue('seen', {'rows': len(rows), 'cwd': os.getcwd(), 'notebooks': os.environ['NBREPORTS_NOTEBOOKS_DIR']})
"""


def _worker(platform, notebooks):
    """The same platform (database, store) as seen from a worker whose DAG bundle is ``notebooks``."""
    return replace(platform, settings=Settings(home=platform.settings.home, notebooks_dir=notebooks))


def _prepared_elsewhere(platform, tmp_path):
    """A plan prepared by worker A, whose notebooks folder is gone afterwards; worker B's copy remains."""
    folder = make_report(tmp_path / "a" / "notebooks", "files", "n: int = 1", READS_ITS_FILES)
    (folder / "data.csv").write_text("region,total\nnorth,1\nsouth,2\n")
    b_notebooks = tmp_path / "b" / "notebooks"
    shutil.copytree(folder.parent, b_notebooks)
    worker_a = _worker(platform, folder.parent)
    plan = prepare(worker_a, load_report(folder), {"n": 2})
    shutil.rmtree(tmp_path / "a")  # nothing of worker A's disk may be needed from here on
    return RunPlan.from_dict(json.loads(json.dumps(plan.to_dict()))), _worker(platform, b_notebooks)


def test_a_run_prepared_on_one_worker_executes_and_publishes_on_another(platform, tmp_path):
    plan, worker_b = _prepared_elsewhere(platform, tmp_path)
    lines: list[str] = []
    result = execute(worker_b, plan, lines.append)
    assert result.status == RunStatus.SUCCESS, result.error
    record = publish(worker_b, plan, result)
    assert record["status"] == "success"
    seen = worker_b.store.read_json(Store.run_key("files", plan.run_id, "scraps.json"))["seen"]
    assert seen["rows"] == 3  # the data file came with the run's bundle
    assert seen["notebooks"] == str(tmp_path / "b" / "notebooks")  # the executing worker's catalog, for upstream reads
    assert not seen["cwd"].startswith(str(tmp_path))  # a temporary copy: no worker's notebooks folder
    assert not (tmp_path / "b" / "notebooks" / "files" / "scribble.txt").exists()  # the DAG bundle stays untouched
    assert worker_b.store.read_json(Store.latest_key("files"))["run_id"] == plan.run_id


def test_the_plan_travels_without_a_path_of_the_preparing_worker(platform, tmp_path):
    plan, _ = _prepared_elsewhere(platform, tmp_path)
    sent = json.dumps(plan.to_dict())
    assert str(tmp_path / "a") not in sent  # worker A's notebooks folder; the (shared) store may be a path
    assert plan.bundle
    assert platform.store.exists(Store.bundle_key(plan.bundle))
    older = {**plan.to_dict(), "report_folder": "/srv/worker-a/notebooks/files"}  # an XCom from before the upgrade
    assert RunPlan.from_dict(older) == plan


def test_a_missing_bundle_fails_the_run_as_a_store_error_and_keeps_the_input(platform, tmp_path):
    plan, worker_b = _prepared_elsewhere(platform, tmp_path)
    store = worker_b.store
    store.fs.rm(store._path(Store.bundle_key(plan.bundle)))  # the store lost it (the core never deletes one)
    result = execute(worker_b, plan, lambda line: None)
    assert result.error_type == FailureKind.STORE_ERROR
    assert "the report folder's files could not be fetched" in result.error
    assert Store.bundle_key(plan.bundle) in result.error
    kept = nbformat.reads(worker_b.store.read_bytes(plan.key("output.ipynb")).decode(), as_version=4)
    assert kept.metadata["nbreports"]["run_id"] == plan.run_id  # the input, stored as the output: nothing ran


def test_a_plan_without_a_bundle_is_refused_before_the_kernel_starts(platform, tmp_path):
    plan, worker_b = _prepared_elsewhere(platform, tmp_path)
    result = execute(worker_b, replace(plan, bundle=None), lambda line: None)
    assert result.error_type == FailureKind.ENGINE_ERROR
    assert f"run {plan.run_id} has no bundle of its report folder" in result.error


@pytest.mark.parametrize("platform", ["local-sqlite"], indirect=True)
def test_a_tampered_bundle_is_not_unpacked(platform, tmp_path):
    plan, worker_b = _prepared_elsewhere(platform, tmp_path)
    worker_b.store.write_bytes(Store.bundle_key(plan.bundle), b"not the tar that was stored")
    result = execute(worker_b, plan, lambda line: None)
    assert result.error_type == FailureKind.STORE_ERROR
    assert f"not {plan.bundle}: not unpacked" in result.error
