"""Real pods: example reports through the ``podman`` engine (prepare → pod → publish), and failures.

Needs podman and a team image: the ``kernel_image`` fixture runs scripts/setup-podman.sh for the
analytics team once per session (a few minutes the first time; afterwards podman's layer cache
rebuilds only the core's layer, so the image always has the core the tests run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
import yaml

from nbreports.browse.runs import recent_runs
from nbreports.errors import CellExecutionError, ImageError, OutOfMemoryError, RunTimeoutError
from nbreports.pods.manifest import POD_UID, WORKDIR
from nbreports.reports.catalog import load_report
from nbreports.reports.yaml_keys import load_yaml
from nbreports.runs.model import Platform
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store, open_store
from tests.conftest import REPO
from tests.helpers import make_report

pytestmark = [pytest.mark.pods, pytest.mark.integration]
IMAGE = "localhost/nbreports-kernel/analytics"


@pytest.fixture(scope="session")
def kernel_image() -> str:
    os.environ.setdefault("CONTAINERS_CONF", str(REPO / "images" / "containers.conf"))
    subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [str(REPO / "scripts" / "setup-podman.sh")],
        env={**os.environ, "TEAMS": "analytics"},
        check=True,
        timeout=1800,
    )
    return f"{IMAGE}:ga"


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config plus a ``tiny`` profile to run out of memory; the shipped teams file with every
    team on the analytics image (the one the tests build) and allowed ``tiny``."""
    config = yaml.safe_load((REPO / "config" / "profiles.yaml").read_text())
    config["profiles"]["tiny"] = {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "320Mi"},
    }
    teams = yaml.safe_load((REPO / "config" / "teams.yaml").read_text())
    for team in teams["teams"].values():
        team["environment"] = "analytics"
        team["profiles"] = [*team.get("profiles", ["small"]), "tiny"]
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump(teams))
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(path))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(tmp_path / "teams.yaml"))
    return path


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The example reports, switched to the podman executor."""
    folder = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", folder)
    for spec_file in folder.glob("*/report.yaml"):
        spec = load_yaml(spec_file.read_text())  # as specs are read: `on:` stays a key
        spec_file.write_text(yaml.safe_dump({**spec, "executor": "podman"}))
    return folder


def _no_pods_left() -> None:
    out = subprocess.run(
        ["podman", "pod", "ps", "-q", "--filter", "label=app.kubernetes.io/managed-by=nbreports"],  # noqa: S607 - podman from PATH, as the engine runs it
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "", "a pod was left behind"
    secrets = subprocess.run(
        ["podman", "secret", "ls", "--format", "{{.Name}}"],  # noqa: S607 - podman from PATH, as the engine runs it
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "nbrs-" not in secrets


def _output(platform: Platform, report: str, run_id: str) -> nbformat.NotebookNode:
    data = platform.store.read_bytes(Store.run_key(report, run_id, "output.ipynb"))
    return nbformat.reads(data.decode(), as_version=4)


def _examples_end_to_end(platform: Platform, examples: Path) -> None:
    summary = run_report(platform, load_report(examples / "sales_summary"), {"region": "US", "top_n": 2})
    assert summary["status"] == "success"
    assert summary["profile"] == "small"
    assert summary["image"] == f"{IMAGE}:ga"
    assert summary["pod"]["image_digest"].startswith("sha256:")
    assert summary["scraps"]["region"] == "US"
    assert len(summary["scraps"]["top_products"]) == 2
    assert platform.store.exists(Store.run_key("sales_summary", summary["run_id"], "report.html"))
    row = recent_runs(platform.db, "sales_summary")[0]
    assert row["profile"] == "small"
    assert row["image"] == f"{IMAGE}:ga"
    assert row["image_digest"] == summary["pod"]["image_digest"]
    assert row["peak_memory_bytes"] > 0
    # the digest reads sales_summary's latest scraps from the store, from inside its own pod
    digest = run_report(platform, load_report(examples / "sales_digest"), {})
    assert digest["scraps"]["source_run"] == summary["run_id"]
    assert digest["scraps"]["total_revenue"] == summary["scraps"]["total_revenue"]
    with pytest.raises(CellExecutionError, match="data quality checks failed") as info:
        run_report(platform, load_report(examples / "data_quality"), {"dataset": "orders_bad.csv"})
    failed = recent_runs(platform.db, "data_quality")[0]
    assert failed["status"] == "failed"
    assert info.value.cell_index == failed["failed_cell"] == 4  # counted as the local engine does
    errors = [
        o.ename
        for c in _output(platform, "data_quality", failed["run_id"]).cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == ["ValueError"]
    _no_pods_left()


def test_examples_in_pods_with_a_local_store(home, kernel_image, profiles, examples):
    platform = Platform.from_settings()
    _examples_end_to_end(platform, examples)
    record = platform.store.read_json(Store.latest_key("sales_summary"))
    assert record["pod"]["peak_memory_bytes"] > 50 * 2**20  # papermill + a pandas kernel


def test_examples_in_pods_with_an_s3_store(home, kernel_image, profiles, examples, s3_endpoint, monkeypatch):
    monkeypatch.setenv("NBREPORTS_STORE_URL", "s3://reports/pods")
    monkeypatch.setenv("NBREPORTS_STORE_OPTIONS", f'{{"endpoint_url": "{s3_endpoint}"}}')
    platform = Platform.from_settings()
    _examples_end_to_end(platform, examples)
    direct = open_store("s3://reports/pods", {"endpoint_url": s3_endpoint})
    assert direct.list("runs/sales_summary")  # written by the pod, straight to the bucket


def test_over_the_memory_limit_says_out_of_memory(home, kernel_image, profiles, notebooks, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    rep = load_report(
        make_report(
            notebooks,
            "hog",
            None,
            "print('before', flush=True)",
            "blob = b'x' * (900 * 2**20)",
            spec={"executor": "podman", "profile": "tiny"},
        )
    )
    platform = Platform.from_settings()
    with pytest.raises(OutOfMemoryError, match=r"out of memory: the pod went over its memory limit of 320Mi"):
        run_report(platform, rep, {})
    row = recent_runs(platform.db, "hog")[0]
    assert row["status"] == "failed"
    output = _output(platform, "hog", row["run_id"])
    assert "before" in output.cells[1].outputs[0].text  # the output notebook was kept
    assert not (tmp_path / "oom").exists()  # podman's OOM marker is not left in the working folder
    _no_pods_left()


def test_missing_image_is_a_clear_failure(home, kernel_image, profiles, notebooks):
    rep = load_report(
        make_report(
            notebooks, "noimage", None, "x = 1", spec={"executor": "podman", "image": {"digest": "sha256:" + "0" * 64}}
        )
    )
    platform = Platform.from_settings()
    with pytest.raises(ImageError, match=r"image localhost/nbreports-kernel/analytics@sha256:0+ not found"):
        run_report(platform, rep, {})
    row = recent_runs(platform.db, "noimage")[0]
    assert row["status"] == "failed"
    assert row["output_uri"]
    _no_pods_left()


def test_run_timeout_stops_the_pod_and_keeps_the_output(home, kernel_image, profiles, notebooks):
    rep = load_report(
        make_report(
            notebooks,
            "sleepy",
            None,
            "print('started', flush=True)",
            "import time\ntime.sleep(600)",
            spec={"executor": "podman", "run_timeout": 8},
        )
    )
    platform = Platform.from_settings()
    with pytest.raises(RunTimeoutError, match="run timed out after 8s in cell 2"):
        run_report(platform, rep, {})
    row = recent_runs(platform.db, "sleepy")[0]
    assert "started" in _output(platform, "sleepy", row["run_id"]).cells[1].outputs[0].text
    assert row["duration_s"] < 60
    _no_pods_left()


def test_a_retry_reattaches_to_the_running_pod(home, kernel_image, profiles, notebooks):
    """A lost worker's pod keeps running: the next try follows it instead of starting another."""
    from nbreports.engines.podman import PodmanEngine
    from nbreports.pods.manifest import build_pod_manifest
    from nbreports.pods.request import plan_pod
    from nbreports.runs.execute import execute
    from nbreports.runs.prepare import prepare
    from nbreports.runs.publish import publish

    rep = load_report(
        make_report(
            notebooks,
            "lost",
            None,
            "import time\ntime.sleep(6)\nprint('done', flush=True)",
            spec={"executor": "podman"},
        )
    )
    platform = Platform.from_settings()
    plan = prepare(platform, rep, {})
    first = build_pod_manifest(replace(plan_pod(platform, plan, try_number=1), store_secret=None))
    with tempfile.TemporaryDirectory() as tmp:  # what try 1 had started before its worker died
        PodmanEngine._play(Path(tmp), first, "unused", None, lambda line: None)
    lines: list[str] = []
    result = execute(platform, plan, lines.append, try_number=2)
    assert result.status == "success"
    assert result.extra["pod"]["reattached"] is True
    assert result.extra["pod"]["name"] == first["metadata"]["name"]
    assert any("re-attaching to pod" in line for line in lines)
    assert any("done" in line for line in lines)
    assert publish(platform, plan, result)["status"] == "success"
    _no_pods_left()


def test_team_image_has_its_kernel_the_core_and_no_airflow(kernel_image):
    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
            ["podman", "run", "--rm", "--network", "none", kernel_image, *cmd],  # noqa: S607 - podman from PATH, as the engine runs it
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("id", "-u", "nbr").stdout.split() == [str(POD_UID)]
    assert run("id", "-u").stdout.split() == [str(POD_UID)]  # the image's own user: never root
    assert run("stat", "-c", "%u", "/nbreports/scratch").stdout.split() == [str(POD_UID)]

    kernels = run("jupyter", "kernelspec", "list", "--json")
    assert {"analytics", "python3"} <= set(yaml.safe_load(kernels.stdout)["kernelspecs"])
    assert run("python", "-c", "import nbreports.kernel, papermill, scrapbook, pandas, matplotlib").returncode == 0
    no_airflow = run("python", "-c", "import airflow")
    assert no_airflow.returncode != 0
    assert "No module named 'airflow'" in no_airflow.stderr


LOCKED_DOWN = """
import errno, os, pathlib
import scrapbook as sb
pathlib.Path("written.txt").write_text("the working directory is the pod's scratch")
try:
    open("/opt/nbreports/x", "w")
    root_fs = "writable"
except OSError as exc:
    root_fs = errno.errorcode[exc.errno]
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
sb.glue("pod", {
    "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "home": os.environ["HOME"],
    "data": open("data.txt").read(), "helper": open("lib/helper.py").read(), "root_fs": root_fs,
    "cap_eff": status["CapEff"].strip(), "no_new_privs": status["NoNewPrivs"].strip(),
    "seccomp": status["Seccomp"].strip(),
})
"""


def test_a_pod_runs_locked_down_on_its_bundle(home, kernel_image, profiles, notebooks):
    """The same path as on a cluster, under podman with a local store: the report folder comes as a bundle."""
    from nbreports.pods.manifest import build_pod_manifest
    from nbreports.pods.request import plan_pod
    from nbreports.runs.prepare import prepare

    folder = make_report(notebooks, "locked", None, LOCKED_DOWN, spec={"executor": "podman"})
    (folder / "data.txt").write_text("beside the notebook")
    (folder / "lib").mkdir()
    (folder / "lib" / "helper.py").write_text("X = 1\n")
    platform = Platform.from_settings()
    rep = load_report(folder)
    manifest = build_pod_manifest(plan_pod(platform, prepare(platform, rep, {})))
    volumes = {v["name"]: v for v in manifest["spec"]["volumes"]}
    assert "report" not in volumes  # not the worker's folder: the bundle, from the store
    assert manifest["spec"]["initContainers"][0]["args"][1] == WORKDIR
    summary = run_report(platform, rep, {})
    assert summary["status"] == "success"
    assert summary["scraps"]["pod"] == {
        "uid": POD_UID,
        "gid": POD_UID,
        "cwd": WORKDIR,
        "home": "/nbreports/scratch/home",
        "data": "beside the notebook",
        "helper": "X = 1\n",
        "root_fs": "EROFS",
        "cap_eff": "0000000000000000",
        "no_new_privs": "1",
        "seccomp": "2",  # a filter: the runtime's default profile
    }
    assert not (folder / "written.txt").exists()  # the pod never writes into the worker's folder
    run_folder = Path(platform.store.root) / Store.run_key("locked", summary["run_id"])
    assert run_folder.stat().st_uid == os.getuid()  # handed back after the run
    _no_pods_left()


def test_a_bundle_that_cannot_be_fetched_fails_before_papermill(home, kernel_image, profiles, notebooks):
    from nbreports.runs.execute import execute
    from nbreports.runs.prepare import prepare

    rep = load_report(make_report(notebooks, "nobundle", None, "x = 1", spec={"executor": "podman"}))
    platform = Platform.from_settings()
    plan = prepare(platform, rep, {})
    assert plan.bundle
    Path(platform.store.root, Store.bundle_key(plan.bundle)).unlink()  # lost from the store
    result = execute(platform, plan, lambda line: None)
    assert result.status == "failed"
    assert result.error_type == "engine_error"
    assert "init container bundle failed" in (result.error or "")
    assert f"bundles/{plan.bundle}.tar does not exist" in (result.error or "")
    _no_pods_left()
