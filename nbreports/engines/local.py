"""The ``local`` engine: papermill in a child process of the worker.

A child process keeps a crashing or memory-hungry kernel client away from the Airflow task
process, lets the run timeout kill everything cleanly, and streams cell output line by line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nbreports.engines.base import ExecutionJob, ExecutionResult, LogSink
from nbreports.engines.tree_memory import PeakMemory

_GRACE_S = 15  # after SIGTERM, time for papermill to save the output notebook


class LocalEngine:
    name = "local"

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="nbr-exec-") as tmp:
            job_file, result_file = Path(tmp) / "job.json", Path(tmp) / "result.json"
            job_file.write_text(json.dumps({
                "input_path": str(job.input_path), "output_path": str(job.output_path),
                "kernel": job.kernel, "cwd": str(job.cwd), "cell_timeout": job.cell_timeout,
                "result_path": str(result_file),
            }))
            env = {**os.environ, **job.env, "PYTHONUNBUFFERED": "1"}
            proc = subprocess.Popen(
                # -P: the cwd is not put on sys.path, so a folder named nbreports/ there cannot shadow us
                [sys.executable, "-P", "-m", "nbreports.engines.papermill_child", str(job_file)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                start_new_session=True,  # its own process group, so a timeout kills the kernel too
            )
            reader = threading.Thread(target=_pump, args=(proc, log), daemon=True)
            reader.start()
            timed_out = False
            with PeakMemory(proc.pid) as memory:
                try:
                    proc.wait(timeout=job.run_timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    log(f"run timeout of {job.run_timeout}s reached: stopping the notebook")
                    _stop(proc)
            reader.join(timeout=5)
            result = _read_result(result_file, proc.returncode)
            result.extra["peak_memory_bytes"] = memory.peak_bytes or None
        result.duration_s = round(time.monotonic() - start, 3)
        if timed_out:
            where = f" in cell {result.failed_cell}" if result.failed_cell is not None else ""
            result.status, result.error_type = "failed", "run_timeout"
            result.error = f"run timed out after {job.run_timeout}s{where}"
        return result


def _pump(proc: subprocess.Popen[str], log: LogSink) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        log(line.rstrip("\n"))


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the papermill process (not the kernel) so it saves the output notebook and shuts
    the kernel down; SIGKILL the whole group if it lingers."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):  # the kernel shares the group: leave nothing behind
        os.killpg(proc.pid, signal.SIGKILL)


def _read_result(result_file: Path, returncode: int | None) -> ExecutionResult:
    try:
        return ExecutionResult(**json.loads(result_file.read_text()))
    except (OSError, ValueError, TypeError):
        return ExecutionResult(
            status="failed", error_type="engine_error",
            error=f"the papermill process ended with exit code {returncode} before reporting a result",
        )
