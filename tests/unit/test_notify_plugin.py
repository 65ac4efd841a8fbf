"""The plugin's side of notifications: subscribing from a report's page, and a run's deliveries on its JSON.

Same app and platform as ``test_access_plugin`` (its ``env`` fixture): the subscriptions are read
back from the platform database, the deliveries are planned and tried through the core's
``nbreports.notify.deliveries``, as a run's publish step does.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nbreports.access.policy import Principal
from nbreports.notify import deliveries, subscriptions
from tests.unit import test_access_plugin as base
from tests.unit.test_access_plugin_writes import WRITE

env = base.env  # the fixture: the plugin's app over copies of the examples, a few runs of each
as_ = base.as_
REPORT = "sales_summary"  # analytics' (alice: change); carol may view it; dave may not
URL = f"/api/reports/{REPORT}/subscription"
ALICE = "alice@analytics.example.com"


@pytest.fixture(autouse=True)
def _notify_env(env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Alice's FAB account has an address, carol's none."""
    monkeypatch.setattr(base.USERS["alice"], "email", ALICE, raising=False)


def put(env: SimpleNamespace, user: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return env.client.put(URL, json=body, headers=as_(user, **{**WRITE, **headers}))


def stored(env: SimpleNamespace, report: str = REPORT) -> dict[Principal, str]:
    return subscriptions.subscribers(env.platform.db, report)


def entries(env: SimpleNamespace, action: str) -> list[dict[str, Any]]:
    resp = env.client.get("/api/audit", params={"action": action}, headers=as_("root"))
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def test_subscribe_and_unsubscribe_round_trip_with_the_users_roles(env: SimpleNamespace) -> None:
    assert env.client.get(URL, headers=as_("alice")).json() == {"subscribed": False, "email": None}
    resp = put(env, "alice")  # no body: the account's own address
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"subscribed": True, "email": ALICE}
    assert stored(env) == {Principal.of("alice", ["Analytics"]): ALICE}
    assert env.client.get(URL, headers=as_("alice")).json() == {"subscribed": True, "email": ALICE}

    other = "alice.elsewhere@example.com"
    assert put(env, "alice", {"email": f" {other} "}).json()["email"] == other  # an address given: that one
    assert stored(env) == {Principal.of("alice", ["Analytics"]): other}  # updated, not doubled
    assert put(env, "alice", {"email": " "}).json()["email"] == ALICE  # a blank address: the account's again
    put(env, "alice", {"email": other})
    assert put(env, "carol", {"email": "carol@example.com"}).status_code == 200  # view is enough; no roles
    assert stored(env)[Principal.of("carol", [])] == "carol@example.com"
    assert env.client.get(URL, headers=as_("carol")).json() == {"subscribed": True, "email": "carol@example.com"}

    for _ in range(2):  # unsubscribing twice is no error
        resp = env.client.delete(URL, headers=as_("alice", **WRITE))
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"subscribed": False, "email": None}  # the same shape as GET
    assert env.client.get(URL, headers=as_("alice")).json() == {"subscribed": False, "email": None}
    assert list(stored(env)) == [Principal.of("carol", [])]
    assert stored(env, "sales_digest") == {}


def test_without_view_it_is_403_and_nothing_is_written(env: SimpleNamespace) -> None:
    for user in ("dave", "carol"):  # dave sees no report, carol not hr_headcount
        report = REPORT if user == "dave" else "hr_headcount"
        url = f"/api/reports/{report}/subscription"
        for method in ("GET", "PUT", "DELETE"):
            resp = env.client.request(method, url, json={"email": "x@example.com"}, headers=as_(user, **WRITE))
            assert resp.status_code == 403, (user, method)
            assert resp.json() == {"detail": f"you may not view report {report!r}"}
        assert stored(env, report) == {}
    denied = [(e["actor"], e["action"], e["outcome"]) for e in entries(env, "subscribe")]
    assert denied == [("carol", "subscribe", "denied"), ("dave", "subscribe", "denied")]
    assert env.client.put(URL, json={}).status_code == 401


def test_a_cookie_write_needs_the_header(env: SimpleNamespace) -> None:
    for method in ("PUT", "DELETE"):
        resp = env.client.request(method, URL, headers=as_("alice"))
        assert resp.status_code == 403
        assert "X-Requested-With: nbreports" in resp.json()["detail"]
    assert stored(env) == {}
    bearer = put(env, "alice", Authorization="Bearer token", **{"X-Requested-With": ""})
    assert bearer.status_code == 200, bearer.text  # a token needs no header


@pytest.mark.parametrize("address", ["not-an-address", "alice@", "a b@example.com", "x@localhost"])
def test_a_bad_address_is_400_naming_email(env: SimpleNamespace, address: str) -> None:
    resp = put(env, "alice", {"email": address})
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert detail.startswith("subscription: email: ")
    assert "is not an email address" in detail
    assert stored(env) == {}
    (entry,) = entries(env, "subscribe")
    assert (entry["outcome"], entry["details"]["field"]) == ("invalid", "email")
    assert address not in str(entry["details"])  # the audit log keeps no address


@pytest.mark.parametrize("body", [None, {}, {"email": None}, {"email": "  "}])
def test_no_address_at_all_is_400_naming_email(env: SimpleNamespace, body: dict[str, Any] | None) -> None:
    resp = put(env, "carol", body)  # carol's account has no address
    assert resp.status_code == 400
    assert resp.json()["detail"].startswith("subscription: email: is required")
    assert put(env, "simple-admin").status_code == 400  # the simple auth manager's users have none either
    assert stored(env) == {}


def test_a_body_that_is_no_subscription_is_422(env: SimpleNamespace) -> None:
    assert put(env, "alice", {"email": ["a@example.com"]}).status_code == 422
    assert put(env, "alice", {"address": "a@example.com"}).status_code == 422
    assert stored(env) == {}


def test_the_audit_log_has_the_subscription_without_the_address(env: SimpleNamespace) -> None:
    put(env, "alice")
    env.client.delete(URL, headers=as_("alice", **WRITE))
    resp = env.client.get(f"/api/reports/{REPORT}/audit", headers=as_("carol"))
    items = resp.json()["items"]
    assert [(e["actor"], e["action"], e["outcome"]) for e in items] == [
        ("alice", "unsubscribe", "done"),
        ("alice", "subscribe", "done"),
    ]
    assert items[1]["details"] == {"address": "account", "roles": ["Analytics"]}
    assert items[0]["details"] == {"was_subscribed": True}
    assert ALICE not in resp.text
    assert items[1]["report"] == REPORT


def plan_deliveries(env: SimpleNamespace, run_id: str) -> None:
    """A failure mail to two people that was refused once, and a Slack message that went out."""
    db = env.platform.db
    mail = deliveries.plan(
        db, run_id=run_id, report=REPORT, event="failure", rule=0, channel="email", conn_id="smtp_default",
        recipients=[ALICE, "carol@example.com"], options={"report": "attach", "error": "ValueError: boom"},
    )  # fmt: skip
    slack = deliveries.plan(
        db, run_id=run_id, report=REPORT, event="failure", rule=1, channel="slack", conn_id="slack_ops", recipients=[]
    )
    assert mail is not None
    assert slack is not None
    deliveries.record_attempt(db, mail.id, "SMTPRecipientsRefused: {'carol@example.com': (550, 'no')}", 5)
    deliveries.record_attempt(db, slack.id, None, 5)


def test_the_run_json_carries_notifications_with_addresses_only_for_change(env: SimpleNamespace) -> None:
    run_id = base.run_of(REPORT)
    url = f"/api/reports/{REPORT}/runs/{run_id}"
    assert env.client.get(url, headers=as_("alice")).json()["notifications"] == []
    plan_deliveries(env, run_id)

    owner = env.client.get(url, headers=as_("alice")).json()["notifications"]
    assert [(n["event"], n["channel"], n["conn_id"], n["status"], n["attempts"]) for n in owner] == [
        ("failure", "email", "smtp_default", "failed", 1),
        ("failure", "slack", "slack_ops", "sent", 1),
    ]
    mail, slack = owner
    assert mail["recipients"] == [ALICE, "carol@example.com"]
    assert "carol@example.com" in mail["last_error"]
    assert mail["next_attempt_at"]
    assert mail["sent_at"] is None
    assert slack["sent_at"]
    assert slack["last_error"] is None
    assert slack["recipients"] == []
    assert set(mail) == {
        "id",
        "event",
        "channel",
        "conn_id",
        "recipients",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "next_attempt_at",
    }  # fmt: skip  (not the rule's options)

    resp = env.client.get(url, headers=as_("carol"))  # may view, not change
    viewer = resp.json()["notifications"]
    assert [n["recipients"] for n in viewer] == [2, 0]
    assert viewer[0]["last_error"] == "SMTPRecipientsRefused: {'<recipient>': (550, 'no')}"
    assert {k: v for k, v in viewer[0].items() if k not in ("recipients", "last_error")} == {
        k: v for k, v in mail.items() if k not in ("recipients", "last_error")
    }
    assert "@" not in resp.text.split('"notifications"')[1]
    assert env.client.get(url, headers=as_("dave")).status_code == 403
    other = base.run_of("sales_digest")
    assert env.client.get(f"/api/reports/sales_digest/runs/{other}", headers=as_("alice")).json()["notifications"] == []
