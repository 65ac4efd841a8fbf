"""Who may do what to which report, for the plugin: a thin adapter over ``nbreports.access``.

The Airflow user becomes a ``Principal`` (login name + role names; FAB users and the simple auth
manager's alike), a report's rules come from the catalog (``Report.rules``) or — for a report only
the platform database remembers, its folder deleted — from the spec its last run recorded, and the
decision is ``nbreports.access.policy.actions_for``. Airflow's own ``is_authorized_dag`` is not
asked: with FAB the DAG's ``access_control`` is written from this same policy, the simple auth
manager ignores the DAG id, and neither knows a deleted report.

Answers: 401 without a user; 404 for a report nobody knows; 403 for a report that exists but
that the user may not take the action on. The 403 message names only the action and the name
the user typed — never the report's title, team or grants. (A guessed name is thus confirmed to
exist; nothing else leaks, and lists never show it.) The page shells let an unknown name through
(the page says it is no report), so a DAG that is no report still gets its tab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Path, Request, status
from pydantic import ValidationError

from nbreports.access import audit
from nbreports.access.grants import AccessGrants
from nbreports.access.policy import Action, Principal, actions_for
from nbreports.access.rules import ReportRules, resolve_rules
from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.browse.catalog import stored_names, stored_specs
from nbreports.errors import SpecError
from nbreports.history.versions import MIN_PREFIX
from nbreports.identifiers import REPORT_NAME, RUN_ID
from nbreports_ui.services import disk_report, disk_reports, notebooks_dir, platform

ReportName = Annotated[str, Path(pattern=REPORT_NAME.pattern, description="Report name (= its DAG id)")]
RunId = Annotated[str, Path(pattern=RUN_ID.pattern, description="Report run id (nbreports, not Airflow)")]
VersionPrefix = Annotated[
    str,
    Path(
        pattern=rf"^[0-9a-fA-F]{{{MIN_PREFIX},64}}$",
        description=f"A notebook version's sha256, or a prefix of {MIN_PREFIX}+ hex digits",
    ),
]

# The simple auth manager's roles, spelled as FAB's built-in roles (so "Admin" means the same in both).
SIMPLE_ROLES = {"ADMIN": "Admin", "OP": "Op", "USER": "User", "VIEWER": "Viewer"}
CSRF_HEADER = ("x-requested-with", "nbreports")


def principal_of(user: BaseUser) -> Principal:
    """The policy's view of an Airflow user: FAB's ``.roles`` (Role objects), or the simple manager's ``.role``."""
    name = str(getattr(user, "username", None) or user.get_name())
    roles: Any = getattr(user, "roles", None)
    if roles is not None:
        return Principal.of(name, (str(getattr(r, "name", r)) for r in roles))
    role = getattr(user, "role", None)
    return Principal.of(name, [SIMPLE_ROLES.get(str(role).upper(), str(role))] if role else [])


def teams() -> TeamsConfig:
    """The teams file beside the notebooks folder (or ``NBREPORTS_TEAMS_FILE``), re-read when it changes."""
    return load_teams(teams_path(notebooks_dir()))


def stored_rules(report: str, spec: dict[str, Any], config: TeamsConfig) -> ReportRules:
    """The rules of a report known only from the database: its recorded spec, else its folder's owner alone."""
    file = f"(platform database: {report}/report.yaml)"
    try:
        grants = AccessGrants.model_validate(spec.get("access") or {})
        return resolve_rules(file, report, str(spec.get("team") or ""), grants, config)
    except (SpecError, ValidationError):
        pass
    try:
        return resolve_rules(file, report, "", AccessGrants(), config)
    except SpecError:  # no team owns the folder any more: only the admins
        empty: frozenset[str] = frozenset()
        admins = frozenset(config.admin_roles)
        return ReportRules(report, "", True, admins, empty, empty, empty, empty)


def all_rules(names: list[str] | None = None) -> dict[str, ReportRules]:
    """Every known report's rules by name: the notebooks folder's, then the database's for the others."""
    rules = {r.name: r.rules for r in disk_reports() if names is None or r.name in names}
    # only the reports not on disk need their recorded spec (their names first: the specs are big)
    wanted = [n for n in (stored_names(platform().db) if names is None else names) if n not in rules]
    if wanted:
        config = teams()
        for name, spec in stored_specs(platform().db, wanted).items():
            rules.setdefault(name, stored_rules(name, spec, config))
    return rules


def rules_of(report: str) -> ReportRules | None:
    """One report's rules, or None when no such report is known."""
    on_disk = disk_report(report)  # a dict lookup: every request of a report asks
    return on_disk.rules if on_disk is not None else all_rules([report]).get(report)


def ordered(actions: frozenset[Action]) -> list[str]:
    """Actions as the API lists them: view, execute, change."""
    return [a.value for a in Action if a in actions]


def visible_reports(user: BaseUser) -> tuple[dict[str, frozenset[Action]], bool]:
    """The reports the user may view, with every action they may take on each; and whether that is all of them."""
    who = principal_of(user)
    known = all_rules()
    visible = {name: acts for name, rules in known.items() if (acts := actions_for(who, rules))}
    return visible, len(visible) == len(known)


def is_admin(user: BaseUser) -> bool:
    """Whether the user holds one of the teams file's admin roles."""
    return not principal_of(user).roles.isdisjoint(teams().admin_roles)


def origin_of(request: Request) -> audit.Origin:
    """Where a request came from: the peer address (uvicorn's, proxy headers if it trusts them) and user agent."""
    return audit.Origin(request.client.host if request.client else None, request.headers.get("user-agent"))


@dataclass(frozen=True)
class ReportAccess:
    """The user and the report a request touches, after the permission check."""

    report: str
    user: BaseUser
    principal: Principal
    action: Action
    allowed: frozenset[Action]
    origin: audit.Origin

    @property
    def allowed_list(self) -> list[str]:
        """The user's actions on the report, in order."""
        return ordered(self.allowed)


def _forbidden(action: Action, report: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, f"you may not {action} report {report!r}")


def _check_csrf(request: Request) -> None:
    """A write with the session cookie must carry ``X-Requested-With: nbreports`` (a cross-site form cannot)."""
    name, value = CSRF_HEADER
    if "authorization" not in request.headers and request.headers.get(name) != value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"writes need the header 'X-Requested-With: {value}'")


def report_access(action: Action, *, write: str | None = None, page: bool = False) -> Any:
    """A dependency: 401 without a user, 404 for an unknown report (not for ``page``), 403 when not allowed.

    ``write`` names a write route's audited action: a refused attempt is recorded in the audit log.
    """

    def dependency(report: ReportName, user: GetUserDep, request: Request) -> ReportAccess:
        who, origin = principal_of(user), origin_of(request)
        rules = rules_of(report)
        if rules is None and not page:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report {report!r}")
        allowed = actions_for(who, rules) if rules else frozenset()
        if rules is not None and action not in allowed:
            if write:
                audit.record(
                    platform().db, actor=who.name, action=write, outcome=audit.Outcome.DENIED, report=report,
                    details={"needs": str(action), "roles": sorted(who.roles)}, origin=origin,
                )  # fmt: skip
            raise _forbidden(action, report)
        if write:
            _check_csrf(request)
        return ReportAccess(report, user, who, action, allowed, origin)

    return Depends(dependency)


def _admin(user: GetUserDep) -> BaseUser:
    if not is_admin(user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the platform admins may do this")
    return user


def change_access(write: str) -> Any:
    """The dependency of a write route needing *change*, audited as ``write``."""
    return report_access(Action.CHANGE, write=write)


ViewReport = Annotated[ReportAccess, report_access(Action.VIEW)]
ExecuteReport = Annotated[ReportAccess, report_access(Action.EXECUTE)]
ChangeReport = Annotated[ReportAccess, report_access(Action.CHANGE)]
ViewPage = Annotated[ReportAccess, report_access(Action.VIEW, page=True)]
AdminUser = Annotated[BaseUser, Depends(_admin)]
AnyUser = GetUserDep
Guard = Callable[..., ReportAccess]
