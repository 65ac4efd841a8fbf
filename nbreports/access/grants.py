"""``access:`` in ``report.yaml``: what a report's team shares with others, beyond itself.

The owning team always has every action; a spec may add *view* or *execute* for other teams,
directory roles or named people. *change* is never granted here: it stays with the team.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grantees(_Strict):
    """The people one action is shared with: by team, by directory role, by name."""

    teams: list[str] = Field(default_factory=list, description="Teams of the teams file.")
    roles: list[str] = Field(default_factory=list, description="Airflow roles (directory groups mapped to roles).")
    users: list[str] = Field(default_factory=list, description="People, by login name, known to the teams file.")

    def is_empty(self) -> bool:
        """True when the action is shared with nobody."""
        return not (self.teams or self.roles or self.users)


class AccessGrants(_Strict):
    """The report's shares: who else may view it, who else may run it (execute implies view)."""

    view: Grantees = Field(default_factory=Grantees, description="Who else may see the report and its runs.")
    execute: Grantees = Field(default_factory=Grantees, description="Who else may trigger it (and see it).")

    def is_empty(self) -> bool:
        """True when the report is shared with nobody outside its team."""
        return self.view.is_empty() and self.execute.is_empty()
