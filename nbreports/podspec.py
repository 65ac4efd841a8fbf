"""The Pod a report would run in, without preparing a run: what ``nbr pod-spec`` prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbreports.catalog import Report
from nbreports.compute import ComputeConfig, load_compute_config
from nbreports.pods import PodRequest, build_pod_manifest
from nbreports.settings import Settings


def report_pod_manifest(report: Report, settings: Settings, *, profile: str | None = None,
                        run_id: str = "example-run", try_number: int = 1,
                        config: ComputeConfig | None = None) -> dict[str, Any]:
    """The manifest of a run of ``report`` on the configured store (whatever its executor is)."""
    config = config or load_compute_config()
    url = settings.resolved_store_url
    store_url = url if "://" in url else Path(url).absolute().as_uri()
    image = config.image_for(report.spec)
    request = PodRequest(
        report=report.name, run_id=run_id, kernel=report.spec.kernel or report.kernel or settings.default_kernel,
        image=image, profile=config.profile_for(report.name, report.spec, profile), store_url=store_url,
        cell_timeout=report.spec.cell_timeout, run_timeout=report.spec.run_timeout,
        environment=config.team(report.spec.team).environment, store_options=dict(settings.store_options),
        store_secret=config.store_secret, report_folder=str(report.folder), dag_id=report.name,
        try_number=try_number, namespace=config.namespace,
    )
    return build_pod_manifest(request)
