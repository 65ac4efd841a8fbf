"""One report run in three steps — prepare, execute, publish — shared by ``nbr run`` and the DAGs.

Each step takes and returns plain data (``RunPlan``, ``ExecutionResult``), so Airflow can run
them as separate tasks passing XComs, and ``nbr run`` can call them one after the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from nbreports import __version__
from nbreports.cache import cache_key, find_fresh_run, input_versions
from nbreports.catalog import Report
from nbreports.compute import choose_compute
from nbreports.db import PlatformDB
from nbreports.engines import Engine, ExecutionJob, ExecutionResult, LogSink, get_engine
from nbreports.errors import (
    CellExecutionError,
    ExecutionError,
    ImageError,
    KernelDiedError,
    OutOfMemoryError,
    RunTimeoutError,
    StoreError,
)
from nbreports.names import new_run_id
from nbreports.parameters import resolve_parameters
from nbreports.podplan import plan_pod
from nbreports.publish import read_scraps, small_scraps
from nbreports.render import render_html, warm_html_renderer
from nbreports.settings import Settings
from nbreports.store import Store, open_store
from nbreports.versions import store_content

logger = logging.getLogger(__name__)

_ERRORS: dict[str | None, type[ExecutionError]] = {
    "cell_error": CellExecutionError, "kernel_died": KernelDiedError,
    "cell_timeout": RunTimeoutError, "run_timeout": RunTimeoutError,
    "out_of_memory": OutOfMemoryError, "image_missing": ImageError,
}


@dataclass
class Platform:
    """The services one run needs: settings, the store and the platform database."""

    settings: Settings
    store: Store
    db: PlatformDB
    kernel_env: dict[str, str] = field(default_factory=dict)  # how the kernel reaches the store

    @classmethod
    def from_settings(cls, settings: Settings | None = None, store: Store | None = None,
                      database_url: str | None = None, kernel_env: dict[str, str] | None = None) -> Platform:
        settings = settings or Settings()
        store = store or open_store(settings.resolved_store_url, settings.store_options)
        db = PlatformDB(database_url or settings.resolved_database_url)
        env = {"NBREPORTS_STORE_URL": store.url_prefix, "NBREPORTS_DATABASE_URL": db.url}
        if settings.store_options:
            env["NBREPORTS_STORE_OPTIONS"] = json.dumps(settings.store_options)
        return cls(settings, store, db, {**env, **(kernel_env or {})})


@dataclass
class RunPlan:
    """Everything execute and publish need, as plain JSON (it travels through XCom)."""

    report: str
    run_id: str
    title: str
    notebook_version: str
    parameters: dict[str, Any]
    kernel: str
    executor: str
    report_folder: str
    cell_timeout: int
    run_timeout: int
    hide_code: bool
    started_at: str
    input_uri: str
    cache_key: str | None = None
    cached_from: str | None = None  # a cache hit: the run whose outputs this run reuses
    profile: str | None = None  # compute profile of a pod run (executor podman or kubernetes)
    image: str | None = None  # kernel image of a pod run: tag or @digest
    dag_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        return cls(**data)


def _now() -> datetime:
    return datetime.now(UTC)


def store_version(platform: Platform, report: Report, nb_bytes: bytes, source: str) -> str:
    """Keep this notebook content once, content-addressed; return its sha256."""
    sha = hashlib.sha256(nb_bytes).hexdigest()
    store_content(platform.store, sha, nb_bytes)
    platform.db.add_version(report.name, sha, len(nb_bytes), report.kernel, source)
    return sha


def prepare(platform: Platform, report: Report, values: dict[str, Any], *, run_id: str | None = None,
            dag_id: str | None = None, dag_run_id: str | None = None, triggered_by: str | None = None,
            source: str = "run", force: bool = False, cache_extra: dict[str, Any] | None = None,
            profile: str | None = None) -> RunPlan:
    """Validate parameters, pin the notebook version and write the exact input of the run.

    Nothing is written when the parameters are invalid. When the spec enables caching and a
    fresh identical run exists (and not ``force``), the plan reuses it instead of executing.
    """
    from papermill.parameterize import parameterize_notebook

    parameters = resolve_parameters(report.name, report.parameters, values)
    pod_profile, image = choose_compute(report.name, report.spec, profile)  # refused before any write
    nb_bytes = report.notebook_path.read_bytes()  # read once: what is pinned is what runs
    sha = store_version(platform, report, nb_bytes, source)
    platform.db.upsert_report(report.name, report.spec.title, report.spec.owner, report.spec.team,
                              report.spec.model_dump(mode="json"), [p.to_dict() for p in report.parameters])
    run_id = run_id or new_run_id()
    kernel = report.spec.kernel or report.kernel or platform.settings.default_kernel
    started = _now()
    cache = report.spec.cache
    key = cached_from = None
    if cache.ttl:
        inputs = input_versions(report.folder, cache.inputs, str(report.folder / "report.yaml"))
        key = cache_key(sha, parameters, f"kernel:{kernel}" + (f" image:{image}" if image else ""), inputs, cache_extra)
        if not force:
            cached_from = find_fresh_run(platform.db, platform.store, report.name, key, cache.ttl)
    common: dict[str, Any] = dict(report=report.name, run_id=run_id, title=report.spec.title, notebook_version=sha,
                  parameters=parameters, kernel=kernel, executor=report.spec.executor,
                  report_folder=str(report.folder), cell_timeout=report.spec.cell_timeout,
                  run_timeout=report.spec.run_timeout, hide_code=report.spec.publish.hide_code,
                  started_at=started.isoformat(), cache_key=key, profile=pod_profile, image=image, dag_id=dag_id)
    row = dict(run_id=run_id, report=report.name, status="running", parameters=parameters, notebook_version=sha,
               executor=report.spec.executor, kernel=kernel, dag_id=dag_id, dag_run_id=dag_run_id,
               triggered_by=triggered_by, started_at=started, cache_key=key, profile=pod_profile, image=image)
    if cached_from:
        input_uri = platform.store.uri(Store.run_key(report.name, cached_from, "input.ipynb"))
        platform.db.start_run(**row, input_uri=input_uri, cache_hit_of=cached_from)
        return RunPlan(**common, input_uri=input_uri, cached_from=cached_from)

    nb = nbformat.reads(nb_bytes.decode("utf-8"), as_version=4)
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:  # papermill looks for tags on every cell
        cell.metadata.setdefault("tags", [])
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=kernel, language="python")
    nb.metadata["nbreports"] = {  # provenance travels with the notebook
        "report": report.name, "run_id": run_id, "notebook_version": sha, "parameters": parameters,
        "kernel": kernel, "executor": report.spec.executor, "dag_id": dag_id, "dag_run_id": dag_run_id,
        "started_at": started.isoformat(), "nbreports_version": __version__,
    }
    input_uri = platform.store.write_bytes(Store.run_key(report.name, run_id, "input.ipynb"),
                                           nbformat.writes(nb).encode())
    platform.db.start_run(**row, input_uri=input_uri)
    return RunPlan(**common, input_uri=input_uri)


def execute(platform: Platform, plan: RunPlan, log: LogSink, *, try_number: int = 1,
            engine: Engine | None = None) -> ExecutionResult:
    """Run the prepared notebook with the plan's engine and keep the output notebook in the store.

    Never raises for a failing notebook: the result says how it failed, and the output notebook
    (or, if the kernel never started, the input) is stored either way. ``engine``: one already
    started for this plan's executor (see ``run_report``).
    """
    if plan.cached_from:
        log(f"cache hit: {plan.report} run {plan.run_id} reuses the outputs of run {plan.cached_from}")
        return ExecutionResult(status="success", extra={"cache_hit_of": plan.cached_from})
    store = platform.store
    with tempfile.TemporaryDirectory(prefix="nbr-run-") as tmp:
        input_path, output_path = Path(tmp) / "input.ipynb", Path(tmp) / "output.ipynb"
        store.download(Store.run_key(plan.report, plan.run_id, "input.ipynb"), input_path)
        job = ExecutionJob(input_path=input_path, output_path=output_path, kernel=plan.kernel,
                           cwd=Path(plan.report_folder), cell_timeout=plan.cell_timeout,
                           run_timeout=plan.run_timeout, env={**platform.kernel_env, "NBREPORTS_REPORT": plan.report,
                                                              "NBREPORTS_RUN_ID": plan.run_id},
                           pod=plan_pod(platform, plan, try_number) if plan.profile else None)
        log(f"executing {plan.report} run {plan.run_id} (notebook {plan.notebook_version[:12]}, "
            f"kernel {plan.kernel}, engine {plan.executor})")
        result = (engine or get_engine(plan.executor)).execute(job, log)
        kept = output_path if output_path.is_file() else input_path
        if job.pod is None or not store.exists(Store.run_key(plan.report, plan.run_id, "output.ipynb")):
            store.write_bytes(Store.run_key(plan.report, plan.run_id, "output.ipynb"), kept.read_bytes())
    store.write_json(Store.run_key(plan.report, plan.run_id, "execution.json"), result.to_dict())
    log(f"execution {result.status} in {result.duration_s:.1f}s" + (f": {result.error}" if result.error else ""))
    return result


def load_execution(platform: Platform, plan: RunPlan) -> ExecutionResult:
    """The execution result the execute step left in the store (for a separate publish task)."""
    if plan.cached_from:
        return ExecutionResult(status="success", extra={"cache_hit_of": plan.cached_from})
    key = Store.run_key(plan.report, plan.run_id, "execution.json")
    try:
        return ExecutionResult(**platform.store.read_json(key))
    except StoreError:
        return ExecutionResult(status="failed", error_type="engine_error",
                               error="the execute step ended without leaving a result")


def publish(platform: Platform, plan: RunPlan, result: ExecutionResult) -> dict[str, Any]:
    """Render HTML, read scraps, write the run record, move ``latest`` on success, record the run."""
    if plan.cached_from:
        return _publish_cache_hit(platform, plan)
    store, key = platform.store, (lambda name: Store.run_key(plan.report, plan.run_id, name))
    ended = _now()
    output_uri: str | None = store.uri(key("output.ipynb"))
    try:
        nb = nbformat.reads(store.read_bytes(key("output.ipynb")).decode("utf-8"), as_version=4)
    except StoreError:
        nb = nbformat.reads(store.read_bytes(key("input.ipynb")).decode("utf-8"), as_version=4)
        output_uri = None
    scraps = read_scraps(nb)
    html_uri = store.write_bytes(key("report.html"),
                                 render_html(nb, hide_code=plan.hide_code, title=plan.title).encode())
    store.write_json(key("scraps.json"), scraps)
    started = datetime.fromisoformat(plan.started_at)
    record = {
        **plan.to_dict(), "status": result.status, "ended_at": ended.isoformat(),
        "duration_s": round((ended - started).total_seconds(), 3), "execution_s": result.duration_s,
        "error": result.error, "error_type": result.error_type, "failed_cell": result.failed_cell,
        "output_uri": output_uri, "html_uri": html_uri, "run_uri": store.uri(key("")),
        "scraps": small_scraps(scraps, platform.settings.scraps_xcom_limit),
    }
    metrics = _run_metrics(store, key)
    if metrics:
        record["metrics"] = metrics
    pod = result.extra.get("pod") or {}
    if pod:  # image digest, peak memory, exit code
        record["pod"] = pod
    record["peak_memory_bytes"] = pod.get("peak_memory_bytes") or result.extra.get("peak_memory_bytes")
    store.write_json(key("run.json"), record)
    if result.status == "success":
        store.write_json(Store.latest_key(plan.report), record)
    platform.db.finish_run(
        plan.run_id, status=result.status, ended_at=ended, duration_s=record["duration_s"],
        output_uri=output_uri, html_uri=html_uri, scraps=record["scraps"], error=result.error,
        failed_cell=result.failed_cell, metrics=metrics or None, image_digest=pod.get("image_digest"),
        peak_memory_bytes=pod.get("peak_memory_bytes") or result.extra.get("peak_memory_bytes"),
    )
    return record


def _run_metrics(store: Store, key: Any) -> dict[str, Any]:
    """Counters the kernel side left beside the run (e.g. the query cache's hits and misses)."""
    try:
        return {"query_cache": store.read_json(key("query_cache.json"))}
    except (StoreError, ValueError):
        return {}


def _publish_cache_hit(platform: Platform, plan: RunPlan) -> dict[str, Any]:
    """Record a cache hit: a run of its own whose outputs are those of the run it reuses."""
    store = platform.store
    source = store.read_json(Store.run_key(plan.report, plan.cached_from or "", "run.json"))
    ended = _now()
    record = {
        **source, **plan.to_dict(), "status": "success", "ended_at": ended.isoformat(),
        "duration_s": round((ended - datetime.fromisoformat(plan.started_at)).total_seconds(), 3),
        "execution_s": 0.0, "cache_hit_of": plan.cached_from,
        "run_uri": store.uri(Store.run_key(plan.report, plan.run_id, "")),
    }
    store.write_json(Store.run_key(plan.report, plan.run_id, "run.json"), record)
    store.write_json(Store.latest_key(plan.report), record)
    platform.db.finish_run(plan.run_id, status="success", ended_at=ended, duration_s=record["duration_s"],
                           output_uri=record["output_uri"], html_uri=record["html_uri"], scraps=record["scraps"])
    return record


def raise_for_result(record: dict[str, Any]) -> None:
    """After publishing, turn a failed run into the matching ``ExecutionError``."""
    if record["status"] == "success":
        return
    error_cls = _ERRORS.get(record.get("error_type"), ExecutionError)
    raise error_cls(f"report {record['report']} run {record['run_id']} failed: {record['error']}",
                    cell_index=record.get("failed_cell"), output_uri=record.get("output_uri"))


def run_report(platform: Platform, report: Report, values: dict[str, Any], log: LogSink | None = None,
               **context: Any) -> dict[str, Any]:
    """Prepare, execute and publish one run. Raises ``ExecutionError`` after publishing a failure."""
    log = log or logger.info
    engine = get_engine(report.spec.executor)
    if context.get("force") or not report.spec.cache.ttl:  # a cached report may need no engine at all
        engine.prestart()  # the engine boots while the run is prepared
    try:
        plan = prepare(platform, report, values, **context)
        if not plan.cached_from:  # nbconvert's import and templates load while the notebook runs
            threading.Thread(target=warm_html_renderer, args=(plan.hide_code,), daemon=True).start()
        result = execute(platform, plan, log, engine=engine)
    finally:
        engine.close()  # a pre-started engine that got no job (invalid parameters, a cache hit)
    record = publish(platform, plan, result)
    raise_for_result(record)
    return record
