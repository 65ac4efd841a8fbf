"""The one decision: may this person take this action on this report? Pure: no I/O, no Airflow.

Every surface asks it — the DAG factory (as each DAG's ``access_control``), the UI plugin's routes
and lists, the kernel's upstream scraps, ``nbr access``. *execute* implies *view*; *change* implies
both and belongs to the owning team (and the admins) alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from nbreports.access.rules import ReportRules
from nbreports.access.teams import user_role


class Action(StrEnum):
    """What one may do to a report."""

    VIEW = "view"  # catalog entry, history, HTML, output notebook, scraps, logs, versions, diffs
    EXECUTE = "execute"  # trigger (with parameters), re-run, force past the cache
    CHANGE = "change"  # new version, restore, release, delete runs, edit access


ALL_ACTIONS = frozenset(Action)
_EXECUTE = frozenset({Action.VIEW, Action.EXECUTE})
_VIEW = frozenset({Action.VIEW})
_NONE: frozenset[Action] = frozenset()


@dataclass(frozen=True)
class Principal:
    """Who asks: a login name and the Airflow roles the directory (or the admin) gave them."""

    name: str
    roles: frozenset[str]

    @classmethod
    def of(cls, name: str, roles: Iterable[str]) -> Principal:
        """A principal from any iterable of role names."""
        return cls(name=name, roles=frozenset(roles))


def actions_for(who: Principal, rules: ReportRules) -> frozenset[Action]:
    """Every action ``who`` may take on the report the rules are for."""
    if not who.roles.isdisjoint(rules.member_roles):
        return ALL_ACTIONS
    if rules.restricted:
        return _NONE
    if who.name in rules.execute_users or not who.roles.isdisjoint(rules.execute_roles):
        return _EXECUTE
    if who.name in rules.view_users or not who.roles.isdisjoint(rules.view_roles):
        return _VIEW
    return _NONE


def allowed(who: Principal, rules: ReportRules, action: Action) -> bool:
    """True when ``who`` may take ``action`` on the report."""
    return action in actions_for(who, rules)


def role_actions(rules: ReportRules, admin_roles: Iterable[str] = ()) -> dict[str, frozenset[Action]]:
    """Which Airflow role gets which actions on the report's DAG (its ``access_control``).

    Named people get their personal role (``nbr-user-<name>``); ``admin_roles`` are left out
    (they hold every DAG already).
    """
    granted: dict[str, frozenset[Action]] = {}
    for roles, actions in (
        (rules.view_roles | {user_role(u) for u in rules.view_users}, _VIEW),
        (rules.execute_roles | {user_role(u) for u in rules.execute_users}, _EXECUTE),
        (rules.member_roles, ALL_ACTIONS),
    ):
        for role in roles:
            granted[role] = granted.get(role, _NONE) | actions
    for role in admin_roles:
        granted.pop(role, None)
    return granted
