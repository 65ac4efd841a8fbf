"""What the ``nbr`` subcommands share: the platform from the settings, and how ``-p`` values are read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from nbreports.settings import Settings

if TYPE_CHECKING:
    from nbreports.runs.model import Platform


def platform_of(settings: Settings) -> Platform:
    """The platform ``nbr`` acts on: the store and database of the settings, with the platform's own credentials."""
    from nbreports.runs.model import Platform  # imported late: `nbr run` imports it inside its lean-import block

    return Platform.from_settings(settings)


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
