"""Which deliveries a finished run makes, to whom, and how each try is recorded and retried.

A real SQLite platform database and local store; the senders are an in-process fake that records
what it is handed (the Airflow notifiers are tested against real servers in tests/integration).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from nbreports.access.policy import Principal
from nbreports.access.teams import TeamsConfig
from nbreports.errors import NotifyError
from nbreports.notify import deliveries, dispatch, senders
from nbreports.notify.deliveries import DeliveryStatus
from nbreports.notify.senders import Outgoing
from nbreports.notify.spec import Channel
from nbreports.notify.subscriptions import subscribe, unsubscribe
from nbreports.redaction.redact import Redactor
from nbreports.reports.catalog import Report, load_report
from nbreports.runs.model import Platform
from nbreports.storage.store import Store
from nbreports.storage.tables import NotificationRow
from tests.helpers import make_report

SECRET = "s3cr3t-token-value"  # noqa: S105 - the fake secret the test hunts for
TEAMS = TeamsConfig.model_validate(
    {
        "teams": {
            "analytics": {"roles": ["Analytics"], "folders": ["sales"], "email": ["analytics@corp.example"]},
            "people": {"roles": ["People"], "folders": ["hr_*"], "restricted": True},
        }
    }
)
RULES = [
    {"on": ["success", "failure"], "channel": "email", "conn_id": "smtp", "to": ["ops@corp.example"]},
    {"on": ["recovered"], "channel": "slack", "conn_id": "slack"},
    {"on": ["success"], "channel": "webhook", "conn_id": "hook", "when": {"scrap": "anomalies", "op": ">", "value": 0}},
    {"on": ["success"], "channel": "email", "conn_id": "smtp", "teams": ["analytics"], "subscribers": True},
    {"on": ["retry"], "channel": "webhook", "conn_id": "hook"},
]


class Outbox:
    """The fake senders: every Outgoing they were handed, and an error to raise while ``down``."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.down = False

    def __call__(self, out: Outgoing) -> None:
        if self.down:
            raise ConnectionRefusedError(f"[Errno 111] Connection refused (token {SECRET})")
        self.sent.append(out)


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    box = Outbox()
    saved = dict(senders._SENDERS)
    for channel in Channel:
        senders.register_sender(channel, box)
    yield box
    senders._SENDERS.clear()
    senders._SENDERS.update(saved)


@pytest.fixture
def platform(home: Path) -> Iterator[Platform]:
    platform = Platform.from_settings()
    yield platform
    platform.db.engine.dispose()


@pytest.fixture
def report(notebooks: Path) -> Report:
    code = 'import scrapbook as sb\nsb.glue("anomalies", 0)'
    folder = make_report(notebooks, "sales", None, code, spec={"notify": RULES})
    return load_report(folder, teams=TEAMS)


def finished(platform: Platform, status: str, minutes: int, **fields: Any) -> str:
    """Record a run of ``sales`` that ended ``status``, ``minutes`` after a fixed start, with its HTML."""
    run_id = f"2026-12-03T10{minutes:02d}00-{status}"
    platform.db.upsert_report("sales", "Sales daily", "ana", "analytics", {}, [])
    platform.db.start_run(
        run_id=run_id,
        report="sales",
        status=status,
        parameters={"region": "emea"},
        notebook_version="a" * 64,
        executor="local",
        started_at=datetime(2026, 12, 3, 10, tzinfo=UTC) + timedelta(minutes=minutes),
        html_uri="report.html",
        **fields,
    )
    platform.store.write_bytes(Store.run_key("sales", run_id, "report.html"), b"<html><body><p>chart</p></body></html>")
    return run_id


def notify(platform: Platform, report: Report, run_id: str, **kwargs: Any) -> list[NotificationRow]:
    return dispatch.notify_run(platform, report, run_id, TEAMS, Redactor([SECRET]), **kwargs)


def test_a_first_success_mails_the_addresses_and_the_team_with_the_report_attached(platform, report, outbox):
    rows = notify(platform, report, finished(platform, "success", 0, scraps={"anomalies": 0}))
    assert [(r.rule, r.event, r.status) for r in rows] == [(0, "success", "sent"), (3, "success", "sent")]
    to_ops, to_team = outbox.sent
    assert to_ops.recipients == ["ops@corp.example"]
    assert to_team.recipients == ["analytics@corp.example"]
    assert to_ops.attachment is not None
    assert to_ops.attachment[0].endswith(".html")
    assert b"chart" in to_ops.attachment[1]
    assert to_ops.message.subject == "[success] Sales daily"


def test_recovered_fires_once_after_failures_and_not_on_the_next_success(platform, report, outbox):
    notify(platform, report, finished(platform, "failed", 0, error="ValueError: boom", failed_cell=2))
    notify(platform, report, finished(platform, "failed", 1, error="ValueError: boom", failed_cell=2))
    recovering = notify(platform, report, finished(platform, "success", 2))
    again = notify(platform, report, finished(platform, "success", 3))
    assert [(r.rule, r.event) for r in recovering] == [(0, "success"), (1, "recovered"), (3, "success")]
    assert [(r.rule, r.event) for r in again] == [(0, "success"), (3, "success")]


def test_a_failure_message_names_the_cell_and_error_and_links_the_output_notebook(platform, report, outbox):
    run_id = finished(platform, "failed", 0, error="ValueError: boom", failed_cell=2, output_uri="out")
    notify(platform, report, run_id)
    (mail,) = outbox.sent
    assert mail.message.fields["failed cell"] == "2"
    assert mail.message.fields["error"] == "ValueError: boom"
    assert mail.message.fields["output notebook"].endswith(f"/nbreports/api/reports/sales/runs/{run_id}/output.ipynb")


def test_a_scrap_condition_fires_only_when_it_holds(platform, report, outbox):
    quiet = notify(platform, report, finished(platform, "success", 0, scraps={"anomalies": 0}))
    loud = notify(platform, report, finished(platform, "success", 1, scraps={"anomalies": 3}))
    assert 2 not in [r.rule for r in quiet]
    assert 2 in [r.rule for r in loud]
    hook = next(o for o in outbox.sent if o.channel is Channel.WEBHOOK)
    assert hook.payload["scrap anomalies"] == "3"
    assert hook.payload["event"] == "success"


def test_publishing_a_run_again_sends_nothing_twice(platform, report, outbox):
    run_id = finished(platform, "success", 0)
    assert len(notify(platform, report, run_id)) == 2
    assert notify(platform, report, run_id) == []
    assert len(outbox.sent) == 2


def test_each_failed_try_of_a_run_tells_the_retry_rule_with_that_tries_error(platform, report, outbox):
    run_id = finished(platform, "running", 0)
    first = notify(platform, report, run_id, retrying=True, try_number=1, error="KernelDied")
    second = notify(platform, report, run_id, retrying=True, try_number=2, error="KernelDied again")
    assert [(r.rule, r.event, r.try_number) for r in first + second] == [(4, "retry", 1), (4, "retry", 2)]
    assert [o.payload["error"] for o in outbox.sent] == ["KernelDied", "KernelDied again"]
    assert outbox.sent[0].message.subject == "[retry] Sales daily"


def test_subscribers_are_written_to_only_while_their_roles_may_view_the_report(platform, report, outbox):
    subscribe(platform.db, "sales", Principal.of("alice", ["Analytics"]), "alice@corp.example")
    subscribe(platform.db, "sales", Principal.of("mallory", ["Nobody"]), "mallory@corp.example")
    notify(platform, report, finished(platform, "success", 0))
    assert outbox.sent[1].recipients == ["analytics@corp.example", "alice@corp.example"]
    assert unsubscribe(platform.db, "sales", "alice")
    assert not unsubscribe(platform.db, "sales", "alice")


def test_a_bad_subscription_address_is_refused_naming_it(platform):
    with pytest.raises(ValueError, match="'alice@' is not an email address"):
        subscribe(platform.db, "sales", Principal.of("alice", []), "alice@")


def test_a_channel_that_is_down_is_recorded_failed_redacted_and_retried_until_it_gives_up(platform, report, outbox):
    outbox.down = True
    run_id = finished(platform, "success", 0)
    rows = notify(platform, report, run_id)
    assert {r.status for r in rows} == {str(DeliveryStatus.FAILED)}
    assert all(r.attempts == 1 and SECRET not in (r.last_error or "") for r in rows)
    assert "ConnectionRefusedError" in (rows[0].last_error or "")
    assert deliveries.due(platform.db) == []  # not before its next try is due
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert len(deliveries.due(platform.db, later)) == 2
    for attempt in range(2, platform.settings.notify_max_attempts + 1):
        _make_due(platform)
        counts = dispatch.retry_due(platform)
        expected = DeliveryStatus.GAVE_UP if attempt == platform.settings.notify_max_attempts else DeliveryStatus.FAILED
        assert counts[str(expected)] == 2
    outbox.down = False
    _make_due(platform)
    assert dispatch.retry_due(platform)[str(DeliveryStatus.SENT)] == 0  # given up is final
    assert outbox.sent == []


def test_a_retry_delivers_what_failed_and_the_run_shows_each_delivery(platform, report, outbox):
    outbox.down = True
    run_id = finished(platform, "success", 0)
    notify(platform, report, run_id)
    outbox.down = False
    _make_due(platform)
    assert dispatch.retry_due(platform)[str(DeliveryStatus.SENT)] == 2
    shown = deliveries.for_run(platform.db, run_id)
    assert [(d["status"], d["attempts"], d["last_error"]) for d in shown] == [("sent", 2, None)] * 2
    assert shown[0]["sent_at"] is not None


def test_a_rule_for_subscribers_with_none_who_may_view_sends_and_records_nothing(platform, notebooks, outbox):
    rule = {"on": ["success"], "channel": "email", "conn_id": "smtp", "subscribers": True}
    code = 'import scrapbook as sb\nsb.glue("anomalies", 0)'
    report = load_report(make_report(notebooks, "sales", None, code, spec={"notify": [rule]}), teams=TEAMS)
    subscribe(platform.db, "sales", Principal.of("mallory", ["Nobody"]), "mallory@corp.example")
    run_id = finished(platform, "success", 0)
    assert notify(platform, report, run_id) == []
    assert deliveries.for_run(platform.db, run_id) == []
    assert outbox.sent == []


def test_without_airflow_no_sender_is_registered(monkeypatch):
    monkeypatch.setattr(senders, "_SENDERS", {})
    with pytest.raises(NotifyError, match="sent from Airflow tasks"):
        senders.get_sender(Channel.EMAIL)


def _make_due(platform: Platform) -> None:
    with platform.db.engine.begin() as conn:
        conn.execute(update(NotificationRow).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_an_inline_report_puts_the_summary_at_the_top_of_the_reports_own_page(platform, notebooks, outbox):
    rule = {"on": ["success"], "channel": "email", "conn_id": "smtp", "to": ["ops@corp.example"], "report": "inline"}
    report = load_report(make_report(notebooks, "sales", None, "1", spec={"notify": [rule]}), teams=TEAMS)
    notify(platform, report, finished(platform, "success", 0))
    (mail,) = outbox.sent
    assert mail.attachment is None
    html = mail.message.html_body or ""
    assert html.startswith("<html><body><h2>[success] Sales daily</h2>")
    assert html.endswith("<hr><p>chart</p></body></html>")


def test_a_report_over_the_size_limit_is_a_link_not_an_attachment(platform, report, outbox, monkeypatch):
    monkeypatch.setattr(platform.settings, "notify_attach_max_bytes", 10)
    notify(platform, report, finished(platform, "success", 0))
    mail = outbox.sent[0]
    assert mail.attachment is None
    assert "over the 10-byte limit of an email" in (mail.message.html_body or "")
    assert "Open the run in Airflow" in (mail.message.html_body or "")
