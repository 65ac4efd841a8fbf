"""The ``PodRequest`` of a run — from a prepared run (``plan_pod``) or from a report alone (``report_pod_manifest``).

Both go through ``pod_request``, so the pod a run starts and the one ``nbr pod-spec`` prints are built
the same way from the compute config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbreports.errors import ConfigError
from nbreports.pods.compute import ComputeConfig, load_compute_config
from nbreports.pods.manifest import PodRequest, build_pod_manifest

if TYPE_CHECKING:
    from nbreports.reports.catalog import Report
    from nbreports.runs.model import Platform, RunPlan
    from nbreports.settings import Settings


def pod_request(config: ComputeConfig, **run: Any) -> PodRequest:
    """The request for one pod: what the run says (``run``), plus the cluster-wide parts of the config."""
    return PodRequest(
        **run, environment=environment_of(run["image"]), store_secret=config.store_secret, namespace=config.namespace
    )


def plan_pod(platform: Platform, plan: RunPlan, try_number: int = 1, config: ComputeConfig | None = None) -> PodRequest:
    """The pod of ``plan``: its profile's resources, its image, the store as the kernel reaches it."""
    config = config or load_compute_config()
    if not plan.profile or not plan.image:
        raise ConfigError(f"run {plan.run_id} of {plan.report} was not prepared for a pod (no profile/image)")
    try:
        profile = config.profiles[plan.profile].model_copy(update={"name": plan.profile})
    except KeyError:
        raise ConfigError(f"compute profile {plan.profile!r} of run {plan.run_id} is no longer configured") from None
    return pod_request(
        config,
        report=plan.report,
        run_id=plan.run_id,
        kernel=plan.kernel,
        image=plan.image,
        profile=profile,
        store_url=platform.store.url_prefix,
        cell_timeout=plan.cell_timeout,
        run_timeout=plan.run_timeout,
        store_options=json.loads(platform.kernel_env.get("NBREPORTS_STORE_OPTIONS") or "{}"),
        report_folder=plan.report_folder,
        dag_id=plan.dag_id,
        try_number=try_number,
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
    """The manifest a run of ``report`` would get on the configured store (whatever its executor is)."""
    config = config or load_compute_config()
    url = settings.resolved_store_url
    request = pod_request(
        config,
        report=report.name,
        run_id=run_id,
        kernel=report.spec.kernel or report.kernel or settings.default_kernel,
        image=config.image_for(report.spec),
        profile=config.profile_for(report.name, report.spec, profile),
        store_url=url if "://" in url else Path(url).absolute().as_uri(),
        cell_timeout=report.spec.cell_timeout,
        run_timeout=report.spec.run_timeout,
        store_options=dict(settings.store_options),
        report_folder=str(report.folder),
        dag_id=report.name,
        try_number=try_number,
    )
    return build_pod_manifest(request)


def environment_of(image: str) -> str:
    """``<repository>/<environment>:<tag>`` or ``...@<digest>`` → the environment's name."""
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
