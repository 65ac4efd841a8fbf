"""The UI's read queries on a real platform database (SQLite and PostgreSQL): catalog, history pages, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nbreports.browse import catalog, compare, runs, versions
from nbreports.errors import BadQuery
from nbreports.reports.catalog import load_reports
from nbreports.storage.database import PlatformDB
from tests.helpers import make_report

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SHA_A, SHA_B = "a" * 64, "b" * 64


@pytest.fixture
def db(db: PlatformDB) -> PlatformDB:
    """The shared platform database (SQLite, PostgreSQL) with two reports, two versions and seven runs."""
    db.upsert_report("sales", "Sales", "alice", "analytics", {"tags": ["money"], "schedule": "@daily"}, [])
    db.upsert_report("ops", "Ops board", "bob", "platform", {"tags": ["infra"]}, [])
    db.add_version("sales", SHA_A, 10, "python3", "run")
    db.add_version("sales", SHA_B, 12, "python3", "run")
    for i in range(7):  # 5 successes, 2 failures; run 6 is the newest
        status = "failed" if i in (2, 5) else "success"
        db.start_run(
            run_id=f"r{i}",
            report="sales",
            status="running",
            parameters={"n": i},
            notebook_version=SHA_A if i < 4 else SHA_B,
            executor="local",
            started_at=T0 + timedelta(minutes=i),
            dag_id="sales",
            dag_run_id=f"manual__{i}",
        )
        db.update_run(f"r{i}", status=status, duration_s=float(i), html_uri=f"file:///x/{i}.html")
    return db


def test_history_pages_cover_every_run_once_newest_first(db: PlatformDB) -> None:
    seen, cursor = [], None
    while True:
        page = runs.history(db, "sales", limit=3, cursor=cursor)
        assert page.total == 7
        seen += [r["run_id"] for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"r{i}" for i in range(6, -1, -1)]


def test_history_total_is_capped(db: PlatformDB, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "COUNT_CAP", 5)
    page = runs.history(db, "sales", limit=2)
    assert (page.total, page.total_exact) == (5, False)
    assert page.next_cursor
    assert runs.history(db, "sales", runs.HistoryFilter(status="failed")).total_exact


def test_history_filters(db: PlatformDB) -> None:
    failed = runs.history(db, "sales", runs.HistoryFilter(status="failed"))
    assert [r["run_id"] for r in failed.items] == ["r5", "r2"]
    assert failed.total == 2
    by_version = runs.history(db, "sales", runs.HistoryFilter(notebook_version="bbbbbb"))
    assert {r["run_id"] for r in by_version.items} == {"r4", "r5", "r6"}
    window = runs.HistoryFilter(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [r["run_id"] for r in runs.history(db, "sales", window).items] == ["r2", "r1"]
    assert runs.history(db, "ops").items == []


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 501}, {"cursor": "not-a-cursor"}])
def test_history_refuses_bad_paging(db: PlatformDB, kwargs: dict) -> None:
    with pytest.raises(BadQuery):
        runs.history(db, "sales", **kwargs)


def test_history_refuses_short_version_prefix(db: PlatformDB) -> None:
    with pytest.raises(BadQuery):
        runs.history(db, "sales", runs.HistoryFilter(notebook_version="ab"))


def test_catalog_has_last_run_success_rate_and_filters(db: PlatformDB) -> None:
    entries = {e["name"]: e for e in catalog.catalog(db)}
    sales = entries["sales"]
    assert sales["last_run"]["run_id"] == "r6"
    assert sales["last_published"]["run_id"] == "r6"
    assert sales["success_rate"] == round(5 / 7, 4)
    assert sales["runs_finished"] == 7
    assert entries["ops"]["last_run"] is None
    assert entries["ops"]["success_rate"] is None
    assert [e["name"] for e in catalog.catalog(db, tag="money")] == ["sales"]
    assert [e["name"] for e in catalog.catalog(db, owner="BOB")] == ["ops"]
    assert [e["name"] for e in catalog.catalog(db, q="board ops")] == ["ops"]
    assert catalog.catalog(db, q="nothing-like-this") == []


def test_catalog_includes_reports_only_on_disk(db: PlatformDB, notebooks: Path) -> None:
    make_report(notebooks, "fresh", "x = 1", spec={"owner": "carol", "tags": ["new"]})
    disk, errors = load_reports(notebooks)
    assert not errors
    entry = next(e for e in catalog.catalog(db, disk) if e["name"] == "fresh")
    assert entry["on_disk"]
    assert entry["owner"] == "carol"
    assert entry["last_run"] is None
    assert entry["parameters"][0]["name"] == "x"


def test_run_lookup_is_scoped_to_its_report(db: PlatformDB) -> None:
    assert runs.get_run(db, "sales", "r3")["parameters"] == {"n": 3}
    assert runs.get_run(db, "ops", "r3") is None
    assert runs.run_for_dag_run(db, "sales", "manual__4")["run_id"] == "r4"
    assert runs.run_for_dag_run(db, "ops", "manual__4") is None


def test_versions_count_their_runs(db: PlatformDB) -> None:
    by_sha = {v["sha256"]: v for v in versions.versions(db, "sales")}
    assert by_sha[SHA_A]["runs"] == 4
    assert by_sha[SHA_B]["runs"] == 3
    assert versions.has_version(db, "sales", SHA_A)
    assert not versions.has_version(db, "ops", SHA_A)


def test_dict_diff_names_each_change() -> None:
    rows = {r["key"]: r["change"] for r in compare.dict_diff({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4})}
    assert rows == {"a": "same", "b": "changed", "c": "removed", "d": "added"}
