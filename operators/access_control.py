"""The platform's decision as a DAG's ``access_control``: view / execute / change → FAB permissions.

The DAG factory asks the policy (``nbreports.access.policy.role_actions``) which role may do what
to a report and writes the answer here as FAB's per-DAG permissions. The dag-processor syncs them
into the roles every time it writes the DAG (``airflow/dag_processing/collection.py``:
``_sync_dag_perms`` → ``FabAirflowSecurityManagerOverride.sync_perm_for_dag``, which also revokes
the per-DAG permissions a role no longer has, Admin excepted, and raises
``DagAccessControlValidationError`` — an import error of the DAG — for a role that does not exist:
``python -m operators.fab_roles`` creates every role the policy names beforehand).

Which check in ``airflow/providers/fab/auth_manager/fab_auth_manager.py``
(``FabAuthManager.is_authorized_dag``) each permission satisfies:

- **view** → ``can_read`` on ``DAG:<id>``: ``GET`` on the DAG itself (``_is_authorized_dag``), the
  DAG in ``GET /api/v2/dags`` (``get_authorized_dag_ids``) and the second half of every ``GET`` on
  a sub-entity (runs, task instances, logs, XComs, code, versions: "scenario 3" checks ``GET`` on
  the DAG *and* ``can_read`` on the global resource ``DAG Runs`` / ``Task Instances`` /
  ``Task Logs`` / ``XComs`` …, which the base role of ``operators.fab_roles`` holds: alone they
  open no DAG). ``can_read`` on ``DAG Run:<id>`` is the per-DAG alternative FAB accepts for runs.
- **execute** → adds ``can_create`` on ``DAG Run:<id>`` and ``can_edit`` on ``DAG:<id>``: triggering
  is ``POST`` with ``DagAccessEntity.RUN``, which needs ``can_create`` on ``DAG Runs`` or on
  ``DAG Run:<id>`` *and* ``PUT`` (= ``can_edit``) on the DAG, since every non-``GET`` on a
  sub-entity asks ``PUT`` on its DAG. So FAB cannot trigger without ``can_edit`` on the DAG, which
  also allows pausing it; re-running (clearing task instances, ``PUT`` on ``TASK_INSTANCE``) needs
  the same ``can_edit`` plus the base role's global ``can_edit`` on ``Task Instances``/``DAG Runs``.
- **change** → adds ``can_delete`` on ``DAG:<id>`` (``DELETE`` on the DAG) and on ``DAG Run:<id>``
  (deleting runs). What else *change* allows (new versions, restore, grants) the UI plugin checks
  through the policy.

``DAG Run:<id>`` accepts only ``can_read``, ``can_create``, ``can_delete`` and ``menu_access``
(``airflow/providers/fab/www/security/permissions.py``: ``RESOURCE_DETAILS_MAP``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nbreports.access.policy import Action

DAGS = "DAGs"  # FAB's RESOURCE_DAG: becomes DAG:<dag_id>
DAG_RUNS = "DAG Runs"  # FAB's RESOURCE_DAG_RUN: becomes DAG Run:<dag_id>

#: the FAB permissions each action adds, by DAG-level resource
PERMISSIONS: dict[Action, dict[str, frozenset[str]]] = {
    Action.VIEW: {DAGS: frozenset({"can_read"}), DAG_RUNS: frozenset({"can_read"})},
    Action.EXECUTE: {DAGS: frozenset({"can_read", "can_edit"}), DAG_RUNS: frozenset({"can_read", "can_create"})},
    Action.CHANGE: {
        DAGS: frozenset({"can_read", "can_edit", "can_delete"}),
        DAG_RUNS: frozenset({"can_read", "can_create", "can_delete"}),
    },
}


def permissions_for(actions: Iterable[Action]) -> dict[str, set[str]]:
    """The DAG-level FAB permissions of a set of actions (execute implies view, change both).

    :param actions: what a role may do to the report.
    """
    granted: dict[str, set[str]] = {}
    for action in actions:
        for resource, names in PERMISSIONS[Action(action)].items():
            granted.setdefault(resource, set()).update(names)
    return granted


def access_control(role_actions: Mapping[str, Iterable[Action]]) -> dict[str, dict[str, set[str]]]:
    """A DAG's ``access_control`` from the policy's role → actions (``{}``: nobody but the admins).

    Always a dict, never ``None``: ``sync_perm_for_dag`` revokes stale grants only when it gets a
    mapping, and Airflow's serializer keeps ``{}`` apart from ``None`` for this field.

    :param role_actions: ``nbreports.access.policy.role_actions`` of the report.
    """
    control = {role: permissions_for(actions) for role, actions in sorted(role_actions.items())}
    return {role: perms for role, perms in control.items() if perms}
