"""``nbr access``: the policy as the operator sees it, and ``--as USER`` for every other command.

``nbr`` itself acts with the platform's own credentials; ``--as`` evaluates the policy for a
person first (their roles: ``--role``, else what the teams file's ``users:`` says), so an
operator can do something on someone's behalf, or see what they would be refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nbreports.access.policy import ALL_ACTIONS, Action, Principal, actions_for
from nbreports.access.rules import ReportRules
from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.cli.search import maintenance_action
from nbreports.errors import AccessDenied
from nbreports.settings import Settings

#: The action each subcommand takes on its report; "admin" ones touch every report at once.
COMMAND_ACTIONS: dict[str, Action | str] = {
    "run": Action.EXECUTE,
    "history": Action.VIEW,
    "pod-spec": Action.VIEW,
    "versions": Action.VIEW,
    "show": Action.VIEW,
    "restore": Action.CHANGE,
    "backup": "admin",
    "restore-backup": "admin",
    "cache": "admin",
}


def principal(name: str, roles: list[str] | None, teams: TeamsConfig) -> Principal:
    """The person ``--as`` names: the roles given, else the ones the teams file lists for them."""
    known = teams.users.get(name)
    return Principal.of(name, roles if roles else (known.roles if known else []))


def _teams_and_rules(settings: Settings) -> tuple[TeamsConfig, dict[str, ReportRules]]:
    from nbreports.reports.catalog import load_reports

    notebooks = settings.resolved_notebooks_dir
    reports, _ = load_reports(notebooks, settings.derived_cache_dir)
    return load_teams(teams_path(notebooks)), {r.name: r.rules for r in reports}


def _report_of(args: argparse.Namespace) -> str | None:
    from pathlib import Path

    name = getattr(args, "report", None) or str(getattr(args, "ref", "")).split("@")[0]
    return Path(name).name if name else None


def enforce(args: argparse.Namespace, settings: Settings) -> None:
    """Refuse the command with ``AccessDenied`` unless the ``--as`` person may take its action."""
    teams, rules = _teams_and_rules(settings)
    who = principal(args.as_user, args.role, teams)
    needed = COMMAND_ACTIONS.get(args.command)
    if args.command == "search":
        needed = "admin" if maintenance_action(args) else None
    if args.command in ("reports", "search") and needed is None:
        args.only = {name for name, r in rules.items() if Action.VIEW in actions_for(who, r)}
    elif needed == "admin":
        if who.roles.isdisjoint(teams.admin_roles):
            raise AccessDenied(who.name, "(all reports)", f"{args.command} (admins only)")
    elif isinstance(needed, Action):
        report = _report_of(args)
        if report is not None and (report not in rules or needed not in actions_for(who, rules[report])):
            raise AccessDenied(who.name, report, needed.value)


def _letters(actions: frozenset[Action]) -> str:
    return "".join(a.value[0] if a in actions else "-" for a in Action)


def _subjects(teams: TeamsConfig) -> list[tuple[str, Principal]]:
    """Who the matrix has a row for: admins, each team's members, each known person, viewers, nobody."""
    rows = [("admins", Principal.of("(admin)", teams.admin_roles[:1]))]
    rows += [
        (f"team {name}", Principal.of(f"(member of {name})", t.roles)) for name, t in teams.teams.items() if t.roles
    ]
    rows += [(f"user {name}", Principal.of(name, u.roles)) for name, u in teams.users.items()]
    rows += [
        (f"role {role}", Principal.of(f"(holder of {role})", [role]))
        for role in sorted(set(teams.roles) | set(teams.viewer_roles))
    ]
    rows.append(("anyone else", Principal.of("(no roles)", [])))
    return rows


def cmd_matrix(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr access matrix``: who may do what to every report (v = view, e = execute, c = change)."""
    teams, rules = _teams_and_rules(settings)
    subjects = _subjects(teams)
    table = {label: {name: sorted(actions_for(who, r)) for name, r in rules.items()} for label, who in subjects}
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    names = sorted(rules)
    width = max(len(label) for label, _ in subjects)
    print(" " * width + "  " + "  ".join(f"{n:>{max(len(n), 3)}}" for n in names))
    for label, who in subjects:
        cells = [f"{_letters(actions_for(who, rules[n])):>{max(len(n), 3)}}" for n in names]
        print(f"{label:<{width}}  " + "  ".join(cells))
    print(
        "v = view, e = execute, c = change; restricted: "
        + (", ".join(n for n in names if rules[n].restricted) or "none")
    )
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr access check USER REPORT ACTION``: 0 and "allowed", or 1 and "denied"."""
    teams, rules = _teams_and_rules(settings)
    if args.report not in rules:
        print(f"error: no valid report {args.report!r} (see `nbr access validate`)", file=sys.stderr)
        return 2
    who = principal(args.user, args.role, teams)
    actions = actions_for(who, rules[args.report])
    verdict = "allowed" if Action(args.action) in actions else "denied"
    roles = ", ".join(sorted(who.roles)) or "no roles"
    print(f"{verdict}: {who.name} ({roles}) may {', '.join(sorted(actions)) or 'nothing'} on {args.report}")
    return 0 if verdict == "allowed" else 1


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr access validate``: the teams file and every report's team and grants; 2 on any error."""
    from nbreports.reports.catalog import load_reports

    notebooks = settings.resolved_notebooks_dir
    teams = load_teams(teams_path(notebooks))  # a broken teams file raises ConfigError: exit 2
    reports, errors = load_reports(notebooks, settings.derived_cache_dir)
    for report in reports:
        print(f"ok     {report.name}: team {report.rules.team}{' (restricted)' if report.rules.restricted else ''}")
    for error in errors.values():
        print(f"error  {error}", file=sys.stderr)
    print(f"{len(reports)} reports valid, {len(errors)} invalid; {len(teams.teams)} teams")
    return 2 if errors else 0


def add_parsers(sub: Any) -> None:
    """``nbr access check|matrix|validate``."""
    access = sub.add_parser("access", help="who may do what: check one decision, print the matrix, validate")
    actions = access.add_subparsers(dest="access_command", required=True)
    check = actions.add_parser("check", help="may USER take ACTION on REPORT?")
    check.add_argument("user")
    check.add_argument("report")
    check.add_argument("action", choices=[a.value for a in Action])
    check.add_argument("--role", action="append", help="a role of the user (default: the teams file's users:)")
    check.set_defaults(func=cmd_check)
    matrix = actions.add_parser("matrix", help="every report by admins, teams, known users, roles, anyone")
    matrix.add_argument("--json", action="store_true")
    matrix.set_defaults(func=cmd_matrix)
    validate = actions.add_parser("validate", help="check the teams file and every report's team and grants")
    validate.set_defaults(func=cmd_validate)


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """``--as USER`` and ``--role ROLE`` before the subcommand."""
    parser.add_argument("--as", dest="as_user", metavar="USER", help="check the policy for USER first")
    parser.add_argument("--role", action="append", help="with --as: a role of USER (repeatable)")


__all__ = ["ALL_ACTIONS", "COMMAND_ACTIONS", "add_global_options", "add_parsers", "enforce", "principal"]
