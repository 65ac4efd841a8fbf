"""From a prepared run to the ``PodRequest`` its pod is built from (reads the compute config)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from nbreports.compute import ComputeConfig, load_compute_config
from nbreports.errors import ConfigError
from nbreports.pods import PodRequest

if TYPE_CHECKING:
    from nbreports.runner import Platform, RunPlan


def plan_pod(platform: Platform, plan: RunPlan, try_number: int = 1,
             config: ComputeConfig | None = None) -> PodRequest:
    """The pod of ``plan``: its profile's resources, its image, the store as the kernel reaches it."""
    config = config or load_compute_config()
    if not plan.profile or not plan.image:
        raise ConfigError(f"run {plan.run_id} of {plan.report} was not prepared for a pod (no profile/image)")
    try:
        profile = config.profiles[plan.profile].model_copy(update={"name": plan.profile})
    except KeyError:
        raise ConfigError(f"compute profile {plan.profile!r} of run {plan.run_id} is no longer configured") from None
    options = json.loads(platform.kernel_env.get("NBREPORTS_STORE_OPTIONS") or "{}")
    return PodRequest(
        report=plan.report, run_id=plan.run_id, kernel=plan.kernel, image=plan.image, profile=profile,
        store_url=platform.store.url_prefix, cell_timeout=plan.cell_timeout, run_timeout=plan.run_timeout,
        environment=_environment_of(plan.image), store_options=options, store_secret=config.store_secret,
        report_folder=plan.report_folder,
        dag_id=plan.dag_id, try_number=try_number, namespace=config.namespace,
    )


def _environment_of(image: str) -> str:
    """``<repository>/<environment>:<tag>`` or ``...@<digest>`` → the environment's name."""
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
