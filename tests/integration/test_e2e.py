"""End to end: real Airflow servers on PostgreSQL, reports triggered through the REST API.

One set of servers per module. The example DAGs are unpaused at creation, so the scheduler first
runs the latest due interval of the scheduled reports by itself; ``runs`` triggers the runs under
test around those (see there), and each test waits for its own run with bounded polling.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from nbreports.browse.runs import recent_runs
from nbreports.notify.deliveries import for_run
from nbreports.runs.model import Platform
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store
from tests.helpers import make_report
from tests.integration.plugin_data import platform_for
from tests.integration.servers import AirflowServers, ServersError

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPORTS = ("sales_summary", "sales_digest", "data_quality")
SUMMARY_CONF = {
    "region": "US",
    "start_date": "2024-04-01",
    "end_date": "2024-06-30",
    "top_n": 2,
    "include_returns": True,
}
RUN_FILES = ("input.ipynb", "output.ipynb", "report.html", "scraps.json", "run.json")


ALERTS = "alerts_e2e"  # a report of this module's own, with notify rules
ALERT_RULES = [
    {"on": ["failure"], "channel": "email", "conn_id": "nbreports_smtp", "to": ["owner-e2e@nbreports.test"]},
    {"on": ["failure"], "channel": "webhook", "conn_id": "nbreports_webhook"},
]


@pytest.fixture(scope="module")
def servers(airflow_servers: AirflowServers) -> AirflowServers:
    started = time.monotonic()
    # added while the servers run: the dag-processor's next parse finds it while the examples load
    code = 'if fail:\n    raise ValueError("the e2e check failed")'
    notebooks = Path(airflow_servers.env["NBREPORTS_NOTEBOOKS_DIR"])
    make_report(notebooks, ALERTS, "fail: bool = True", code, spec={"notify": ALERT_RULES})
    airflow_servers.wait_for_dags(REPORTS)
    airflow_servers.timings["dags_loaded"] = time.monotonic() - started
    return airflow_servers


@pytest.fixture(scope="module")
def runs(servers: AirflowServers) -> dict[str, dict[str, Any]]:
    """The runs under test: name -> the POST's JSON answer.

    The runs that do not depend on the "latest" pointers go first; the good summary waits until
    the scheduler's own first runs of sales_summary and sales_digest are over, so that its run is
    the one that moves sales_summary's ``latest`` and that the digest reads.
    """
    requests = {
        "unknown": ("sales_summary", {"region": "EU", "colour": "red"}),
        "bad_data": ("data_quality", {"dataset": "orders_bad.csv"}),
        "summary": ("sales_summary", SUMMARY_CONF),
    }
    started = time.monotonic()
    triggered = {}
    for name, (dag_id, conf) in requests.items():
        if name == "summary":
            servers.wait_until_idle(("sales_summary", "sales_digest"), timeout=180)
            servers.timings["scheduled_runs_done"] = time.monotonic() - started
        resp = servers.trigger(dag_id, conf)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["conf"] == conf
        assert body["dag_id"] == dag_id
        triggered[name] = body
    print("airflow servers timings (s):", {k: round(v, 1) for k, v in servers.timings.items()})
    return triggered


@pytest.fixture(scope="module")
def platform(servers: AirflowServers) -> Platform:
    """The store and platform database the servers' tasks write to."""
    return platform_for(servers)


def record_of(db: PlatformDB, report: str, dag_run_id: str) -> dict[str, Any]:
    rows = [r for r in recent_runs(db, report, limit=500) if r["dag_run_id"] == dag_run_id]
    assert len(rows) == 1, f"{len(rows)} platform records of {report} for DAG run {dag_run_id}"
    return rows[0]


def wait(servers: AirflowServers, run: dict[str, Any], timeout: float = 150) -> dict[str, Any]:
    return servers.wait_for_run(run["dag_id"], run["dag_run_id"], timeout=timeout)


def test_summary_triggered_with_conf_is_executed_published_and_recorded(servers, runs, platform):
    run = wait(servers, runs["summary"])
    states = servers.task_states("sales_summary", run["dag_run_id"])
    assert run["state"] == "success", (states, servers.task_log("sales_summary", run["dag_run_id"], "execute"))
    assert states == {"prepare": "success", "execute": "success", "publish": "success"}
    assert run["run_type"] == "manual"
    assert run["conf"] == SUMMARY_CONF

    record = record_of(platform.db, "sales_summary", run["dag_run_id"])
    run_id = record["run_id"]
    assert record["status"] == "success"
    assert record["dag_id"] == "sales_summary"
    assert record["triggered_by"] == "admin"
    params = record["parameters"]
    assert {k: params[k] for k in SUMMARY_CONF} == SUMMARY_CONF
    assert params["min_order_value"] == 0.0  # defaults fill the rest
    assert params["products"] == ["widget", "gadget", "gizmo", "doohickey"]
    assert record["duration_s"] > 0
    assert record["ended_at"] >= record["started_at"]
    assert set(record["scraps"]["revenue_by_month"]) == {"2024-04", "2024-05", "2024-06"}
    assert record["scraps"]["region"] == "US"
    assert len(record["scraps"]["top_products"]) == 2

    for name in RUN_FILES:
        assert platform.store.exists(Store.run_key("sales_summary", run_id, name)), name
    run_json = platform.store.read_json(Store.run_key("sales_summary", run_id, "run.json"))
    assert run_json["run_id"] == run_id
    assert run_json["status"] == "success"
    assert run_json["parameters"] == params
    output = platform.store.read_json(Store.run_key("sales_summary", run_id, "output.ipynb"))
    assert output["metadata"]["nbreports"]["dag_run_id"] == run["dag_run_id"]
    [injected] = [c for c in output["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'region = "US"' in "".join(injected["source"])
    assert "top_n = 2" in "".join(injected["source"])
    assert platform.store.read_json(Store.run_key("sales_summary", run_id, "scraps.json")) == record["scraps"]
    html = platform.store.read_bytes(Store.run_key("sales_summary", run_id, "report.html")).decode()
    assert "<html" in html
    assert "2024-06" in html
    assert platform.store.read_json(Store.latest_key("sales_summary"))["run_id"] == run_id

    # the same scraps reach Airflow: XCom of publish, and the Asset event for downstream DAGs
    with servers.client() as c:
        xcom = c.get(
            f"/api/v2/dags/sales_summary/dagRuns/{quote(run['dag_run_id'])}/taskInstances/publish"
            "/xcomEntries/return_value",
            params={"deserialize": True},
        ).json()
    value = xcom["value"] if isinstance(xcom["value"], dict) else json.loads(xcom["value"])
    assert value["orders"] == record["scraps"]["orders"]


def test_digest_runs_by_itself_on_the_summary_asset(servers, runs, platform):
    summary = wait(servers, runs["summary"])
    assert summary["state"] == "success"
    summary_run_id = record_of(platform.db, "sales_summary", summary["dag_run_id"])["run_id"]

    deadline = time.monotonic() + 120
    digest = None
    with servers.client() as c:
        while digest is None:
            for candidate in servers.dag_runs("sales_digest", run_type=["asset_triggered"]):
                events = c.get(
                    f"/api/v2/dags/sales_digest/dagRuns/{quote(candidate['dag_run_id'])}/upstreamAssetEvents"
                ).json()["asset_events"]
                if any(e["source_run_id"] == summary["dag_run_id"] for e in events):
                    digest, event = candidate, next(e for e in events if e["source_run_id"] == summary["dag_run_id"])
                    break
            else:
                if time.monotonic() > deadline:
                    raise ServersError(f"no sales_digest run triggered by {summary['dag_run_id']}")
                time.sleep(1)
    assert event["source_dag_id"] == "sales_summary"
    assert event["extra"]["run_id"] == summary_run_id
    assert event["extra"]["status"] == "success"
    assert set(event["extra"]) == {"run_id", "notebook_version", "status"}  # no parameters nor store paths

    digest = wait(servers, digest)
    assert digest["state"] == "success", servers.task_log("sales_digest", digest["dag_run_id"], "execute")
    record = record_of(platform.db, "sales_digest", digest["dag_run_id"])
    assert record["status"] == "success"
    assert record["scraps"]["source_run"] == summary_run_id


def test_conf_of_the_wrong_type_is_refused_by_airflow(servers, runs):
    before = servers.dag_runs("sales_summary")
    resp = servers.trigger("sales_summary", {"top_n": "three"})
    assert resp.status_code == 400, resp.text
    assert "top_n" in resp.json()["detail"]
    assert "integer" in resp.json()["detail"]

    resp = servers.trigger("sales_summary", {"region": "MARS"})
    assert resp.status_code == 400, resp.text
    assert "region" in resp.json()["detail"]
    assert "MARS" in resp.json()["detail"]
    assert [r["dag_run_id"] for r in servers.dag_runs("sales_summary")] == [r["dag_run_id"] for r in before]


def test_unknown_conf_key_fails_prepare_and_writes_nothing(servers, runs, platform):
    run = wait(servers, runs["unknown"])
    assert run["state"] == "failed"
    states = servers.task_states("sales_summary", run["dag_run_id"])
    assert states["prepare"] == "failed"
    assert states["execute"] == "upstream_failed"
    assert states["publish"] == "failed"
    log = servers.task_log("sales_summary", run["dag_run_id"], "prepare")
    assert "unknown parameter 'colour'" in log, log[-3000:]

    assert not [r for r in recent_runs(platform.db, "sales_summary", limit=500) if r["dag_run_id"] == run["dag_run_id"]]
    recorded = {r["run_id"] for r in recent_runs(platform.db, "sales_summary", limit=500)}
    folders = set(platform.store.list("runs/sales_summary"))
    assert folders
    assert folders <= recorded
    for folder in folders:
        assert "colour" not in platform.store.read_bytes(Store.run_key("sales_summary", folder, "input.ipynb")).decode()


def test_failing_quality_check_ends_failed_with_output_kept(servers, runs, platform):
    run = wait(servers, runs["bad_data"])
    assert run["state"] == "failed"
    states = servers.task_states("data_quality", run["dag_run_id"])
    assert states == {"prepare": "success", "execute": "failed", "publish": "failed"}

    record = record_of(platform.db, "data_quality", run["dag_run_id"])
    assert record["status"] == "failed"
    assert "ValueError" in record["error"]
    assert record["parameters"]["dataset"] == "orders_bad.csv"
    run_id = record["run_id"]
    output = platform.store.read_json(Store.run_key("data_quality", run_id, "output.ipynb"))
    assert "data quality checks failed" in json.dumps(output)
    assert platform.store.exists(Store.run_key("data_quality", run_id, "report.html"))
    assert platform.store.read_json(Store.run_key("data_quality", run_id, "run.json"))["status"] == "failed"
    latest = Store.latest_key("data_quality")
    assert not platform.store.exists(latest) or platform.store.read_json(latest)["run_id"] != run_id


def test_a_failure_through_the_scheduler_is_mailed_and_posted_and_recorded_on_the_run(servers, notify_sinks, platform):
    """A report added while the servers ran (``servers``): triggered, failed; Airflow's notifiers tell its owner."""
    mail, hooks = notify_sinks
    servers.wait_for_dags([ALERTS], timeout=150)
    resp = servers.trigger(ALERTS, {"fail": True})
    assert resp.status_code == 200, resp.text
    run = wait(servers, resp.json())
    assert run["state"] == "failed"
    run_id = record_of(platform.db, ALERTS, run["dag_run_id"])["run_id"]

    message = mail.wait_for(lambda m: "owner-e2e@nbreports.test" in m["X-Envelope-To"])
    assert message["Subject"] == "[failed] alerts e2e"
    text = message.get_body(("html", "plain")).get_content()
    assert "ValueError: the e2e check failed" in text
    assert f"http://airflow.nbreports.test/nbreports/reports/alerts_e2e/runs/{run_id}" in text
    posted = hooks.wait_for(lambda path, body: body.get("run") == run_id)
    assert posted["event"] == "failure"
    assert posted["failed cell"] is not None
    shown = for_run(platform.db, run_id)
    assert sorted((d["channel"], d["status"], d["attempts"]) for d in shown) == [
        ("email", "sent", 1),
        ("webhook", "sent", 1),
    ]
