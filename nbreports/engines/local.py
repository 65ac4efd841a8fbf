"""The ``local`` engine: papermill in a child process of the worker.

A child process keeps a crashing or memory-hungry kernel client away from the Airflow task
process, lets the run timeout kill everything cleanly, and streams cell output line by line.
Neither the child nor the kernel gets a way to the platform database (``engines/environment.py``).
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
from typing import IO

from nbreports.engines.base import Engine, ExecutionJob, ExecutionResult, LogSink
from nbreports.engines.environment import kernel_environment, without_platform
from nbreports.engines.process_memory import PeakMemory
from nbreports.runs.states import FailureKind, RunStatus

_GRACE_S = 15  # after SIGTERM, time for papermill to save the output notebook


class LocalEngine(Engine):
    """Runs each job in a fresh papermill child; ``prestart()`` lets the child boot early."""

    name = "local"

    def __init__(self) -> None:
        self._spare: subprocess.Popen[str] | None = None

    def prestart(self) -> None:
        """Start the child now: its imports overlap with the caller preparing the run."""
        if self._spare is None:
            self._spare = _spawn()

    def close(self) -> None:
        """Stop the child ``prestart`` started, if no job took it."""
        spare, self._spare = self._spare, None
        if spare is not None:
            _stop(spare)
            _close_pipes(spare)

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        """Run ``job`` in the child (the prestarted one, else a new one), stopped at the run timeout."""
        start = time.monotonic()
        proc, self._spare = self._spare or _spawn(), None
        with tempfile.TemporaryDirectory(prefix="nbr-exec-") as tmp:
            result_file = Path(tmp) / "result.json"
            reader = threading.Thread(target=_pump, args=(proc, log), daemon=True)
            reader.start()
            timed_out = False
            with PeakMemory(proc.pid) as memory:
                _send(
                    proc,
                    {
                        "input_path": str(job.input_path),
                        "output_path": str(job.output_path),
                        "kernel": job.kernel,
                        "cwd": str(job.cwd),
                        "cell_timeout": job.cell_timeout,
                        "result_path": str(result_file),
                        "env": kernel_environment(job.env, str(Path(tmp) / "home")),
                    },
                )
                try:
                    proc.wait(timeout=job.run_timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    log(f"run timeout of {job.run_timeout}s reached: stopping the notebook")
                    _stop(proc)
            reader.join(timeout=5)
            if not reader.is_alive():  # a pipe still being read is left to the reader thread
                _close_pipes(proc)
            result = _read_result(result_file, proc.returncode)
            result.extra["peak_memory_bytes"] = memory.peak_bytes or None
        result.duration_s = round(time.monotonic() - start, 3)
        if timed_out:
            where = f" in cell {result.failed_cell}" if result.failed_cell is not None else ""
            result.status, result.error_type = RunStatus.FAILED, FailureKind.RUN_TIMEOUT
            result.error = f"run timed out after {job.run_timeout}s{where}"
        return result


def _spawn() -> subprocess.Popen[str]:
    return subprocess.Popen(
        # -P: the cwd is not put on sys.path, so a folder named nbreports/ there cannot shadow us
        [sys.executable, "-P", "-m", "nbreports.engines.papermill_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**without_platform(os.environ), "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # its own process group, so a timeout kills the kernel too
    )


def _send(proc: subprocess.Popen[str], job: dict[str, object]) -> None:
    """Hand the job to the child; a child that already died is reported by ``_read_result``."""
    stdin = _pipe(proc.stdin, "stdin")
    with contextlib.suppress(BrokenPipeError):
        stdin.write(json.dumps(job))
        stdin.close()


def _pump(proc: subprocess.Popen[str], log: LogSink) -> None:
    for line in _pipe(proc.stdout, "stdout"):
        log(line.rstrip("\n"))


def _pipe(stream: IO[str] | None, name: str) -> IO[str]:
    """The child's ``stdin`` or ``stdout`` pipe, which ``_spawn`` always opens."""
    if stream is None:
        raise RuntimeError(f"the papermill child was started without a {name} pipe")
    return stream


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    """Close our ends of the child's pipes once it is done with them (no unclosed-file warnings)."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop the child: SIGTERM, then SIGKILL to its whole process group if it lingers.

    SIGTERM goes to the papermill process (not the kernel) so it saves the output notebook and
    shuts the kernel down.
    """
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
        return ExecutionResult.failure(
            FailureKind.ENGINE_ERROR,
            f"the papermill process ended with exit code {returncode} before reporting a result",
        )
