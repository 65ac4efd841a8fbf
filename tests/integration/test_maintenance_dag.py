"""The maintenance DAG through a real Airflow (``dag.test()``, metadata on PostgreSQL): backups of the
example reports and the platform database, and query-cache expiry on a local store and on S3."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
