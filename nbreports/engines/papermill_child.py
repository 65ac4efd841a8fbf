"""Child process of the local engine: run papermill, then write a small result file.

Run as ``python -m nbreports.engines.papermill_child``; the job arrives as JSON on stdin once the
parent has it, so the parent can start this process early and let its imports overlap with
preparing the run. Papermill saves the output notebook in a ``finally`` block, so it is on disk
whatever happens below.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from nbreports.engines.base import ExecutionResult
from nbreports.lean_imports import optional_imports_skipped
from nbreports.runs.states import FailureKind, RunStatus


class _Terminated(Exception):  # noqa: N818 - a signal, like KeyboardInterrupt, not an error
    """Raised in the main thread on SIGTERM (the run timeout), so papermill can save."""


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise _Terminated("stopped by the run timeout")


_orphaned = threading.Event()
PARENT_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    """SIGTERM this process once ``parent`` (the worker) is gone: papermill saves, the kernel is shut down."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    _orphaned.set()
    os.kill(os.getpid(), signal.SIGTERM)


_current_cell: int | None = None
# Kernels started at once on one host can pick the same free TCP port (jupyter_client chooses
# ports by binding to 0 and closing): the loser dies before answering kernel_info. No cell has
# run then, so the child starts the kernel again, up to KERNEL_STARTS times in all.
KERNEL_STARTS = 3
KERNEL_START_FAILED = "Kernel died before replying to kernel_info"


def _on_cell_start(cell: Any, cell_index: int) -> None:
    """The nbclient hook that remembers which cell runs, to name it when the run is stopped."""
    global _current_cell
    _current_cell = cell_index


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Execute the job's notebook with papermill; the ``ExecutionResult`` as a dict, failures included."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    os.environ.update(job["env"])  # the kernel inherits it: store location, report and run id (no database)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        for start in range(1, KERNEL_STARTS + 1):
            try:
                papermill.execute_notebook(
                    job["input_path"],
                    job["output_path"],
                    kernel_name=job["kernel"],
                    cwd=job["cwd"],
                    log_output=True,
                    progress_bar=False,
                    execution_timeout=job["cell_timeout"],
                    request_save_on_cell_execute=True,
                    on_cell_start=_on_cell_start,
                )
                break
            except RuntimeError as exc:  # no cell ran yet: starting the kernel again is safe
                if start == KERNEL_STARTS or _current_cell is not None or KERNEL_START_FAILED not in str(exc):
                    raise
                logging.warning("the kernel died while starting (%s); starting it again", exc)
        return ExecutionResult(status=RunStatus.SUCCESS).to_dict()
    except PapermillExecutionError as exc:
        result = ExecutionResult.failure(
            FailureKind.CELL_ERROR, f"cell {exc.cell_index} raised {exc.ename}: {exc.evalue}", exc.cell_index
        )
    except CellTimeoutError as exc:
        result = ExecutionResult.failure(
            FailureKind.CELL_TIMEOUT,
            f"cell {_current_cell} exceeded the cell timeout of {job['cell_timeout']}s ({exc})",
            _current_cell,
        )
    except DeadKernelError as exc:
        result = ExecutionResult.failure(
            FailureKind.KERNEL_DIED, f"the kernel died while running cell {_current_cell}: {exc}", _current_cell
        )
    except _Terminated:
        if _orphaned.is_set():  # nobody reads this result: the worker died (see _watch_parent)
            result = ExecutionResult.failure(FailureKind.LOST, "the worker running the notebook died", _current_cell)
        else:
            result = ExecutionResult.failure(FailureKind.RUN_TIMEOUT, "stopped by the run timeout", _current_cell)
    return result.to_dict()


def main() -> None:
    """Read the job from stdin, run it and write its result to the job's ``result_path``."""
    parent = os.getppid()
    with optional_imports_skipped():  # 0.3 s instead of 1.9 s: see nbreports.lean_imports
        import papermill  # noqa: F401

    job = json.load(sys.stdin)  # blocks until the parent has prepared the run
    signal.signal(signal.SIGTERM, _on_sigterm)
    threading.Thread(target=_watch_parent, args=(parent,), name="nbr-parent-watch", daemon=True).start()
    try:
        result = run(job)
    except Exception as exc:  # anything else still leaves a result the parent can read
        result = ExecutionResult.failure(FailureKind.ENGINE_ERROR, f"{type(exc).__name__}: {exc}").to_dict()
    if _orphaned.is_set() and os.getpgrp() == os.getpid():  # our own group: leave no kernel behind
        os.killpg(os.getpid(), signal.SIGKILL)
    Path(job["result_path"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
