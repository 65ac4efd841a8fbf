"""What the ``nbr`` subcommands share: the platform from the settings, and how ``-p`` values are read."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import yaml

from nbreports.settings import Settings

if TYPE_CHECKING:
    from nbreports.runs.model import Platform


def platform_of(settings: Settings) -> Platform:
    """The platform ``nbr`` acts on: the store and database of the settings, with the platform's own credentials.

    Runs an earlier ``nbr`` left running when its process died are recorded as lost first
    (``runs.liveness.reconcile``), so what the command shows or reuses is never a zombie.
    """
    from nbreports.runs.model import Platform  # imported late: `nbr run` imports it inside its lean-import block

    platform = Platform.from_settings(settings)
    record_lost_runs(platform)
    return platform


def record_lost_runs(platform: Platform) -> int:
    """Record the runs whose process is gone as lost, each told on stderr; how many."""
    from nbreports.runs.liveness import reconcile

    lost = reconcile(platform)
    for run in lost:
        print(f"recorded run {run.run_id} of {run.report} as lost: {run.reason}", file=sys.stderr)
    return len(lost)


def parameter_value(text: str) -> Any:
    """``-p name value``: the value is read as YAML (42, 1.5, true, [a, b]); otherwise a string."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None and text.strip() not in ("null", "~", "None"):
        return text
    if hasattr(value, "isoformat"):  # YAML reads 2024-01-31 as a date; parameters keep ISO strings
        return value.isoformat()
    return value
