"""The FAB roles the platform's policy needs, created idempotently: ``python -m operators.fab_roles``.

FAB's built-in Viewer, User and Op roles hold ``DAGs`` (every DAG), so nbreports gives them to
nobody. Instead:

- ``nbr-base`` (:data:`BASE_ROLE`) holds what a person needs to use Airflow's UI and REST API at
  all — the website, the menus, and the *global* sub-DAG resources (``DAG Runs``, ``Task
  Instances``, ``Task Logs``, ``XComs``, ``DAG Code`` …) — but no DAG: FAB's
  ``is_authorized_dag`` asks for those global resources *and* the DAG's own ``DAG:<id>``
  permission, which only a report's ``access_control`` gives (``operators.access_control``). Its
  ``can_edit`` on ``Task Instances`` and ``DAG Runs`` lets people re-run and mark runs of the
  DAGs they may execute (the same check also wants ``can_edit`` on ``DAG:<id>``).
- every role the teams file names (``TeamsConfig.all_roles()``: team roles, viewer roles, extra
  roles and the personal ``nbr-user-<name>`` roles) exists, so no ``access_control`` names a
  missing role (``sync_perm_for_dag`` would raise and the DAG would become an import error).
  They start empty; the dag-processor fills them with each DAG's permissions.

Run it after ``airflow db migrate`` and before the dag-processor starts; ``--print`` lists the
roles it made sure of.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nbreports.access.teams import TeamsConfig, load_teams

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

BASE_ROLE = "nbr-base"

_READ = "can_read"
_MENU = "menu_access"
#: FAB's Viewer permissions (``FabAirflowSecurityManagerOverride.VIEWER_PERMISSIONS``) without
#: ``can_read`` on ``DAGs`` (all DAGs), plus re-running the DAGs one may execute. Also without
#: ``Assets`` and ``Asset Aliases``: FAB checks them globally (``is_authorized_asset`` ignores the
#: asset), so whoever reads them reads every report's Asset events, the restricted ones too; a
#: report's runs are seen through the report instead (its DAG runs and the plugin).
BASE_PERMISSIONS: tuple[tuple[str, str], ...] = (
    *((_READ, resource) for resource in (
        "DAG Dependencies", "DAG Code", "DAG Runs", "DAG Versions", "DAG Warnings", "Backfills", "Cluster Activity",
        "Pools", "ImportError", "Jobs", "My Password", "My Profile", "SLA Misses", "Task Instances", "Task Logs",
        "XComs", "HITL Detail", "Website", "Plugins",
    )),
    ("can_edit", "My Password"),
    ("can_edit", "My Profile"),
    ("can_edit", "Task Instances"),
    ("can_edit", "DAG Runs"),
    *((_MENU, resource) for resource in (
        "Browse", "DAGs", "DAG Dependencies", "DAG Runs", "Cluster Activity", "Documentation", "Docs",
        "Jobs", "SLA Misses", "Task Instances",
    )),
)  # fmt: skip


def policy_roles(teams: TeamsConfig) -> list[str]:
    """Every role to create: the base role and each role the teams file names (admins' excepted)."""
    return [BASE_ROLE, *sorted(teams.all_roles() - set(teams.admin_roles))]


def ensure_roles(
    session: Session, teams: TeamsConfig, base_permissions: Iterable[tuple[str, str]] = BASE_PERMISSIONS
) -> list[str]:
    """Create the roles of :func:`policy_roles` that are missing and give the base role its permissions.

    Existing roles keep their permissions (the per-DAG ones are the dag-processor's); the base
    role gets exactly ``base_permissions``. Returns the roles' names.

    :param session: a session on Airflow's metadata database (which holds FAB's tables).
    :param teams: the teams file.
    :param base_permissions: (action, resource) pairs of the base role.
    """
    from airflow.providers.fab.www.security_appless import ApplessAirflowSecurityManager

    sm = ApplessAirflowSecurityManager(session=session)
    names = policy_roles(teams)
    for name in names[1:]:
        sm.add_role(name)
    base = sm.add_role(BASE_ROLE)
    wanted = set(base_permissions)
    for perm in list(base.permissions):
        if (perm.action.name, perm.resource.name) not in wanted:
            sm.remove_permission_from_role(base, perm)
    for action, resource in sorted(wanted):
        sm.add_permission_to_role(base, sm.create_permission(action, resource))
    return names


def main(argv: list[str] | None = None) -> None:
    """Make sure of the roles, with Airflow's configured metadata database and the teams file."""
    parser = argparse.ArgumentParser(prog="python -m operators.fab_roles", description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="list the roles")
    args = parser.parse_args(argv)
    from airflow.utils.session import create_session

    with create_session() as session:
        names = ensure_roles(session, load_teams())
    if args.print:
        print("\n".join(names))


if __name__ == "__main__":
    main()
