"""Lineage through real Airflow: the downstream report reads the upstream run whose Asset event triggered it.

Two quick runs of ``sales_summary`` (different regions, so different scraps) emit two Asset events;
``sales_digest`` started for the first event (``run_dag_triggered.py``) must read the first run's
scraps although ``latest`` already points at the second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from nbreports.storage.store import Store
from tests.integration.test_dags import run_dag

pytestmark = pytest.mark.integration

TRIGGERED = Path(__file__).with_name("run_dag_triggered.py")
PARAMS = {"start_date": "2024-04-01", "end_date": "2024-06-30"}


def run_triggered(env: dict[str, str], dag_id: str, sources: list[str]) -> dict:
    return run_dag(env, dag_id, script=TRIGGERED, args=(json.dumps(sources),))


def test_the_digest_reads_the_summary_run_whose_event_triggered_it(airflow_env, tmp_path, pg_platform_url):
    env = {**airflow_env, "NBREPORTS_STORE_URL": str(tmp_path / "store")}
    us = run_dag(env, "sales_summary", {"region": "US", **PARAMS})
    eu = run_dag(env, "sales_summary", {"region": "EU", **PARAMS})
    assert us["state"] == eu["state"] == "success", eu["log"][-3000:]
    first, second = us["xcom"]["prepare"]["run_id"], eu["xcom"]["prepare"]["run_id"]
    assert us["xcom"]["publish"]["total_revenue"] != eu["xcom"]["publish"]["total_revenue"]
    latest = json.loads((tmp_path / "store" / Store.latest_key("sales_summary")).read_text())
    assert latest["run_id"] == second

    digest = run_triggered(env, "sales_digest", [us["run_id"]])  # the scheduler's run for the first event
    assert digest["state"] == "success", digest["log"][-3000:]
    plan = digest["xcom"]["prepare"]
    assert plan["upstream_runs"] == {"sales_summary": first}
    scraps = digest["xcom"]["publish"]
    assert scraps["source_run"] == first  # not the latest run (EU)
    assert scraps["total_revenue"] == us["xcom"]["publish"]["total_revenue"]
    engine = sa.create_engine(pg_platform_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT upstream_runs FROM runs WHERE run_id = :r"), {"r": plan["run_id"]}).one()
    engine.dispose()
    assert row.upstream_runs == {"sales_summary": first}

    manual = run_dag(env, "sales_digest")  # no event: the latest run
    assert manual["xcom"]["prepare"]["upstream_runs"] is None
    assert manual["xcom"]["publish"]["source_run"] == second
