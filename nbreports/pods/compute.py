"""Compute profiles, team environments and kernel images, from the administrators' config files.

``config/profiles.yaml`` (``NBREPORTS_PROFILES_FILE`` to move it) says which profiles and images
exist; the teams file (``nbreports.access.teams``) says which each team may use, so a report can
only ask for what its team is allowed: anything else is refused before a pod starts.

A profile may also name an Airflow ``queue``: the execute task of a run on it goes to the workers
serving that queue (CeleryExecutor), e.g. ``large`` to bigger machines. That holds for runs in the
worker too (``executor: local``), where the worker's machine is the compute.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nbreports.access.teams import Team, load_teams, teams_path
from nbreports.errors import ConfigError, ProfileError
from nbreports.reports.spec import ReportSpec
from nbreports.settings import get_settings

_DEFAULT_FILE = Path("config") / "profiles.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Profile(_Strict):
    """A compute profile: the resources, node selector and tolerations a pod run gets; its execute task's queue."""

    name: str = ""
    description: str = ""
    requests: dict[str, str] = Field(default_factory=dict, description="Kubernetes resource requests.")
    limits: dict[str, str] = Field(default_factory=dict, description="Kubernetes resource limits.")
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    queue: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="Airflow queue (a Celery queue) of the execute task of runs on this profile; "
        "default: the executor's default queue.",
    )


class Images(_Strict):
    """Where the kernel images are, and the channel (tag) reports follow unless they say otherwise."""

    repository: str = "localhost/nbreports-kernel"
    default_channel: str = "ga"


class ComputeConfig(_Strict):
    """The administrators' compute config: images, namespace, store secret, profiles; teams from the teams file."""

    images: Images = Field(default_factory=Images)
    namespace: str | None = None
    store_secret: str = Field(default="nbreports-store", description="Secret with the store credentials.")
    profiles: dict[str, Profile]
    teams: dict[str, Team] = Field(default_factory=dict, description="Filled in from the teams file.")

    @model_validator(mode="after")
    def _known_profiles(self) -> ComputeConfig:
        for team_name, team in self.teams.items():
            unknown = [p for p in [*team.profiles, team.default] if p not in self.profiles]
            if unknown:
                raise ValueError(f"team {team_name!r} (teams file) names unknown profiles {unknown}")
            if team.default not in team.profiles:
                raise ValueError(f"team {team_name!r}: default_profile must be one of its profiles")
        return self

    def team(self, name: str) -> Team:
        """The team's entry; a team the file does not name gets the ``default`` entry."""
        team = self.teams.get(name) or self.teams.get("default")
        if team is None:
            raise ConfigError(f"team {name!r} is not in the compute config and there is no 'default' team")
        return team

    def allowed_profiles(self, team: str) -> list[str]:
        """The profiles the reports of ``team`` may ask for."""
        return list(self.team(team).profiles)

    def profile_for(self, report: str, spec: ReportSpec, requested: str | None = None) -> Profile:
        """The profile a run gets: the one asked for, else the spec's, else the team's default."""
        team = self.team(spec.team)
        name = requested or spec.profile or team.default
        if name not in team.profiles:
            known = "unknown" if name not in self.profiles else f"not allowed for team {spec.team!r}"
            raise ProfileError(
                report, [f"compute profile {name!r} is {known}; choose one of {', '.join(team.profiles)}"]
            )
        return self.profiles[name].model_copy(update={"name": name})

    def queue_for(self, report: str, spec: ReportSpec, requested: str | None = None) -> str | None:
        """The Airflow queue of a run's execute task: its profile's (``profile_for``), None for the default."""
        return self.profile_for(report, spec, requested).queue

    def routes_to_queues(self, team: str) -> bool:
        """Whether any profile ``team`` may use sends its runs to a queue of its own."""
        return any(self.profiles[name].queue for name in self.team(team).profiles)

    def image_for(self, spec: ReportSpec) -> str:
        """The image reference: pinned digest if the spec has one, else the channel's tag."""
        base = f"{self.images.repository}/{self.team(spec.team).environment}"
        if spec.image.digest:
            return f"{base}@{spec.image.digest}"
        return f"{base}:{spec.image.channel or self.images.default_channel}"


def config_path(notebooks_dir: Path | None = None) -> Path:
    """``NBREPORTS_PROFILES_FILE``, else ``config/profiles.yaml`` beside the notebooks folder."""
    settings = get_settings()
    if notebooks_dir is None or settings.profiles_file:
        return settings.resolved_profiles_file
    return notebooks_dir.absolute().parent / _DEFAULT_FILE


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, teams_file: str, teams_mtime_ns: int) -> ComputeConfig:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict) and "teams" in data:
            raise ConfigError(f"{path}: teams: teams are declared in the teams file ({teams_file}) now")
        if isinstance(data, dict):
            data["teams"] = load_teams(Path(teams_file)).teams
        return ComputeConfig.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the compute config {path}: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError.invalid(path, exc) from exc


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def load_compute_config(path: Path | None = None, teams: Path | None = None) -> ComputeConfig:
    """The compute config with the teams' entries, re-read only when one of the files changes.

    ``teams`` defaults to the teams file beside the compute config's folder's notebooks.
    """
    path = (path or config_path()).absolute()
    if not path.is_file():
        raise ConfigError(f"no compute config at {path} (set NBREPORTS_PROFILES_FILE)")
    teams = (teams or teams_path()).absolute()
    return _load(str(path), _mtime(path), str(teams), _mtime(teams))


POD_EXECUTORS = ("podman", "kubernetes")


def choose_compute(
    report: str, spec: ReportSpec, requested: str | None = None, config: ComputeConfig | None = None
) -> tuple[str | None, str | None]:
    """(profile name, image) of a run; ``(None, None)`` when the report runs in the worker.

    Raises ``ProfileError`` for a profile the team may not use, before anything is written; also for
    a run in the worker, whose profile chose its queue (the workers that run it).
    """
    in_pod = spec.executor in POD_EXECUTORS
    if not in_pod and not requested:
        return None, None
    config = config or load_compute_config()
    profile = config.profile_for(report, spec, requested)
    return (profile.name, config.image_for(spec)) if in_pod else (None, None)
