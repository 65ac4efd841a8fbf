"""The DAG factory as Airflow's DagBag sees it: typed trigger forms, docs, and clear import errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.helpers import make_report

pytestmark = pytest.mark.integration


def parse(env: dict[str, str], notebooks: Path | None = None) -> dict:
    if notebooks is not None:
        env = {**env, "NBREPORTS_NOTEBOOKS_DIR": str(notebooks)}
    proc = subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [sys.executable, str(Path(__file__).with_name("parse_dags.py"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_example_reports_become_dags_with_typed_trigger_forms(airflow_env):
    result = parse(airflow_env)
    assert result["import_errors"] == {}
    sales = result["dags"]["sales_summary"]
    assert sales["tasks"] == ["prepare", "execute", "publish"]
    assert sales["doc_md"].startswith("# Sales summary")
    assert sales["catchup"] is False
    assert "team:analytics" in sales["tags"]
    assert sales["schedule"] == "CronTriggerTimetable"
    params = sales["params"]
    assert params["region"]["type"] == "string"
    assert params["region"]["enum"] == ["EU", "US", "APAC", "ALL"]
    assert params["start_date"] == {
        "type": "string",
        "format": "date",
        "title": "start_date",
        "$schema": "http://json-schema.org/draft-07/schema#",
    }  # cheaper to check
    assert params["top_n"]["type"] == "integer"
    assert params["top_n"]["maximum"] == 4
    assert params["min_order_value"]["type"] == "number"
    assert params["include_returns"]["type"] == "boolean"
    assert params["products"]["type"] == "array"
    assert params["products"]["items"] == {"type": "string"}
    assert params["force"]["type"] == "boolean"  # the cache bypass, since sales_summary caches
    assert sales["defaults"]["region"] == "EU"
    assert sales["defaults"]["top_n"] == 3
    assert sales["descriptions"]["top_n"] == "How many products to list"
    assert result["dags"]["sales_digest"]["schedule"] == "AssetTriggeredTimetable"


def test_bad_spec_is_an_import_error_naming_file_and_field_while_others_load(airflow_env, tmp_path):
    notebooks = tmp_path / "notebooks"
    make_report(notebooks, "good_one", "x: int = 1")
    make_report(notebooks, "bad_schedule", "x: int = 1", spec={"schedule": "every tuesday"})
    make_report(notebooks, "bad_field", "x: int = 1", spec={"retries": "many"})
    broken = make_report(notebooks, "broken_json", "x = 1")
    (broken / "broken_json.ipynb").write_text("{not json")
    shutil.copytree(REPO / "notebooks" / "data_quality", notebooks / "data_quality")
    result = parse(airflow_env, notebooks)
    assert {d for d in result["dags"] if not d.startswith("nbreports_")} == {"good_one", "data_quality"}
    [message] = result["import_errors"].values()
    assert "bad_schedule/report.yaml: schedule: 'every tuesday' is not a cron expression" in message
    assert "bad_field/report.yaml: retries:" in message
    assert "integer" in message
    assert "broken_json.ipynb: not a valid Jupyter notebook" in message
