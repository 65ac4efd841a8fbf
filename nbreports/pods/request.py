"""The ``PodRequest`` of a run — from a prepared run (``plan_pod``) or from a report alone (``report_pod_manifest``).

Both go through ``pod_request``, so the pod a run starts and the one ``nbr pod-spec`` prints are built
the same way from the compute config and the teams file. A pod is its team's: the team's
``namespace`` and ``store_secret`` (the compute config's global ones only for a team that names
none, never another team's), and the reports its kernel may read (``nbreports.access.kernel``).

Where the podman engine finds a team's store credentials (to put in the pod's Secret) is a seam:
``use_team_store_credentials`` takes a resolver — the operators' hook resolves each team's
``store_conn_id`` (an Airflow connection) — and a team without one gets the worker's credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbreports.access.kernel import readable_reports, report_principal
from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.errors import ConfigError
from nbreports.pods.compute import ComputeConfig, load_compute_config
from nbreports.pods.digest import pinned
from nbreports.pods.manifest import PodRequest, build_pod_manifest
from nbreports.runs.bundle import bundle_digest

if TYPE_CHECKING:
    from nbreports.reports.catalog import Report
    from nbreports.runs.model import Platform, RunPlan
    from nbreports.settings import Settings


CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

#: team name → that team's store credentials (``AWS_*`` variables), None when the team names none
StoreCredentials = Callable[[str], Mapping[str, str] | None]
_team_credentials: list[StoreCredentials] = []


def use_team_store_credentials(resolver: StoreCredentials | None) -> None:
    """Set (or, with None, clear) how a team's store credentials are found; the operators' hook sets it."""
    _team_credentials[:] = [resolver] if resolver else []


def team_store_credentials(team: str, worker: Mapping[str, str], *, own_required: bool = False) -> dict[str, str]:
    """The ``AWS_*`` credentials a team's pods get: the team's own, else the worker's (``worker``).

    ``own_required``: the team names its own credentials (``store_conn_id``), so the worker's never
    stand in for them; ``ConfigError`` when nothing can resolve them (a run outside Airflow).
    """
    own = _team_credentials[0](team) if _team_credentials else None
    if own is not None:
        return {k: str(own[k]) for k in CREDENTIALS if own.get(k)}
    if own_required:
        raise ConfigError(f"team {team!r} has its own store credentials (store_conn_id) but nothing resolves them here")
    return {k: worker[k] for k in CREDENTIALS if worker.get(k)}


def pod_request(config: ComputeConfig, team: str, **run: Any) -> PodRequest:
    """The request for one pod: what the run says (``run``), plus its team's namespace and store Secret."""
    entry = config.teams.get(team)  # no fallback to another team's entry: only to the global values
    return PodRequest(
        **run,
        team=team,
        environment=environment_of(run["image"]),
        store_secret=(entry and entry.store_secret) or config.store_secret,
        namespace=(entry and entry.namespace) or config.namespace,
        own_store_credentials=bool(entry and entry.store_conn_id),
    )


def _readable(notebooks_dir: Path, report: str, teams: TeamsConfig, cache_dir: Path | None) -> tuple[str, ...]:
    """The reports the kernel of ``report`` may read (a pod has no catalog to ask)."""
    from nbreports.reports.catalog import load_reports

    reports, _ = load_reports(notebooks_dir, cache_dir)
    return tuple(readable_reports(report_principal(report, teams), [r.rules for r in reports]))


def plan_pod(
    platform: Platform,
    plan: RunPlan,
    try_number: int = 1,
    config: ComputeConfig | None = None,
    notebooks_dir: Path | None = None,
) -> PodRequest:
    """The pod of ``plan``: its profile's resources, its image, the store as the kernel reaches it.

    ``notebooks_dir``: where this worker finds the reports (by default its ``NBREPORTS_NOTEBOOKS_DIR``),
    for the teams file and the reports the kernel may read; never a folder of the preparing worker.
    """
    config = config or load_compute_config()
    notebooks = notebooks_dir or platform.settings.resolved_notebooks_dir
    teams = load_teams(teams_path(notebooks))
    if not plan.profile or not plan.image:
        raise ConfigError(f"run {plan.run_id} of {plan.report} was not prepared for a pod (no profile/image)")
    try:
        profile = config.profiles[plan.profile].model_copy(update={"name": plan.profile})
    except KeyError:
        raise ConfigError(f"compute profile {plan.profile!r} of run {plan.run_id} is no longer configured") from None
    return pod_request(
        config,
        teams.owner_of(plan.report) or "default",
        report=plan.report,
        run_id=plan.run_id,
        kernel=plan.kernel,
        image=pinned(plan.image, plan.image_digest),  # exactly what prepare resolved and keyed on
        profile=profile,
        store_url=platform.store.url_prefix,
        cell_timeout=plan.cell_timeout,
        run_timeout=plan.run_timeout,
        store_options=json.loads(platform.kernel_env.get("NBREPORTS_STORE_OPTIONS") or "{}"),
        dag_id=plan.dag_id,
        try_number=try_number,
        readable_reports=_readable(notebooks, plan.report, teams, platform.settings.derived_cache_dir),
        executor=plan.executor,
        bundle=plan.bundle,
    )


def report_pod_manifest(
    report: Report,
    settings: Settings,
    *,
    profile: str | None = None,
    run_id: str = "example-run",
    try_number: int = 1,
    config: ComputeConfig | None = None,
) -> dict[str, Any]:
    """The manifest a run of ``report`` would get on the configured store.

    Under ``podman`` for a podman report, else as ``executor: kubernetes`` would start it (so a local
    store is a ``ConfigError``), with the bundle its folder has now (computed, not stored).
    """
    config = config or load_compute_config()
    url = settings.resolved_store_url
    teams = load_teams(teams_path(report.folder.parent))
    request = pod_request(
        config,
        report.spec.team,
        report=report.name,
        run_id=run_id,
        kernel=report.spec.kernel or report.kernel or settings.default_kernel,
        image=config.image_for(report.spec),
        profile=config.profile_for(report.name, report.spec, profile),
        store_url=url if "://" in url else Path(url).absolute().as_uri(),
        cell_timeout=report.spec.cell_timeout,
        run_timeout=report.spec.run_timeout,
        store_options=dict(settings.store_options),
        dag_id=report.name,
        try_number=try_number,
        readable_reports=_readable(report.folder.parent, report.name, teams, settings.derived_cache_dir),
        executor="podman" if report.spec.executor == "podman" else "kubernetes",
        bundle=bundle_digest(report.folder),
    )
    return build_pod_manifest(request)


def environment_of(image: str) -> str:
    """``<repository>/<environment>:<tag>`` or ``...@<digest>`` → the environment's name."""
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
