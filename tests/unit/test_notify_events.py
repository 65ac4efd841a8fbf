"""Which rules a finished run fires: the event table, ``recovered`` once per recovery, scrap conditions."""

from __future__ import annotations

from typing import Any

import pytest

from nbreports.notify.events import condition_holds, rules_to_fire, run_events
from nbreports.notify.spec import NotifyEvent, NotifyRule, ScrapCondition

E = NotifyEvent


@pytest.mark.parametrize(
    ("status", "retrying", "previous", "expected"),
    [
        ("success", False, None, {E.SUCCESS}),
        ("success", False, "success", {E.SUCCESS}),
        ("success", False, "failed", {E.SUCCESS, E.RECOVERED}),
        ("failed", False, "success", {E.FAILURE}),
        ("failed", False, "failed", {E.FAILURE}),
        ("failed", True, "success", {E.RETRY}),
        ("running", False, None, set()),
    ],
)
def test_the_events_of_a_finished_run(status: str, retrying: bool, previous: str | None, expected: set[E]) -> None:
    assert run_events(status, retrying=retrying, previous_status=previous) == expected


def test_recovered_fires_exactly_once_over_a_history_of_runs() -> None:
    rule = NotifyRule(on=[E.RECOVERED], channel="webhook", conn_id="hook")  # type: ignore[arg-type]
    history = ["success", "failed", "failed", "success", "success", "failed", "success"]
    fired = [
        bool(rules_to_fire([rule], status, previous_status=previous))
        for previous, status in zip([None, *history], history, strict=False)
    ]
    assert fired == [False, False, False, True, False, False, True]


def test_a_retry_fires_retry_rules_only_not_failure_rules() -> None:
    failure = NotifyRule(on=[E.FAILURE], channel="slack", conn_id="s")  # type: ignore[arg-type]
    retry = NotifyRule(on=[E.RETRY], channel="slack", conn_id="s")  # type: ignore[arg-type]
    assert rules_to_fire([failure, retry], "failed", retrying=True) == [retry]
    assert rules_to_fire([failure, retry], "failed") == [failure]


@pytest.mark.parametrize(
    ("scraps", "holds"),
    [
        ({"anomalies": 3}, True),
        ({"anomalies": 0}, False),
        ({}, False),  # the run did not glue it: stay quiet
        ({"anomalies": "many"}, False),  # not comparable with a number
        ({"anomalies": True}, False),  # a bool is not a count
    ],
)
def test_a_scrap_condition_fires_only_when_it_holds(scraps: dict[str, Any], holds: bool) -> None:
    condition = ScrapCondition(scrap="anomalies", op=">", value=0)
    rule = NotifyRule(on=[E.SUCCESS], when=condition, channel="slack", conn_id="s")  # type: ignore[arg-type]
    assert condition_holds(condition, scraps) is holds
    assert rules_to_fire([rule], "success", scraps=scraps) == ([rule] if holds else [])
