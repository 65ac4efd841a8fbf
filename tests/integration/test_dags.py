"""Each example report through a real Airflow (``dag.test()``, metadata on PostgreSQL), with the
store on a local folder and on a real HTTP S3 endpoint, and the platform records on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from nbreports.storage.store import Store
from tests.conftest import REPO

pytestmark = pytest.mark.integration

RUN_DAG = Path(__file__).with_name("run_dag.py")


def run_dag(
    env: dict[str, str], dag_id: str, conf: dict | None = None, *, script: Path = RUN_DAG, args: tuple[str, ...] = ()
) -> dict:
    """``dag.test()`` of ``dag_id`` in a child (``script``: run_dag.py or a variant taking more ``args``)."""
    proc = subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [sys.executable, str(script), dag_id, json.dumps(conf or {}), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["log"] = proc.stdout + proc.stderr
    return result


@pytest.fixture
def store_env(store_location, store, airflow_env):
    """The same runs with the shared store in a local folder, and on S3 through an Airflow connection."""
    env = {**airflow_env, "NBREPORTS_STORE_URL": store_location.url}
    if store_location.kind == "s3":
        env.update(
            {
                "NBREPORTS_STORE_CONN_ID": "nbr_s3",
                "AIRFLOW_CONN_NBR_S3": json.dumps(
                    {
                        "conn_type": "aws",
                        "login": "testing-key",
                        "password": "testing-secret",
                        "extra": {"endpoint_url": store_location.options["endpoint_url"], "region_name": "us-east-1"},
                    }
                ),
            }
        )
        env.pop("AWS_ACCESS_KEY_ID", None)
        env.pop("AWS_SECRET_ACCESS_KEY", None)
    return env, store


def platform_runs(url: str, run_id: str) -> dict:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM runs WHERE run_id = :r"), {"r": run_id}).mappings().one()
    engine.dispose()
    return dict(row)


def test_sales_summary_then_digest_through_its_asset(store_env, pg_platform_url):
    env, store = store_env
    summary = run_dag(env, "sales_summary", {"region": "US", "start_date": "2024-04-01", "end_date": "2024-06-30"})
    assert summary["state"] == "success", summary["log"][-3000:]
    assert summary["tasks"] == {"prepare": "success", "execute": "success", "publish": "success"}
    plan = summary["xcom"]["prepare"]
    scraps = summary["xcom"]["publish"]
    assert scraps["region"] == "US"
    assert scraps["orders"] > 0
    assert set(scraps["revenue_by_month"]) == {"2024-04", "2024-05", "2024-06"}
    for name in ("input.ipynb", "output.ipynb", "report.html", "scraps.json", "run.json"):
        assert store.exists(Store.run_key("sales_summary", plan["run_id"], name)), name
    assert store.read_json(Store.latest_key("sales_summary"))["run_id"] == plan["run_id"]
    [event] = summary["asset_events"]
    assert event["extra"]["run_id"] == plan["run_id"]
    assert event["extra"]["status"] == "success"
    assert set(event["extra"]) == {"run_id", "notebook_version", "status"}  # no parameters nor store paths
    row = platform_runs(pg_platform_url, plan["run_id"])
    assert row["status"] == "success"
    assert row["dag_id"] == "sales_summary"
    assert row["dag_run_id"] == summary["run_id"]
    assert row["parameters"]["region"] == "US"
    assert "Executing Cell" in summary["log"]  # cell progress streamed into the task log
    assert "testing-secret" not in summary["log"]  # the store's credentials never reach the logs
    assert "testing-secret" not in json.dumps(
        store.read_json(Store.run_key("sales_summary", plan["run_id"], "output.ipynb"))
    )

    again = run_dag(env, "sales_summary", {"region": "US", "start_date": "2024-04-01", "end_date": "2024-06-30"})
    assert again["state"] == "success"
    assert again["xcom"]["publish"] == scraps  # served from the cache ...
    hit = again["xcom"]["prepare"]
    assert hit["cached_from"] == plan["run_id"]
    assert "cache hit" in again["log"]
    assert "Executing Cell" not in again["log"]
    [hit_event] = again["asset_events"]  # ... and the Asset event still fires
    assert hit_event["extra"]["run_id"] == hit["run_id"]

    digest = run_dag(env, "sales_digest")
    assert digest["state"] == "success", digest["log"][-3000:]
    assert digest["xcom"]["publish"]["source_run"] == hit["run_id"]
    assert digest["xcom"]["publish"]["total_revenue"] == scraps["total_revenue"]


def test_failing_quality_check_is_recorded_failed_with_output_kept(store_env, pg_platform_url):
    env, store = store_env
    result = run_dag(env, "data_quality", {"dataset": "orders_bad.csv"})
    assert result["state"] == "failed"
    assert result["tasks"]["execute"] == "failed"
    assert result["tasks"]["publish"] == "failed"
    assert result["asset_events"] == []
    run_id = result["xcom"]["prepare"]["run_id"]
    output = store.read_json(Store.run_key("data_quality", run_id, "output.ipynb"))
    assert "data quality checks failed" in json.dumps(output)
    assert store.exists(Store.run_key("data_quality", run_id, "report.html"))
    assert not store.exists(Store.latest_key("data_quality"))
    row = platform_runs(pg_platform_url, run_id)
    assert row["status"] == "failed"
    assert "ValueError" in row["error"]

    good = run_dag(env, "data_quality", {"dataset": "orders_clean.csv"})
    assert good["state"] == "success"
    assert good["xcom"]["publish"]["passed"] is True


def test_unknown_parameter_fails_prepare_and_writes_nothing(airflow_env, tmp_path):
    env = {**airflow_env, "NBREPORTS_STORE_URL": str(tmp_path / "store")}
    result = run_dag(env, "sales_summary", {"region": "EU", "colour": "red"})
    assert result["state"] == "failed"
    assert result["tasks"]["prepare"] == "failed"
    assert result["tasks"]["execute"] == "upstream_failed"
    assert "unknown parameter 'colour'" in result["log"]
    assert not (tmp_path / "store" / "runs").exists()


def test_engineer_dag_reads_scraps_from_xcom(airflow_env, tmp_path):
    """An engineer's own DAG: NotebookReportOperator with templated parameters, scraps downstream."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "engineer_dag.py").write_text("""
from datetime import datetime
from airflow.sdk import DAG, task
from operators import NotebookReportOperator

with DAG("engineer_dag", schedule=None, start_date=datetime(2024, 1, 1)):
    report = NotebookReportOperator(task_id="summary", report="sales_summary",
                                    parameters={"region": "{{ params.region }}", "top_n": 2},
                                    params={"region": "APAC"})

    @task
    def check(scraps):
        assert scraps["region"] == "APAC", scraps
        return {"orders": scraps["orders"], "top": scraps["top_products"]}

    check(report.output)
""")
    env = {**airflow_env, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "NBREPORTS_STORE_URL": str(tmp_path / "store")}
    result = run_dag(env, "engineer_dag")
    assert result["state"] == "success", result["log"][-3000:]
    assert result["xcom"]["check"]["orders"] > 0
    assert len(result["xcom"]["check"]["top"]) == 2
