"""The execute step: the engine runs the prepared notebook; the output notebook is stored whatever happens."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

from nbreports.engines import Engine, ExecutionJob, ExecutionResult, LogSink, get_engine
from nbreports.errors import NbreportsError, StoreError
from nbreports.kernel.upstream import UPSTREAM_ENV
from nbreports.pods.request import plan_pod
from nbreports.redaction.redact import Redactor
from nbreports.runs.bundle import fetch_bundle
from nbreports.runs.liveness import Heartbeat, begin_attempt
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.states import FailureKind, RunStatus


def cache_hit_result(plan: RunPlan) -> ExecutionResult:
    """What a cache hit "executes": nothing; its outputs are those of the run it reuses."""
    return ExecutionResult(status=RunStatus.SUCCESS, extra={"cache_hit_of": plan.cached_from})


def _masked(log: LogSink, redactor: Redactor) -> LogSink:
    """The log sink with the run's secrets masked in every line."""
    return lambda line: log(redactor.text(line))


def _run_env(plan: RunPlan, notebooks: Path) -> dict[str, str]:
    """What the kernel is told about its run: which report and run, and the upstream runs that triggered it.

    A local kernel works in a copy of its report folder, so it is told where this worker's reports
    are: whether it may read another report is decided from them and the teams file (``kernel.upstream``).
    """
    env = {"NBREPORTS_REPORT": plan.report, "NBREPORTS_RUN_ID": plan.run_id}
    if plan.upstream_runs:  # else the kernel reads them from its input's provenance (kernel.upstream)
        env[UPSTREAM_ENV] = json.dumps(plan.upstream_runs)
    if not plan.profile:
        env["NBREPORTS_NOTEBOOKS_DIR"] = str(notebooks)  # its teams file: the worker's setting, else beside it
    return env


def _unpack_report_files(platform: Platform, plan: RunPlan, job: ExecutionJob) -> ExecutionResult | None:
    """Unpack the run's bundle into the job's working directory; the failure if that cannot be done.

    The report's files come from the store, never from a path on the worker that prepared the run:
    any worker may execute any run. A pod's init container does the same inside the pod.
    """
    if job.pod is not None:
        return None
    if not plan.bundle:
        return ExecutionResult.failure(
            FailureKind.ENGINE_ERROR, f"run {plan.run_id} has no bundle of its report folder (prepare stores one)"
        )
    try:
        fetch_bundle(platform.store, plan.bundle, job.cwd)
    except NbreportsError as exc:  # the store down, or the bundle corrupt: nothing ran
        reason = f"the report folder's files could not be fetched: {exc}"
        return ExecutionResult.failure(FailureKind.STORE_ERROR, reason)
    return None


def execute(
    platform: Platform,
    plan: RunPlan,
    log: LogSink,
    *,
    try_number: int = 1,
    engine: Engine | None = None,
    notebooks_dir: Path | None = None,
) -> ExecutionResult:
    """Run the prepared notebook with the plan's engine and keep the output notebook in the store.

    Never raises for a failing notebook: the result says how it failed, and the output notebook
    (or, if the kernel never started, the input) is stored either way. ``engine``: one already
    started for this plan's executor (see ``runs.runner.run_report``). ``try_number``: the Airflow
    try; a retry continues the same run and keeps the earlier attempt's files (``runs.liveness``).
    ``notebooks_dir``: where this worker finds the reports (by default ``NBREPORTS_NOTEBOOKS_DIR``);
    the report's own files come from the run's bundle, whichever worker prepared it.
    """
    if plan.cached_from:
        log(f"cache hit: {plan.report} run {plan.run_id} reuses the outputs of run {plan.cached_from}")
        return cache_hit_result(plan)
    store = platform.store
    notebooks = notebooks_dir or platform.settings.resolved_notebooks_dir
    begin_attempt(platform, plan, try_number)
    redactor = Redactor(platform.secrets)
    log = _masked(log, redactor)
    with tempfile.TemporaryDirectory(prefix="nbr-run-") as tmp:
        input_path, output_path = Path(tmp) / "input.ipynb", Path(tmp) / "output.ipynb"
        store.download(plan.key("input.ipynb"), input_path)
        job = ExecutionJob(
            input_path=input_path,
            output_path=output_path,
            kernel=plan.kernel,
            cwd=Path(tmp) / "report",
            cell_timeout=plan.cell_timeout,
            run_timeout=plan.run_timeout,
            env={**platform.kernel_env, **_run_env(plan, notebooks)},
            pod=plan_pod(platform, plan, try_number, notebooks_dir=notebooks) if plan.profile else None,
        )
        log(
            f"executing {plan.report} run {plan.run_id} (notebook {plan.notebook_version[:12]}, "
            f"kernel {plan.kernel}, engine {plan.executor})"
        )
        with Heartbeat(platform, plan.run_id):  # a run whose heartbeat stops is found lost (runs.liveness)
            unpack_failure = _unpack_report_files(platform, plan, job)  # then nothing runs
            result = unpack_failure or (engine or get_engine(plan.executor)).execute(job, log)
        try:
            _store_output(platform, plan, redactor, output_path if output_path.is_file() else input_path, job)
        except StoreError as exc:  # e.g. the disk is full: the run fails with that reason, nothing half-written
            result = ExecutionResult.failure(FailureKind.STORE_ERROR, f"the output notebook could not be stored: {exc}")
    if result.error:
        result = replace(result, error=redactor.text(result.error))
    try:
        store.write_json(plan.key("execution.json"), result.to_dict())
    except StoreError as exc:  # the row keeps the reason, for a publish task that finds no execution.json
        failed = ExecutionResult.failure(FailureKind.STORE_ERROR, redactor.text(f"{result.error or ''} {exc}".strip()))
        platform.db.update_run(
            plan.run_id, status=RunStatus.FAILED, failure_kind=FailureKind.STORE_ERROR, error=failed.error
        )
        result = failed
    log(f"execution {result.status} in {result.duration_s:.1f}s" + (f": {result.error}" if result.error else ""))
    return result


def _store_output(platform: Platform, plan: RunPlan, redactor: Redactor, kept: Path, job: ExecutionJob) -> None:
    """Store the output notebook (the input when the kernel never started), its secrets masked."""
    store = platform.store
    if job.pod is None or not store.exists(plan.key("output.ipynb")):
        store.write_bytes(plan.key("output.ipynb"), redactor.notebook(kept.read_bytes()))
    else:  # the pod wrote it itself: mask what it printed before anything reads it
        written = store.read_bytes(plan.key("output.ipynb"))
        if (masked := redactor.notebook(written)) != written:
            store.write_bytes(plan.key("output.ipynb"), masked)


def load_execution(platform: Platform, plan: RunPlan) -> ExecutionResult:
    """The execution result the execute step left in the store (for a separate publish task)."""
    if plan.cached_from:
        return cache_hit_result(plan)
    try:
        return ExecutionResult.from_dict(platform.store.read_json(plan.key("execution.json")))
    except StoreError:
        return ExecutionResult.failure(FailureKind.ENGINE_ERROR, "the execute step ended without leaving a result")
