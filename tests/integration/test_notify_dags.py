"""Notifications through ``dag.test()`` on a real Airflow: Airflow's notifiers deliver to real servers.

A real SMTP server (aiosmtpd) and a real HTTP server (Slack's incoming webhook and a generic
webhook) run in this process (``tests/notify_sinks.py``); the report's rules name Airflow
connections to them (``AIRFLOW_CONN_*``). The notebook prints and glues a secret Airflow variable,
and puts it in its error: it must appear in no message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from nbreports.notify.deliveries import for_run
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import NotificationRow
from tests.helpers import make_report
from tests.integration.test_dag_factory import parse
from tests.integration.test_dags import run_dag
from tests.notify_sinks import SLACK_TOKEN, HookSink, MailSink, connections, running_sinks

pytestmark = pytest.mark.integration

TOKEN = "tok-n0tify-5ecret-77"  # noqa: S105 - the secret the messages must not carry
PARAMETERS = "fail: bool = False\nanomalies: int = 0"
CODE = """\
import scrapbook as sb
from nbreports.kernel import variable
token = variable("api_token")
print("the token is", token)
sb.glue("anomalies", anomalies)
sb.glue("token", token)
if fail:
    raise ValueError(f"bad data (token {token})")
"""
RULES = [
    {"on": ["success", "failure"], "channel": "email", "conn_id": "nbreports_smtp", "to": ["owner@nbreports.test"]},
    {"on": ["failure", "recovered"], "channel": "slack", "conn_id": "nbreports_slack"},
    {
        "on": ["success"],
        "when": {"scrap": "anomalies", "op": ">", "value": 0},
        "channel": "webhook",
        "conn_id": "nbreports_webhook",
    },
    {"on": ["recovered"], "channel": "email", "conn_id": "nbreports_smtp", "to": ["back@nbreports.test"]},
    {"on": ["retry"], "channel": "webhook", "conn_id": "nbreports_webhook"},
]


@pytest.fixture
def sinks() -> Iterator[tuple[MailSink, HookSink]]:
    with running_sinks() as pair:  # this test's own: what it counts, nobody else sends to
        yield pair


def report_env(airflow_env: dict[str, str], tmp_path: Path, mail: MailSink, hooks: HookSink) -> dict[str, str]:
    notebooks = tmp_path / "notebooks"
    spec = {"variables": ["api_token"], "retries": 1, "retry_delay": 0, "notify": RULES}
    make_report(notebooks, "alerts", PARAMETERS, CODE, spec=spec)
    return {
        **airflow_env,
        **connections(mail, hooks),
        "NBREPORTS_NOTEBOOKS_DIR": str(notebooks),
        "NBREPORTS_STORE_URL": str(tmp_path / "store"),
        "NBREPORTS_BASE_URL": "https://airflow.nbreports.test",
        "AIRFLOW_VAR_API_TOKEN": TOKEN,
    }


def to(address: str) -> Any:
    return lambda m: address in m["X-Envelope-To"]


def everything(mail: MailSink, hooks: HookSink) -> list[str]:
    return [m.as_string() for m in mail.messages] + [json.dumps(body) for _, body in hooks.posts]


def test_failure_recovery_and_a_scrap_condition_reach_email_slack_and_webhook_without_the_secret(
    airflow_env, tmp_path, sinks
):
    mail, hooks = sinks
    env = report_env(airflow_env, tmp_path, mail, hooks)

    failed = run_dag(env, "alerts", {"fail": True})
    assert failed["state"] == "failed", failed["log"][-3000:]
    run_a = failed["xcom"]["prepare"]["run_id"]
    failure = mail.wait_for(lambda m: m["Subject"] == "[failed] alerts")
    text = failure.get_body(("plain", "html")).get_content()
    assert "failed cell" in text
    assert "ValueError: bad data (token ***)" in text
    assert f"https://airflow.nbreports.test/nbreports/api/reports/alerts/runs/{run_a}/output.ipynb" in text
    retry = hooks.wait_for(lambda path, body: path == "/hook" and body["event"] == "retry")
    assert retry["run"] == run_a
    assert "bad data" in retry["error"]
    slack = hooks.wait_for(lambda path, body: path.startswith("/slack/") and "[failed]" in body["text"])
    assert "failed cell" in slack["text"]

    fine = run_dag(env, "alerts", {"anomalies": 0})
    assert fine["state"] == "success", fine["log"][-3000:]
    run_b = fine["xcom"]["prepare"]["run_id"]
    success = mail.wait_for(lambda m: m["Subject"] == "[success] alerts" and to("owner@")(m))
    (attachment,) = list(success.iter_attachments())
    assert attachment.get_filename() == f"alerts-{run_b}.html"
    assert "the token is ***" in attachment.get_content().decode()
    mail.wait_for(lambda m: to("back@")(m))  # the recovery
    hooks.wait_for(lambda path, body: path.startswith("/slack/") and "[success]" in body["text"])

    anomalous = run_dag(env, "alerts", {"anomalies": 3})
    assert anomalous["state"] == "success"
    alert = hooks.wait_for(lambda path, body: path == "/hook" and body["event"] == "success")
    assert alert["scrap anomalies"] == "3"
    assert alert["run"] == anomalous["xcom"]["prepare"]["run_id"]

    recoveries = [m for m in mail.messages if to("back@")(m)]
    assert len(recoveries) == 1  # recovered fires once, not on the next success
    assert [body["event"] for path, body in hooks.posts if path == "/hook"] == ["retry", "success"]
    assert all(TOKEN not in text and SLACK_TOKEN not in text for text in everything(mail, hooks))
    db = PlatformDB(env["AIRFLOW_CONN_NBREPORTS_DB"])
    shown = for_run(db, run_a)
    assert {(d["event"], d["channel"], d["status"]) for d in shown} == {
        ("retry", "webhook", "sent"),
        ("failure", "email", "sent"),
        ("failure", "slack", "sent"),
    }


def test_smtp_down_the_run_succeeds_and_the_reconcile_dag_delivers_the_mail_later(airflow_env, tmp_path, sinks):
    _, hooks = sinks
    down = MailSink()  # not started: its port refuses connections
    env = report_env(airflow_env, tmp_path, down, hooks)
    result = run_dag(env, "alerts", {"anomalies": 0})
    assert result["state"] == "success", result["log"][-3000:]
    run_id = result["xcom"]["prepare"]["run_id"]
    db = PlatformDB(env["AIRFLOW_CONN_NBREPORTS_DB"])
    (mailed,) = [d for d in for_run(db, run_id) if d["channel"] == "email"]
    assert (mailed["status"], mailed["attempts"]) == ("failed", 1)
    assert "Connection refused" in mailed["last_error"] or "ConnectionRefused" in mailed["last_error"]

    down.start()
    try:
        with db.engine.begin() as conn:  # as if the minute before the next try had passed
            past = datetime.now(UTC) - timedelta(seconds=1)
            conn.execute(update(NotificationRow).where(NotificationRow.run_id == run_id).values(next_attempt_at=past))
        reconciled = run_dag(env, "nbreports_reconcile")
        assert reconciled["state"] == "success", reconciled["log"][-3000:]
        assert reconciled["xcom"]["notifications"]["sent"] >= 1
        message: EmailMessage = down.wait_for(to("owner@"))
        assert message["Subject"] == "[success] alerts"
    finally:
        down.stop()
    (mailed,) = [d for d in for_run(db, run_id) if d["channel"] == "email"]
    assert (mailed["status"], mailed["attempts"], mailed["last_error"]) == ("sent", 2, None)


def test_an_unknown_connection_or_one_of_another_type_is_an_import_error_naming_file_and_field(airflow_env, tmp_path):
    notebooks = tmp_path / "notebooks"
    code = 'import scrapbook as sb\nsb.glue("anomalies", 0)'
    make_report(notebooks, "nowhere", None, code, spec={"notify": [{**RULES[1], "conn_id": "no_such_conn"}]})
    make_report(notebooks, "wrong_type", None, code, spec={"notify": [RULES[0]]})
    make_report(notebooks, "fine", None, code, spec={"notify": [RULES[2]]})
    env = {
        **airflow_env,
        "AIRFLOW_CONN_NBREPORTS_SMTP": json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9"}),
        "AIRFLOW_CONN_NBREPORTS_WEBHOOK": json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9"}),
    }
    result = parse(env, notebooks)
    assert "fine" in result["dags"]
    assert "nowhere" not in result["dags"]
    assert "wrong_type" not in result["dags"]
    (message,) = result["import_errors"].values()
    assert "nowhere/report.yaml: notify.0.conn_id: Airflow has no connection 'no_such_conn'" in message
    assert "wrong_type/report.yaml: notify.0.conn_id: connection 'nbreports_smtp' is of type 'http'" in message
    assert "email rule needs email or smtp" in message
