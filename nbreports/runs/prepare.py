"""The prepare step: validate the parameters, pin the notebook version, write the exact input of the run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import nbformat

from nbreports import __version__
from nbreports.history.versions import save_version
from nbreports.identifiers import new_run_id
from nbreports.pods.compute import choose_compute
from nbreports.reports.catalog import Report
from nbreports.reports.parameters import resolve_parameters
from nbreports.runs.cache import cache_key, find_fresh_run, input_versions
from nbreports.runs.liveness import supersede_earlier_tries, this_process
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.states import RunStatus
from nbreports.storage.store import Store


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
) -> RunPlan:
    """Validate parameters, pin the notebook version and write the exact input of the run.

    Nothing is written when the parameters are invalid. When the spec enables caching and a
    fresh identical run exists (and not ``force``), the plan reuses it instead of executing.
    ``airflow_task`` (dag/run/task/map index) makes this run supersede one an earlier try of the
    same task left running (``runs.liveness``).
    """
    parameters = resolve_parameters(report.name, report.parameters, values)
    pod_profile, image = choose_compute(report.name, report.spec, profile)  # refused before any write
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
    run_id = run_id or new_run_id()
    kernel = report.spec.kernel or report.kernel or platform.settings.default_kernel
    started = datetime.now(UTC)
    key = cached_from = None
    if report.spec.cache.ttl:
        inputs = input_versions(report.folder, report.spec.cache.inputs, str(report.spec_path))
        key = cache_key(sha, parameters, f"kernel:{kernel}" + (f" image:{image}" if image else ""), inputs, cache_extra)
        if not force:
            cached_from = find_fresh_run(platform.db, platform.store, report.name, key, report.spec.cache.ttl)
    plan = RunPlan(
        report=report.name,
        run_id=run_id,
        title=report.spec.title,
        notebook_version=sha,
        parameters=parameters,
        kernel=kernel,
        executor=report.spec.executor,
        report_folder=str(report.folder),
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
        input_uri=plan.input_uri,
        cache_hit_of=cached_from,
        heartbeat_at=started,
        airflow_task=airflow_task,
        **this_process(),
    )
    platform.store.write_json(plan.key("plan.json"), plan.to_dict())  # what a lost run is published from
    if airflow_task:
        supersede_earlier_tries(platform, report.name, airflow_task, run_id)
    return plan


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
