"""Notebook versions: content-addressed, every save logged, restore; faults (half writes, racing saves)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

from nbreports.browse.versions import versions as list_versions
from nbreports.errors import CorruptObjectError, VersionNotFound
from nbreports.history.versions import (
    list_saves,
    read_version,
    resolve_version,
    restore_version,
    save_version,
    show_version,
)
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store, open_store
from tests.conftest import REPO
from tests.helpers import make_notebook, make_report


def nb_bytes(*cells: str) -> bytes:
    return nbformat.writes(make_notebook("n = 1", *cells)).encode()


def test_content_is_kept_once_and_every_save_is_logged(store, db):
    v1, v2 = nb_bytes("print(1)"), nb_bytes("print(2)")
    a = save_version(
        store,
        db,
        "sales",
        v1,
        kernel="python3",
        source="jupyter",
        author="alice",
        origin="jupyter://h/x",
        image="registry/team:1",
    )
    time.sleep(0.01)
    b = save_version(store, db, "sales", v2, kernel="python3", source="jupyter", author="bob")
    time.sleep(0.01)
    again = save_version(store, db, "sales", v1, kernel="python3", source="git", author="carol", origin="commit abc")
    assert a == again == hashlib.sha256(v1).hexdigest()
    assert b != a
    assert store.list("versions") == sorted([f"{a}.ipynb", f"{b}.ipynb"])
    assert read_version(store, a) == v1
    saves = list_saves(store, db, "sales")
    assert [(s["sha256"], s["source"], s["author"], s["first"]) for s in saves] == [
        (a, "git", "carol", False),
        (b, "jupyter", "bob", True),
        (a, "jupyter", "alice", True),
    ]
    assert saves[2]["image"] == "registry/team:1"
    assert saves[2]["kernel"] == "python3"
    row = resolve_version(db, "sales", a[:8])
    assert (row["author"], row["origin"], row["source"]) == ("alice", "jupyter://h/x", "jupyter")  # first provenance
    assert list_saves(store, db, "other") == []


def test_versions_are_found_by_a_prefix_of_eight_or_more_hex_digits(store, db):
    sha = save_version(store, db, "sales", nb_bytes("x = 1"), kernel=None, source="cli")
    assert show_version(store, db, "sales", sha[:8].upper())[0]["sha256"] == sha
    with pytest.raises(VersionNotFound, match="at least 8 hex digits"):
        resolve_version(db, "sales", sha[:7])
    with pytest.raises(VersionNotFound, match="at least 8 hex digits"):
        resolve_version(db, "sales", "zzzzzzzzz")
    with pytest.raises(VersionNotFound, match="has no version"):
        resolve_version(db, "other", sha[:12])  # versions belong to a report


def test_a_half_written_version_is_never_served_and_the_next_save_repairs_it(local_store, db, tmp_path):
    store = local_store  # the test damages the stored file itself
    data = nb_bytes("print('important')")
    sha = hashlib.sha256(data).hexdigest()
    save_version(store, db, "sales", data, kernel="python3", source="cli")
    # a writer that was not atomic (or a disk that lost the tail) left half of the content
    (tmp_path / "store" / Store.version_key(sha)).write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptObjectError, match="does not hash to its name"):
        show_version(store, db, "sales", sha[:10])
    save_version(store, db, "sales", data, kernel="python3", source="jupyter")  # the same content saved again
    assert show_version(store, db, "sales", sha[:10])[1] == data


KILLED_WRITER = """
import sys, time
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import open_store
from nbreports.history.versions import save_version
store, db = open_store(sys.argv[1]), PlatformDB(sys.argv[2])
pad = "#" * 4_000_000
for i in range(10_000):
    body = ('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "pad": "%s", "i": %d}' % (pad, i))
    save_version(store, db, "sales", body.encode(), kernel="python3", source="cli")
    print(i, flush=True)
"""


def test_a_writer_killed_mid_save_leaves_no_partial_version_and_no_row_without_content(local_store, db, tmp_path):
    store = local_store  # the writer process opens the same folder
    proc = subprocess.Popen(  # noqa: S603 - argv fixed by the test, no untrusted input
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path / "store"), db.url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # one save done; the next ones are under way
        time.sleep(0.35)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)  # waits, and closes both pipes
    assert proc.returncode == -signal.SIGKILL
    rows = list_versions(PlatformDB(db.url), "sales")
    assert rows, "at least one save completed"
    for row in rows:  # every recorded version is complete and intact
        assert hashlib.sha256(read_version(store, row["sha256"])).hexdigest() == row["sha256"]
    for name in store.list("versions"):  # no final object is partial (temporary files may remain)
        if not name.startswith("."):
            assert hashlib.sha256(store.read_bytes(f"versions/{name}")).hexdigest() == name.removesuffix(".ipynb")


@pytest.mark.parametrize("same_content", [False, True])
def test_saves_at_the_same_moment_lose_nothing(store, db, same_content):
    contents = [nb_bytes("print('same')") if same_content else nb_bytes(f"print({i})") for i in range(6)]
    barrier, errors = threading.Barrier(len(contents)), []

    def save(i: int) -> None:
        try:
            barrier.wait()
            save_version(store, db, "sales", contents[i], kernel="python3", source="jupyter", author=f"user{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(contents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shas = {hashlib.sha256(c).hexdigest() for c in contents}
    assert {r["sha256"] for r in list_versions(db, "sales")} == shas
    saves = list_saves(store, db, "sales")
    assert len(saves) == len(contents)
    assert {s["author"] for s in saves} == {f"user{i}" for i in range(6)}
    assert sum(s["first"] for s in saves) == len(shas)  # exactly one save recorded each new content
    for sha in shas:
        read_version(store, sha)


def test_restore_puts_a_version_back_and_keeps_what_it_replaces(store, db, notebooks):
    folder = make_report(notebooks, "sales", "n = 1", "print('v1')")
    nb_path = folder / "sales.ipynb"
    v1 = save_version(store, db, "sales", nb_path.read_bytes(), kernel="python3", source="jupyter")
    nbformat.write(make_notebook("n = 1", "print('v2, never saved')"), nb_path)
    unsaved = nb_path.read_bytes()
    assert restore_version(store, db, folder, v1[:8], author="alice") == v1
    assert nb_path.read_bytes() == read_version(store, v1)
    saves = list_saves(store, db, "sales")
    assert [s["source"] for s in saves] == ["restore", "pre-restore", "jupyter"]
    assert saves[0]["author"] == "alice"
    assert v1 in saves[0]["origin"]
    assert read_version(store, saves[1]["sha256"]) == unsaved  # the edit that was never saved is kept
    assert sorted(p.name for p in folder.iterdir()) == ["report.yaml", "sales.ipynb"]  # no temporary file left


def test_restore_brings_back_a_deleted_notebook(store, db, notebooks):
    folder = make_report(notebooks, "sales", "n = 1", "print('v1')")
    v1 = save_version(store, db, "sales", (folder / "sales.ipynb").read_bytes(), kernel="python3", source="git")
    (folder / "sales.ipynb").unlink()
    restore_version(store, db, folder, v1)
    assert hashlib.sha256((folder / "sales.ipynb").read_bytes()).hexdigest() == v1
    assert [s["source"] for s in list_saves(store, db, "sales")] == ["restore", "git"]


def test_versions_recorded_by_runs_without_a_save_log_are_listed(store, db):
    sha = hashlib.sha256(b"{}").hexdigest()
    store.write_bytes(Store.version_key(sha), b"{}")
    db.add_version("sales", sha, 2, "python3", "run")  # what runner.store_version does today
    [save] = list_saves(store, db, "sales")
    assert save["sha256"] == sha
    assert save["source"] == "run"
    assert save["saved_at"].endswith("+00:00")


def test_cli_versions_show_restore(home, notebooks, monkeypatch, capsys):
    from nbreports.cli import main
    from nbreports.settings import Settings

    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(notebooks))
    monkeypatch.setenv("NBREPORTS_AUTHOR", "dora")
    folder = make_report(notebooks, "sales", "n = 1", "print('v1')")
    settings = Settings()
    store = open_store(settings.resolved_store_url)
    db = PlatformDB(settings.resolved_database_url)
    v1 = save_version(
        store, db, "sales", (folder / "sales.ipynb").read_bytes(), kernel="python3", source="jupyter", author="alice"
    )
    nbformat.write(make_notebook("n = 1", "print('v2')"), folder / "sales.ipynb")
    v2 = save_version(
        store, db, "sales", (folder / "sales.ipynb").read_bytes(), kernel="python3", source="jupyter", author="bob"
    )

    assert main(["versions", "sales"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == [v2[:12], v1[:12]]
    assert "bob" in lines[0]
    assert main(["show", f"sales@{v1[:8]}"]) == 0
    assert "print('v1')" in capsys.readouterr().out
    assert main(["show", f"sales@{v1[:6]}"]) == 2
    assert "at least 8 hex digits" in capsys.readouterr().err
    assert main(["restore", "sales", v1[:10]]) == 0
    assert f"version {v1[:12]}" in capsys.readouterr().out
    assert "print('v1')" in (folder / "sales.ipynb").read_text()
    newest = list_saves(store, db, "sales")[0]
    assert (newest["source"], newest["author"]) == ("restore", "dora")


def test_version_rows_keep_author_and_origin_columns(db, store):
    sha = save_version(store, db, "sales", nb_bytes(), kernel="ir", source="upload", author="eve", origin="x.ipynb")
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.text("select author, origin, kernel, source from notebook_versions where sha256 = :s"), {"s": sha}
        ).one()
    assert tuple(row) == ("eve", "x.ipynb", "ir", "upload")


def test_notebook_path_follows_the_spec(tmp_path: Path):
    from nbreports.history.versions import notebook_path

    folder = make_report(tmp_path, "sales", "n = 1", spec={"notebook": "main.ipynb"})
    assert notebook_path(folder) == folder / "main.ipynb"
    bare = tmp_path / "bare"
    bare.mkdir()
    assert notebook_path(bare) == bare / "bare.ipynb"
