"""Daily backups of report folders and the platform database (SQLite and PostgreSQL), and restores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import nbformat
import pytest

from nbreports.browse.runs import recent_runs
from nbreports.errors import BackupError
from nbreports.history.backup import backup, backup_key, restore_backup
from nbreports.history.versions import list_saves, save_version
from nbreports.storage.database import PlatformDB
from tests.helpers import make_notebook, make_report

DAY = date(2024, 3, 10)


def record_run(db: PlatformDB, run_id: str, report: str = "sales") -> None:
    started = datetime(2024, 3, 9, 12, 30, tzinfo=UTC)
    db.start_run(
        run_id=run_id,
        report=report,
        status="running",
        parameters={"n": 1, "regions": ["EU"]},
        notebook_version="a" * 64,
        executor="local",
        started_at=started,
    )
    db.update_run(
        run_id,
        status="success",
        ended_at=started + timedelta(seconds=3),
        duration_s=3.0,
        metrics={"query_cache": {"hits": 2}},
    )


def test_restore_after_deleting_a_report_notebook_and_its_records(store, db, notebooks):
    sales = make_report(notebooks, "sales", "n = 1", "print('sales')")
    (sales / "prices.csv").write_text("a,b\n1,2\n")
    make_report(notebooks, "ops", None, "print('ops')")
    (sales / ".ipynb_checkpoints").mkdir()
    (sales / ".ipynb_checkpoints" / "sales-checkpoint.ipynb").write_text("{}")
    original = (sales / "sales.ipynb").read_bytes()
    sha = save_version(store, db, "sales", original, kernel="python3", source="git")
    record_run(db, "20240309T123000Z-aaaa0001")
    db.upsert_report("sales", "Sales", "ann", "bi", {"title": "Sales"}, [])

    manifest = backup(store, db, notebooks, keep_days=7, day=DAY)
    assert sorted(f["path"] for f in manifest["files"]) == [
        "ops/ops.ipynb",
        "ops/report.yaml",
        "sales/prices.csv",
        "sales/report.yaml",
        "sales/sales.ipynb",
    ]
    assert store.exists(backup_key(DAY, "manifest.json"))

    # the notebook and its data are deleted, the run and version records lost
    (sales / "sales.ipynb").unlink()
    (sales / "prices.csv").unlink()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("delete from runs")
        conn.exec_driver_sql("delete from notebook_versions")
    nbformat.write(make_notebook(None, "print('ops, edited after the backup')"), notebooks / "ops" / "ops.ipynb")
    edited = (notebooks / "ops" / "ops.ipynb").read_bytes()

    result = restore_backup(store, db, notebooks, DAY, author="root")
    assert sorted(result["restored"]) == ["sales/prices.csv", "sales/sales.ipynb"]
    assert result["kept"] == ["ops/ops.ipynb"]
    assert "sales/report.yaml" in result["unchanged"]
    assert (sales / "sales.ipynb").read_bytes() == original
    assert (notebooks / "ops" / "ops.ipynb").read_bytes() == edited  # newer work is not overwritten
    assert result["database_rows"]["runs"] == 1
    assert result["database_rows"]["notebook_versions"] == 1
    [run] = recent_runs(db, "sales")
    assert run["status"] == "success"
    assert run["parameters"] == {"n": 1, "regions": ["EU"]}
    assert run["metrics"] == {"query_cache": {"hits": 2}}
    assert run["started_at"].replace(tzinfo=run["started_at"].tzinfo or UTC) == datetime(2024, 3, 9, 12, 30, tzinfo=UTC)
    saves = list_saves(store, db, "sales")
    assert saves[0]["source"] == "restore"
    assert saves[0]["sha256"] == sha
    assert saves[0]["origin"].startswith("backup 2024-03-10")

    again = restore_backup(store, db, notebooks, DAY, overwrite=True)  # merging twice adds nothing
    assert again["database_rows"] == dict.fromkeys(
        (
            "reports",
            "notebook_versions",
            "runs",
            "audit_log",
            "notifications",
            "subscriptions",
            "search_documents",
            "search_sources",
        ),
        0,
    )
    assert again["overwritten"] == ["ops/ops.ipynb"]
    assert any(s["source"] == "pre-restore" for s in list_saves(store, db, "ops"))  # the edit was kept as a version


def test_retention_keeps_the_last_days(store, db, notebooks):
    make_report(notebooks, "sales", "n = 1")
    for offset in range(5, 0, -1):
        backup(store, db, notebooks, keep_days=30, day=DAY - timedelta(days=offset))
    manifest = backup(store, db, notebooks, keep_days=3, day=DAY)
    assert manifest["pruned"] == ["2024-03-05", "2024-03-06", "2024-03-07"]
    assert store.list("backups") == ["2024-03-08", "2024-03-09", "2024-03-10"]


def test_incomplete_or_tampered_backups_are_refused(store, db, notebooks):
    make_report(notebooks, "sales", "n = 1")
    backup(store, db, notebooks, keep_days=7, day=DAY)
    with pytest.raises(BackupError, match="no complete backup of 2024-03-11"):
        restore_backup(store, db, notebooks, DAY + timedelta(days=1))
    store.write_bytes(backup_key(DAY, "notebooks/sales/sales.ipynb"), b"{}")
    (notebooks / "sales" / "sales.ipynb").unlink()
    with pytest.raises(BackupError, match="does not match the sha256"):
        restore_backup(store, db, notebooks, DAY)
    assert not (notebooks / "sales" / "sales.ipynb").exists()


def test_nbr_backup_and_restore_backup(home, notebooks, monkeypatch, capsys):
    from nbreports.cli import main

    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(notebooks))
    folder = make_report(notebooks, "sales", "n = 1", "print(1)")
    assert main(["backup"]) == 0
    today = datetime.now(UTC).date().isoformat()
    assert f"backup {today}: 2 files, database (sqlite)" in capsys.readouterr().out
    (folder / "sales.ipynb").unlink()
    assert main(["restore-backup", today]) == 0
    assert "restored    sales/sales.ipynb" in capsys.readouterr().out
    assert (folder / "sales.ipynb").is_file()
    assert main(["restore-backup", "yesterday"]) == 2
