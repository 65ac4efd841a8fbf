"""The teams file (``config/teams.yaml``): the platform admins' say on who belongs where.

Each team names the Airflow roles its members hold (directory groups are mapped to them), the
report folders it owns, the compute it may use and whether its data is *restricted* (personal
data: its reports are shared with nobody outside it). A report cannot pick its team: the team
that owns its folder is its team, and a spec naming another one is an error.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nbreports.errors import ConfigError
from nbreports.settings import get_settings

PERSONAL_ROLE_PREFIX = "nbr-user-"
# A distinguished name such as cn=analytics,ou=groups,dc=example,dc=com (quote it in YAML flow lists:
# [cn=a,ou=b] is a list of two strings there).
_DN = re.compile(r"^[A-Za-z][\w-]*=[^,=]+(,[A-Za-z][\w-]*=[^,=]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Team(_Strict):
    """One team: its members (by role), its report folders, its compute and its store credentials."""

    description: str = ""
    roles: list[str] = Field(default_factory=list, description="Airflow roles whose holders are the team's members.")
    groups: list[str] = Field(default_factory=list, description="Directory group DNs whose members get the roles.")
    folders: list[str] = Field(default_factory=list, description="Report folders it owns (names or globs).")
    restricted: bool = Field(default=False, description="Personal data: never shared outside the team.")
    environment: str = Field(default="analytics", description="Kernel image (images/teams/<environment>).")
    profiles: list[str] = Field(default_factory=lambda: ["small"], min_length=1, description="Compute profiles.")
    default_profile: str | None = None
    namespace: str | None = Field(default=None, description="Kubernetes namespace of the team's report pods.")
    store_secret: str | None = Field(default=None, description="Kubernetes Secret with the team's store credentials.")
    store_conn_id: str | None = Field(default=None, description="Airflow connection with the team's store credentials.")
    email: list[str] = Field(
        default_factory=list, description="Where notify rules naming the team write (e.g. its mailing list)."
    )

    @property
    def default(self) -> str:
        """The team's default profile: ``default_profile``, else its first profile."""
        return self.default_profile or self.profiles[0]

    @field_validator("groups")
    @classmethod
    def _distinguished_names(cls, groups: list[str]) -> list[str]:
        return _check_dns(groups)

    @field_validator("email")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        from nbreports.notify.spec import check_address

        return [check_address(a) for a in addresses]


def _check_dns(groups: list[str]) -> list[str]:
    for group in groups:
        if not _DN.match(group):
            raise ValueError(
                f"{group!r} is not a group DN such as 'cn=analytics,ou=groups,dc=example,dc=com' (quote it)"
            )
    return groups


class KnownUser(_Strict):
    """A person grants may name; ``roles`` are what ``nbr access`` assumes when asked about them."""

    roles: list[str] = Field(default_factory=list)


class TeamsConfig(_Strict):
    """The whole teams file."""

    admin_roles: list[str] = Field(default_factory=lambda: ["Admin"], description="Roles that may do everything.")
    admin_groups: list[str] = Field(default_factory=list, description="Directory groups mapped to the admin roles.")

    @field_validator("admin_groups")
    @classmethod
    def _admin_dns(cls, groups: list[str]) -> list[str]:
        return _check_dns(groups)

    viewer_roles: list[str] = Field(
        default_factory=list, description="Roles that may view every report that is not restricted."
    )
    roles: list[str] = Field(default_factory=list, description="Other roles grants may name (e.g. auditors).")
    users: dict[str, KnownUser] = Field(default_factory=dict, description="People grants may name.")
    teams: dict[str, Team] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_owner_per_name(self) -> TeamsConfig:
        seen: dict[str, str] = {}
        for name, team in self.teams.items():
            for pattern in team.folders:
                if pattern in seen:
                    raise ValueError(f"folder {pattern!r} is owned by both {seen[pattern]!r} and {name!r}")
                seen[pattern] = name
        return self

    def owner_of(self, folder: str) -> str | None:
        """The team owning a report folder: an exact name wins over globs, a longer glob over a shorter one."""
        best: tuple[int, str] | None = None
        for name, team in self.teams.items():
            for pattern in team.folders:
                if pattern == folder:
                    return name
                if fnmatch.fnmatchcase(folder, pattern):
                    rank = len(pattern.replace("*", "").replace("?", ""))
                    if best is None or rank > best[0]:
                        best = (rank, name)
        return best[1] if best else None

    def teams_of(self, roles: frozenset[str]) -> set[str]:
        """The teams whose roles include one of ``roles``."""
        return {name for name, team in self.teams.items() if roles.intersection(team.roles)}

    def known_roles(self) -> set[str]:
        """Every role a grant may name: the teams', the admins', the viewers' and the extra ones."""
        return {r for t in self.teams.values() for r in t.roles} | {*self.admin_roles, *self.viewer_roles, *self.roles}

    def all_roles(self) -> set[str]:
        """Every role the policy can hand out on a DAG, including one personal role per known user."""
        return self.known_roles() - set(self.admin_roles) | {user_role(u) for u in self.users}

    def ldap_role_mapping(self) -> dict[str, list[str]]:
        """Directory group DN → Airflow roles (FAB's ``AUTH_ROLES_MAPPING``)."""
        mapping: dict[str, list[str]] = {group: list(self.admin_roles) for group in self.admin_groups}
        for team in self.teams.values():
            for group in team.groups:
                mapping.setdefault(group, [])
                mapping[group] += [r for r in team.roles if r not in mapping[group]]
        return mapping


def user_role(username: str) -> str:
    """The personal Airflow role that carries a report's grant to one named person."""
    return f"{PERSONAL_ROLE_PREFIX}{username}"


#: No teams file: one team owns every folder and has no members, so only admins may act.
BUILT_IN = TeamsConfig(teams={"default": Team(description="every report (no teams file)", folders=["*"])})


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> TeamsConfig:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return TeamsConfig.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the teams file {path}: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError.invalid(path, exc) from exc


def teams_path(notebooks_dir: Path | None = None) -> Path:
    """``NBREPORTS_TEAMS_FILE``, else ``config/teams.yaml`` beside the notebooks folder."""
    settings = get_settings()
    if notebooks_dir is None or settings.teams_file:
        return settings.resolved_teams_file
    return notebooks_dir.absolute().parent / "config" / "teams.yaml"


def load_teams(path: Path | None = None) -> TeamsConfig:
    """The teams file, re-read only when it changes; the built-in single team when there is none."""
    path = (path or teams_path()).absolute()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        if get_settings().teams_file:
            raise ConfigError(f"no teams file at {path} (NBREPORTS_TEAMS_FILE)") from None
        return BUILT_IN
    return _load(str(path), mtime)
