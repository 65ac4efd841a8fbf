"""The ``notify:`` rules checked against what the spec alone cannot know: the notebook and the teams file.

A condition must name a scrap the notebook glues (``sb.glue("anomalies", ...)`` with a literal
name); a notebook that glues a computed name cannot be checked and is trusted. A rule's teams
must be known and have an address. The Airflow connections are checked by the DAG factory.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import nbformat

from nbreports.access.teams import TeamsConfig
from nbreports.errors import SpecError
from nbreports.notify.spec import NotifyRule


def glued_names(nb: nbformat.NotebookNode) -> list[str] | None:
    """The scrap names the notebook's code glues, or None when one of them is computed (unknowable)."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in str(cell.source).splitlines()
        )
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return None  # not plain Python (a cell magic): cannot be sure what it glues
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called != "glue":
                continue
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                return None
            names.add(first.value)
    return sorted(names)


def check_notify(rules: Sequence[NotifyRule], teams: TeamsConfig, glued: list[str] | None, file: str) -> None:
    """``SpecError`` naming ``file`` and the field of the first rule that cannot work."""
    for i, rule in enumerate(rules):
        if rule.when is not None and glued is not None and rule.when.scrap not in glued:
            has = ", ".join(glued) or "none"
            raise SpecError(
                file, f"notify.{i}.when.scrap", f"the notebook glues no scrap {rule.when.scrap!r} (it glues: {has})"
            )
        for team in rule.teams:
            if team not in teams.teams:
                known = ", ".join(sorted(teams.teams))
                raise SpecError(file, f"notify.{i}.teams", f"{team!r} is not a team of the teams file ({known})")
            if not teams.teams[team].email:
                raise SpecError(
                    file, f"notify.{i}.teams", f"team {team!r} has no 'email' in the teams file to write to"
                )
