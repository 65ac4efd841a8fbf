"""Who a kernel is when it reads another report's results, and whether it may. Pure: no I/O.

A notebook reading another report's scraps (``nbreports.kernel.latest_scraps``) acts as its
*report*, and a report acts as its *team*: the principal is ``report:<name>`` holding the roles of
the team that owns the report's folder, so a report sees exactly what its team's members may view.

Who the reader is:

* in a run, the engine names the report (``NBREPORTS_REPORT``);
* outside a run (a person in Jupyter) the person's Airflow roles are unknown to the kernel, so it
  acts as the report whose folder the notebook is in (Jupyter starts a kernel in the notebook's
  folder): the answer is the one the run of that notebook will get, never more. A notebook
  outside every report folder reads nothing (set ``NBREPORTS_REPORT`` to act as a report).

A pod has no catalog: the worker decides for it with ``readable_reports`` and passes the names in
``NBREPORTS_READABLE_REPORTS`` (a JSON list); a local kernel asks the catalog itself.

These checks keep honest notebooks within the policy; they are not a sandbox. A kernel holds store
credentials, so what a hostile notebook can reach is bounded by those credentials (a team's own
Secret in its pods, see ``nbreports.pods.request``), not by this module.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable

from nbreports.access.policy import Action, Principal, allowed
from nbreports.access.rules import ReportRules
from nbreports.access.teams import TeamsConfig
from nbreports.errors import AccessDenied, ConfigError

READABLE_ENV = "NBREPORTS_READABLE_REPORTS"
NO_REPORT = "a kernel outside any report folder (set NBREPORTS_REPORT)"


def report_principal(report: str, teams: TeamsConfig) -> Principal:
    """The principal a report's kernel acts as: ``report:<name>`` with its owning team's roles."""
    owner = teams.owner_of(report)
    roles = teams.teams[owner].roles if owner else []
    return Principal.of(f"report:{report}", roles)


def reading_report(run_report: str | None, folder_name: str | None) -> str | None:
    """The report a kernel reads as: the run's, else the report folder it runs in, else None."""
    return run_report or folder_name or None


def check_read(reader: Principal | None, upstream: ReportRules) -> None:
    """Raise ``AccessDenied`` (naming both reports) unless ``reader`` may view ``upstream``."""
    if reader is None:
        raise AccessDenied(NO_REPORT, upstream.report, Action.VIEW.value)
    if not allowed(reader, upstream, Action.VIEW):
        raise AccessDenied(reader.name, upstream.report, Action.VIEW.value)


def check_listed(reader: str, upstream: str, readable: Collection[str]) -> None:
    """The pod's check: ``AccessDenied`` unless the worker listed ``upstream`` as readable."""
    if upstream not in readable:
        raise AccessDenied(f"report:{reader}", upstream, Action.VIEW.value)


def readable_reports(reader: Principal, rules: Iterable[ReportRules]) -> list[str]:
    """The reports ``reader`` may view, sorted: what a pod's kernel is told it may read."""
    return sorted(r.report for r in rules if allowed(reader, r, Action.VIEW))


def encode_readable(names: Iterable[str]) -> str:
    """The value of ``NBREPORTS_READABLE_REPORTS``."""
    return json.dumps(sorted(names))


def decode_readable(value: str) -> frozenset[str]:
    """``NBREPORTS_READABLE_REPORTS`` back as names; ``ConfigError`` if it is not a JSON list of names."""
    try:
        names = json.loads(value)
    except ValueError as exc:
        raise ConfigError(f"{READABLE_ENV} is not JSON: {exc}") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{READABLE_ENV} must be a JSON list of report names")
    return frozenset(names)
