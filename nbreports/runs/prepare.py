"""The prepare step: validate the parameters, pin the notebook version, write the exact input of the run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import nbformat

from nbreports import __version__
from nbreports.errors import ConfigError
from nbreports.history.versions import save_version
from nbreports.identifiers import check_report_name, check_run_id, new_run_id
from nbreports.pods.compute import choose_compute
from nbreports.pods.digest import resolve_image
from nbreports.reports.catalog import Report
from nbreports.reports.parameters import resolve_parameters
from nbreports.runs.bundle import store_bundle
from nbreports.runs.cache import cache_key, find_fresh_run, input_versions
from nbreports.runs.fingerprint import environment_key
from nbreports.runs.liveness import supersede_earlier_tries, this_process
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.states import RunStatus
from nbreports.storage.store import Store

logger = logging.getLogger(__name__)


def prepare(
    platform: Platform,
    report: Report,
    values: dict[str, Any],
    *,
    run_id: str | None = None,
    dag_id: str | None = None,
    dag_run_id: str | None = None,
    triggered_by: str | None = None,
    source: str = "run",
    force: bool = False,
    cache_extra: dict[str, Any] | None = None,
    profile: str | None = None,
    airflow_task: str | None = None,
    upstream_runs: dict[str, str] | None = None,
) -> RunPlan:
    """Validate parameters, pin the notebook version and write the exact input of the run.

    Nothing is written when the parameters are invalid. When the spec enables caching and a
    fresh identical run exists (and not ``force``), the plan reuses it instead of executing.
    ``airflow_task`` (dag/run/task/map index) makes this run supersede one an earlier try of the
    same task left running (``runs.liveness``).

    A pod run's image is resolved to its digest here, once (``pods.digest``): the cache keys on it,
    the row and plan record it, and the pod runs it; a run whose digest stays unresolved is not
    cached. ``upstream_runs`` (upstream report → the run whose Asset event triggered this one) is
    recorded, keyed on, and read by the kernel instead of the upstream's latest run.
    """
    parameters = resolve_parameters(report.name, report.parameters, values)
    pod_profile, image = choose_compute(report.name, report.spec, profile)  # refused before any write
    upstream_runs = _checked_upstream_runs(upstream_runs)
    resolved = resolve_image(image, report.spec.executor) if image else None  # once: what is keyed is what runs
    if resolved is not None and not resolved.resolved:
        logger.warning("%s", resolved.note)
    if report.spec.executor == "kubernetes" and platform.store.url_prefix.startswith("file://"):
        raise ConfigError(  # refused before anything is written (the manifest refuses it too: pods.manifest)
            f"{report.spec_path}: executor: 'kubernetes' needs object storage (NBREPORTS_STORE_URL=s3://...); "
            f"a pod on a cluster cannot reach the local store {platform.store.url_prefix}"
        )
    # the declared inputs are read before anything is written: one deleted since the DAG was parsed is refused
    cache = report.spec.cache
    inputs = input_versions(report.folder, cache.inputs, str(report.spec_path)) if cache.ttl else {}
    nb_bytes = report.notebook_path.read_bytes()  # read once: what is pinned is what runs
    sha = save_version(
        platform.store, platform.db, report.name, nb_bytes, kernel=report.kernel, source=source, log_known=False
    )
    platform.db.upsert_report(
        report.name,
        report.spec.title,
        report.spec.owner,
        report.spec.team,
        report.spec.model_dump(mode="json"),
        [p.to_dict() for p in report.parameters],
    )
    bundle = store_bundle(platform.store, report.folder)  # the folder's files, for a worker or pod elsewhere
    run_id = run_id or new_run_id()
    kernel = report.spec.kernel or report.kernel or platform.settings.default_kernel
    started = datetime.now(UTC)
    key = cached_from = None
    if report.spec.cache.ttl:
        environment = environment_key(kernel, resolved)  # never a tag: None when the digest is unknown
        extra = {**(cache_extra or {}), **({"upstream_runs": upstream_runs} if upstream_runs else {})}
        key = cache_key(sha, parameters, environment, inputs, extra) if environment else None
        if key and not force:
            cached_from = find_fresh_run(platform.db, platform.store, report.name, key, report.spec.cache.ttl)
    plan = RunPlan(
        report=report.name,
        run_id=run_id,
        title=report.spec.title,
        notebook_version=sha,
        parameters=parameters,
        kernel=kernel,
        executor=report.spec.executor,
        cell_timeout=report.spec.cell_timeout,
        run_timeout=report.spec.run_timeout,
        hide_code=report.spec.publish.hide_code,
        started_at=started.isoformat(),
        input_uri="",
        cache_key=key,
        cached_from=cached_from,
        profile=pod_profile,
        image=image,
        dag_id=dag_id,
        image_digest=resolved.digest if resolved else None,
        bundle=bundle,
        upstream_runs=upstream_runs,
        team=report.spec.team,
        connections=list(report.spec.connections),
        variables=list(report.spec.variables),
    )
    if cached_from:
        plan.input_uri = platform.store.uri(Store.run_key(report.name, cached_from, "input.ipynb"))
    else:
        provenance = {
            "report": report.name,
            "run_id": run_id,
            "notebook_version": sha,
            "parameters": parameters,
            "kernel": kernel,
            "executor": report.spec.executor,
            "dag_id": dag_id,
            "dag_run_id": dag_run_id,
            "started_at": started.isoformat(),
            "nbreports_version": __version__,
            "image_digest": plan.image_digest,
            "upstream_runs": upstream_runs,  # what nbreports.kernel.upstream reads in the kernel
        }
        plan.input_uri = platform.store.write_bytes(
            plan.key("input.ipynb"), inject(nb_bytes, parameters, kernel, provenance)
        )
    platform.db.start_run(
        run_id=run_id,
        report=report.name,
        status=RunStatus.RUNNING,
        parameters=parameters,
        notebook_version=sha,
        executor=report.spec.executor,
        kernel=kernel,
        dag_id=dag_id,
        dag_run_id=dag_run_id,
        triggered_by=triggered_by,
        started_at=started,
        cache_key=key,
        profile=pod_profile,
        image=image,
        image_digest=plan.image_digest,
        upstream_runs=upstream_runs,
        input_uri=plan.input_uri,
        cache_hit_of=cached_from,
        bundle=bundle,
        heartbeat_at=started,
        airflow_task=airflow_task,
        **this_process(),
    )
    platform.store.write_json(plan.key("plan.json"), plan.to_dict())  # what a lost run is published from
    if airflow_task:
        supersede_earlier_tries(platform, report.name, airflow_task, run_id)
    return plan


def _checked_upstream_runs(runs: dict[str, str] | None) -> dict[str, str] | None:
    """``runs`` with every report name and run id checked (they become store paths in the kernel)."""
    if not runs:
        return None
    return {check_report_name(report): check_run_id(run_id) for report, run_id in sorted(runs.items())}


def inject(nb_bytes: bytes, parameters: dict[str, Any], kernel: str, provenance: dict[str, Any]) -> bytes:
    """The notebook with papermill's injected parameters cell and ``metadata.nbreports`` provenance."""
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:  # papermill looks for tags on every cell
        cell.metadata.setdefault("tags", [])
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=kernel, language="python")
    nb.metadata["nbreports"] = provenance  # provenance travels with the notebook
    text: str = nbformat.writes(nb)
    return text.encode()
