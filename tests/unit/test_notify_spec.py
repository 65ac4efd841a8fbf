"""The ``notify:`` section is strict: each bad rule is refused with the file and the field named."""

from __future__ import annotations

import pytest

from nbreports.errors import SpecError
from nbreports.notify.spec import Channel, NotifyEvent, parse_notify

GOOD = {"on": ["failure", "recovered"], "channel": "email", "conn_id": "smtp_default", "to": ["ops@example.com"]}


def test_a_good_rule_is_parsed_into_enums_and_a_condition() -> None:
    when = {"scrap": "anomalies", "op": ">", "value": 0}
    rule = {"on": ["success"], "channel": "slack", "conn_id": "slack.ops", "when": when}
    email, slack = parse_notify([GOOD, rule], "r/report.yaml")
    assert email.on == [NotifyEvent.FAILURE, NotifyEvent.RECOVERED]
    assert email.channel is Channel.EMAIL
    assert slack.when is not None
    assert (slack.when.scrap, slack.when.op, slack.when.value) == ("anomalies", ">", 0)


def test_no_notify_section_means_no_rules() -> None:
    assert parse_notify(None, "r/report.yaml") == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"on": ["exploded"]}, "notify.0.on.0", "'success'"),
        ({"to": ["not-an-address"]}, "notify.0.to", "'not-an-address' is not an email address"),
        ({"colour": "red"}, "notify.0.colour", "unknown field"),
        ({"conn_id": "smtp; rm -rf"}, "notify.0.conn_id", "is not an Airflow connection id"),
        ({"channel": "pigeon"}, "notify.0.channel", "'email'"),
        ({"when": {"scrap": "x", "op": "in", "value": 1}}, "notify.0.when.op", "'>'"),
        ({"when": {"scrap": "x", "op": ">", "value": 1, "code": "1"}}, "notify.0.when.code", "unknown field"),
        ({"to": [], "subscribers": False}, "notify.0", "needs recipients"),
        ({"channel": "slack"}, "notify.0", "use channel email"),
        ({"channel": "webhook", "to": [], "subscribers": True}, "notify.0", "'subscribers' name email recipients"),
        ({"report": "fax"}, "notify.0.report", "'attach'"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_file_and_field(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_notify([{**GOOD, **change}], "r/report.yaml")
    assert caught.value.file == "r/report.yaml"
    assert caught.value.field == field
    assert words in caught.value.problem


def test_slack_and_webhook_rules_post_to_their_connection_alone() -> None:
    slack, hook = parse_notify(
        [
            {"on": ["failure"], "channel": "slack", "conn_id": "s"},
            {"on": ["retry"], "channel": "webhook", "conn_id": "w"},
        ],
        "r/report.yaml",
    )
    assert (slack.channel, hook.channel) == (Channel.SLACK, Channel.WEBHOOK)
    assert slack.to == hook.to == []


def test_a_missing_channel_is_named() -> None:
    with pytest.raises(SpecError, match=r"notify\.0\.channel: required field is missing"):
        parse_notify([{"on": ["success"], "conn_id": "x", "subscribers": True}], "r/report.yaml")
