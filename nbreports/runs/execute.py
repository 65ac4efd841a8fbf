"""The execute step: the engine runs the prepared notebook; the output notebook is stored whatever happens."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

from nbreports.engines import Engine, ExecutionJob, ExecutionResult, LogSink, get_engine
from nbreports.errors import StoreError
from nbreports.kernel.upstream import UPSTREAM_ENV
from nbreports.pods.request import plan_pod
from nbreports.redaction.redact import Redactor
from nbreports.runs.liveness import Heartbeat, begin_attempt
from nbreports.runs.model import Platform, RunPlan
from nbreports.runs.states import FailureKind, RunStatus


def cache_hit_result(plan: RunPlan) -> ExecutionResult:
    """What a cache hit "executes": nothing; its outputs are those of the run it reuses."""
    return ExecutionResult(status=RunStatus.SUCCESS, extra={"cache_hit_of": plan.cached_from})


def _masked(log: LogSink, redactor: Redactor) -> LogSink:
    """The log sink with the run's secrets masked in every line."""
    return lambda line: log(redactor.text(line))


def _run_env(plan: RunPlan) -> dict[str, str]:
    """What the kernel is told about its run: which report and run, and the upstream runs that triggered it."""
    env = {"NBREPORTS_REPORT": plan.report, "NBREPORTS_RUN_ID": plan.run_id}
    if plan.upstream_runs:  # else the kernel reads them from its input's provenance (kernel.upstream)
        env[UPSTREAM_ENV] = json.dumps(plan.upstream_runs)
    return env


def execute(
    platform: Platform, plan: RunPlan, log: LogSink, *, try_number: int = 1, engine: Engine | None = None
) -> ExecutionResult:
    """Run the prepared notebook with the plan's engine and keep the output notebook in the store.

    Never raises for a failing notebook: the result says how it failed, and the output notebook
    (or, if the kernel never started, the input) is stored either way. ``engine``: one already
    started for this plan's executor (see ``runs.runner.run_report``). ``try_number``: the Airflow
    try; a retry continues the same run and keeps the earlier attempt's files (``runs.liveness``).
    """
    if plan.cached_from:
        log(f"cache hit: {plan.report} run {plan.run_id} reuses the outputs of run {plan.cached_from}")
        return cache_hit_result(plan)
    store = platform.store
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
            cwd=Path(plan.report_folder),
            cell_timeout=plan.cell_timeout,
            run_timeout=plan.run_timeout,
            env={**platform.kernel_env, **_run_env(plan)},
            pod=plan_pod(platform, plan, try_number) if plan.profile else None,
        )
        log(
            f"executing {plan.report} run {plan.run_id} (notebook {plan.notebook_version[:12]}, "
            f"kernel {plan.kernel}, engine {plan.executor})"
        )
        with Heartbeat(platform, plan.run_id):  # a run whose heartbeat stops is found lost (runs.liveness)
            result = (engine or get_engine(plan.executor)).execute(job, log)
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
