"""The maintenance DAG through a real Airflow (``dag.test()``, metadata on PostgreSQL): backups of the
example reports and the platform database, and query-cache expiry on a local store and on S3."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from nbreports.storage.store import open_store
from tests.integration.test_dags import run_dag

pytestmark = pytest.mark.integration


def test_maintenance_on_a_local_store(airflow_env, tmp_path):
    env = {**airflow_env, "NBREPORTS_STORE_URL": str(tmp_path / "store"), "NBREPORTS_BACKUP_KEEP_DAYS": "3"}
    store = open_store(env["NBREPORTS_STORE_URL"])
    store.write_json("backups/2020-01-01/manifest.json", {"files": []})  # far older than three days
    result = run_dag(env, "nbreports_maintenance")
    assert result["state"] == "success", result["log"][-4000:]
    today = datetime.now(UTC).date().isoformat()
    assert result["xcom"]["backup"]["date"] == today
    assert result["xcom"]["backup"]["pruned"] == ["2020-01-01"]
    assert result["xcom"]["backup"]["database"] == "postgresql"
    manifest = store.read_json(f"backups/{today}/manifest.json")
    assert {"sales_summary/report.yaml"} <= {f["path"] for f in manifest["files"]}
    assert "runs" in manifest["database"]["rows"]
    assert result["xcom"]["query_cache"]["removed"] == 0


def test_maintenance_sets_the_lifecycle_rule_on_s3(airflow_env, tmp_path, s3_endpoint):
    prefix = f"maint-{tmp_path.name}"
    env = {
        **airflow_env,
        "NBREPORTS_STORE_URL": f"s3://reports/{prefix}",
        "NBREPORTS_STORE_CONN_ID": "nbr_s3",
        "AIRFLOW_CONN_NBR_S3": json.dumps(
            {
                "conn_type": "aws",
                "login": "testing-key",
                "password": "testing-secret",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    }
    result = run_dag(env, "nbreports_maintenance")
    assert result["state"] == "success", result["log"][-4000:]
    rules = boto3.client("s3", endpoint_url=s3_endpoint).get_bucket_lifecycle_configuration(Bucket="reports")["Rules"]
    assert any(r["Filter"].get("Prefix") == f"{prefix}/querycache/" and r["Expiration"]["Days"] == 7 for r in rules)
    store = open_store(f"s3://reports/{prefix}", {"endpoint_url": s3_endpoint})
    assert store.exists(f"backups/{datetime.now(UTC).date().isoformat()}/manifest.json")


def test_reconcile_records_runs_whose_dag_run_is_over_or_gone_as_lost(airflow_env, tmp_path, pg_platform_url):
    from nbreports.runs.model import Platform
    from nbreports.runs.states import FailureKind, RunStatus
    from nbreports.settings import Settings

    env = {**airflow_env, "NBREPORTS_STORE_URL": str(tmp_path / "store")}
    finished = run_dag(env, "nbreports_reconcile")  # a DAG run Airflow knows, and is over
    assert finished["state"] == "success", finished["log"][-4000:]
    platform = Platform.from_settings(
        Settings(home=tmp_path / "nbreports", store_url=env["NBREPORTS_STORE_URL"]), database_url=pg_platform_url
    )
    old, now = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    this_run = now.replace(microsecond=0) - timedelta(days=1)
    rows = {
        "over": ("nbreports_reconcile", finished["run_id"], old),
        "gone": ("sales_summary", "manual__never-ran", old),
        "beating": ("sales_summary", "manual__never-ran", now),  # a fresh heartbeat: not judged yet
        "queued": ("nbreports_reconcile", f"manual__{this_run.isoformat()}", old),  # the DAG run judging it runs
    }
    for name, (dag_id, dag_run_id, beat) in rows.items():
        platform.db.start_run(
            run_id=f"r-{name}-{tmp_path.name}"[:120],
            report="sales_summary",
            status=RunStatus.RUNNING,
            parameters={},
            notebook_version="0" * 64,
            executor="local",
            dag_id=dag_id,
            dag_run_id=dag_run_id,
            started_at=old,
            heartbeat_at=beat,
        )
    unindexed = _a_version_the_index_failed_to_take(platform, tmp_path.name)
    result = run_dag({**env, "RUN_DAG_RUN_AFTER": this_run.isoformat()}, "nbreports_reconcile")
    assert result["state"] == "success", result["log"][-4000:]
    assert result["xcom"]["search_index"]["indexed"] >= 1
    assert _found(platform, unindexed) == 1  # the maintenance DAG indexed it
    assert result["run_id"] == f"manual__{this_run.isoformat()}"
    mine = [e for e in result["xcom"]["lost_runs"] if e["run_id"].endswith(tmp_path.name[:100])]  # the DB is shared
    reasons = {entry["run_id"].split("-")[1]: entry["reason"] for entry in mine}
    assert set(reasons) == {"over", "gone"}
    assert f"nbreports_reconcile/{finished['run_id']} is success" in reasons["over"]
    assert "manual__never-ran no longer exists" in reasons["gone"]
    for name in rows:
        row = platform.db.run_row(f"r-{name}-{tmp_path.name}"[:120])
        assert row is not None
        expected = (RunStatus.FAILED, FailureKind.LOST) if name in reasons else (RunStatus.RUNNING, None)
        assert (row.status, row.failure_kind) == expected


def _a_version_the_index_failed_to_take(platform, tag):
    """A saved version whose indexing failed (its documents gone, its source failed and due): its word."""
    import nbformat
    import sqlalchemy as sa

    from nbreports.history.versions import save_version
    from tests.helpers import make_notebook

    word = "unindexed" + "".join(c for c in tag if c.isalnum())[-12:]
    content = nbformat.writes(make_notebook(None, f"print('{word}')")).encode()
    sha = save_version(platform.store, platform.db, "sales_summary", content, kernel="python3", source="cli")
    with platform.db.engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM search_documents WHERE report = 'sales_summary' AND version = :sha"), {"sha": sha}
        )
        conn.execute(
            sa.text(
                "UPDATE search_sources SET status = 'failed', attempts = 1, next_attempt_at = :due "
                "WHERE kind = 'version' AND ref = :sha"
            ),
            {"sha": sha, "due": datetime.now(UTC) - timedelta(minutes=1)},
        )
    assert _found(platform, word) == 0
    return word


def _found(platform, word):
    from nbreports.search import ReportFacts, search

    return search(platform.db, word, {"sales_summary": ReportFacts("sales_summary", "", "", "")}).total
