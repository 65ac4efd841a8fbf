"""The post-save hook in a real Jupyter Server, saving through its contents REST API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import requests

from nbreports.browse.versions import versions as list_versions
from nbreports.history.versions import list_saves, read_version
from nbreports.search import ReportFacts, search
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import open_store
from tests.conftest import free_port
from tests.helpers import make_notebook, make_report

TOKEN = "nbreports-test-token"  # noqa: S105 - a throw-away test value, not a credential


@pytest.fixture
def jupyter(tmp_path: Path, notebooks: Path) -> Iterator[tuple[str, Path]]:
    """A Jupyter Server on a free port serving ``notebooks``, with the hook configured in one line."""
    config_dir = tmp_path / "jupyter-config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        'c.FileContentsManager.post_save_hook = "nbreports.jupyter_hook.post_save"\n'
    )
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(tmp_path / "jdata"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jruntime"),
        "JUPYTERHUB_USER": "alice",
        "NBREPORTS_HOME": str(tmp_path / "home"),
    }
    for name in ("NBREPORTS_STORE_URL", "NBREPORTS_DATABASE_URL", "NBREPORTS_STORE_OPTIONS", "NBREPORTS_AUTHOR"):
        env.pop(name, None)
    log = (tmp_path / "jupyter.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - argv fixed by the test, no untrusted input
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={notebooks}",
            "--ServerApp.open_browser=False",
            "--ServerApp.port_retries=0",
            "--ServerApp.allow_root=True",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/api/status", headers=auth(), timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "jupyter.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "jupyter.log").read_text()
            time.sleep(0.2)
        yield url, tmp_path / "home"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def auth() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


def put_notebook(url: str, path: str, nb: nbformat.NotebookNode) -> requests.Response:
    return requests.put(
        f"{url}/api/contents/{path}",
        headers=auth(),
        timeout=30,
        json={"type": "notebook", "format": "json", "content": nb},
    )


def test_each_save_of_a_report_notebook_is_a_version_with_author_and_origin(jupyter, notebooks):
    url, home = jupyter
    make_report(notebooks, "sales", "n = 1", "print('v0')")
    (notebooks / "scratch").mkdir()

    v1, v2 = make_notebook("n = 1", "print('v1')"), make_notebook("n = 2", "print('v2')")
    for nb in (v1, v2, v1):
        assert put_notebook(url, "sales/sales.ipynb", nb).status_code == 200
    assert put_notebook(url, "scratch/notes.ipynb", v1).status_code in (200, 201)  # not a report: not versioned

    store = open_store(str(home / "store"))
    db = PlatformDB(f"sqlite:///{home / 'platform.db'}")
    saves = list_saves(store, db, "sales")
    assert [s["source"] for s in saves] == ["jupyter"] * 3
    assert {s["author"] for s in saves} == {"alice"}
    assert all(s["origin"].startswith("jupyter://") and s["origin"].endswith("/sales/sales.ipynb") for s in saves)
    assert saves[0]["sha256"] == saves[2]["sha256"] != saves[1]["sha256"]
    assert saves[0]["kernel"] == "python3"
    on_disk = (notebooks / "sales" / "sales.ipynb").read_bytes()
    assert read_version(store, saves[0]["sha256"]) == on_disk  # exactly what Jupyter wrote
    assert (
        nbformat.reads(read_version(store, saves[1]["sha256"]).decode(), as_version=4).cells[2].source == "print('v2')"
    )
    assert len(list_versions(db, "sales")) == 2
    assert not (home / "store" / "reports" / "scratch").exists()
    # each saved version is searchable as it is saved, at its cell
    facts = {"sales": ReportFacts("sales", "sales", "", "alice")}
    [hit] = search(db, "v2 kind:code", facts).hits
    assert (hit.version, hit.cell) == (saves[1]["sha256"], 2)
    assert search(db, "v1 kind:code", facts).hits[0].version == saves[0]["sha256"]
