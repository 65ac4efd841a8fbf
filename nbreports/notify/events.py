"""Which notify rules a finished run fires: a pure decision on its status, its predecessor's and its scraps.

``recovered`` fires on a success whose previous run of the same report failed, so it fires once per
recovery: the next success has a successful predecessor. A condition on a scrap the run lacks, or
of a type that cannot be compared, does not hold (the rule stays quiet rather than guessing).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nbreports.notify.spec import NotifyEvent, NotifyRule, ScrapCondition

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def run_events(status: str, *, retrying: bool, previous_status: str | None) -> set[NotifyEvent]:
    """The events of a run that ended in ``status`` (``success``/``failed``), given the report's previous run."""
    if retrying:
        return {NotifyEvent.RETRY}
    if status == "success":
        events = {NotifyEvent.SUCCESS}
        if previous_status == "failed":
            events.add(NotifyEvent.RECOVERED)
        return events
    if status == "failed":
        return {NotifyEvent.FAILURE}
    return set()


def condition_holds(condition: ScrapCondition | None, scraps: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds on the run's scraps (no condition always holds)."""
    if condition is None:
        return True
    if condition.scrap not in scraps:
        return False
    value = scraps[condition.scrap]
    if isinstance(value, bool) != isinstance(condition.value, bool):
        return False  # True > 0 is Python trivia, not what the author meant
    try:
        return bool(_OPS[condition.op](value, condition.value))
    except TypeError:
        return False


def rules_to_fire(
    rules: Sequence[NotifyRule],
    status: str,
    *,
    retrying: bool = False,
    previous_status: str | None = None,
    scraps: Mapping[str, Any] | None = None,
) -> list[NotifyRule]:
    """The rules, in spec order, that this finished run fires."""
    events = run_events(status, retrying=retrying, previous_status=previous_status)
    return [r for r in rules if events & set(r.on) and condition_holds(r.when, scraps or {})]
