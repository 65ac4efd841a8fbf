"""One report's access rules, resolved against the teams file once when the report is loaded.

Resolving is where bad input is refused (a ``SpecError`` naming ``report.yaml`` and the field):
a team that does not exist or does not own the folder, a grant naming an unknown team, role or
person, a restricted team's report shared outside the team. What comes out is a few frozen sets,
so each decision is a handful of set lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbreports.access.grants import AccessGrants, Grantees
from nbreports.access.teams import TeamsConfig
from nbreports.errors import SpecError


@dataclass(frozen=True)
class ReportRules:
    """Who may do what to one report, as role and user sets."""

    report: str
    team: str
    restricted: bool
    member_roles: frozenset[str]  # every action: the owning team's roles and the admins'
    execute_roles: frozenset[str]
    execute_users: frozenset[str]
    view_roles: frozenset[str]
    view_users: frozenset[str]


def _check_grantees(file: str, field: str, who: Grantees, teams: TeamsConfig) -> None:
    problems = [
        (f"{field}.teams", [t for t in who.teams if t not in teams.teams], "team", sorted(teams.teams)),
        (f"{field}.roles", [r for r in who.roles if r not in teams.known_roles()], "role", sorted(teams.known_roles())),
        (f"{field}.users", [u for u in who.users if u not in teams.users], "user", sorted(teams.users)),
    ]
    for where, unknown, kind, known in problems:
        if unknown:
            raise SpecError(
                file, where, f"unknown {kind} {unknown[0]!r}; the teams file knows {', '.join(known) or 'none'}"
            )


def _roles(who: Grantees, teams: TeamsConfig) -> frozenset[str]:
    return frozenset(who.roles) | {r for t in who.teams for r in teams.teams[t].roles}


def resolve_team(file: str, report: str, spec_team: str, teams: TeamsConfig) -> str:
    """The team owning the report's folder; ``SpecError`` if none does or the spec names another."""
    owner = teams.owner_of(report)
    if spec_team and spec_team not in teams.teams:
        raise SpecError(
            file, "team", f"unknown team {spec_team!r}; the teams file knows {', '.join(sorted(teams.teams))}"
        )
    if owner is None:
        raise SpecError(file, "(folder)", f"no team in the teams file owns report folder {report!r}; ask the admins")
    if spec_team and spec_team != owner:
        raise SpecError(
            file,
            "team",
            f"team {spec_team!r} does not own report folder {report!r} (the teams file gives it to {owner!r})",
        )
    return owner


def resolve_rules(file: str, report: str, spec_team: str, grants: AccessGrants, teams: TeamsConfig) -> ReportRules:
    """Check a report's team and grants against the teams file; its rules as sets."""
    team_name = resolve_team(file, report, spec_team, teams)
    team = teams.teams[team_name]
    _check_grantees(file, "access.view", grants.view, teams)
    _check_grantees(file, "access.execute", grants.execute, teams)
    execute_roles, view_roles = _roles(grants.execute, teams), _roles(grants.view, teams)
    members = frozenset(team.roles)
    if team.restricted:
        outside = (execute_roles | view_roles) - members
        named = {*grants.view.users, *grants.execute.users}
        if outside or named:
            who = sorted(outside) + sorted(named)
            raise SpecError(
                file,
                "access",
                f"team {team_name!r} is restricted (personal data): its reports cannot be shared outside it "
                f"(this grant names {', '.join(who)})",
            )
    else:
        view_roles |= frozenset(teams.viewer_roles)
    return ReportRules(
        report=report,
        team=team_name,
        restricted=team.restricted,
        member_roles=members | frozenset(teams.admin_roles),
        execute_roles=execute_roles,
        execute_users=frozenset(grants.execute.users),
        view_roles=view_roles,
        view_users=frozenset(grants.view.users),
    )
