"""How a papermill pod ended, as an ``ExecutionResult``: shared by the podman and kubernetes paths.

Inside a pod only papermill's exit code, its log and the output notebook it saved are left to
read, so the failure is told from those (plus what the runtime says about memory and time).
"""

from __future__ import annotations

from typing import Any

from nbreports.engines.base import ExecutionResult
from nbreports.runs.states import FailureKind, RunStatus

_ERROR_CELL_TAG = "papermill-error-cell-tag"  # cells papermill inserts to point at the failure


def _cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """The notebook's cells as they were run (without papermill's inserted error markers)."""
    return [c for c in nb.get("cells", []) if _ERROR_CELL_TAG not in c.get("metadata", {}).get("tags", [])]


def _failed_cell(nb: dict[str, Any]) -> tuple[int | None, str | None]:
    """(index, "Ename: evalue") of the cell that raised, if any."""
    for index, cell in enumerate(_cells(nb)):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, f"{output.get('ename')}: {output.get('evalue')}"
    return None, None


def _running_cell(nb: dict[str, Any]) -> int | None:
    """The cell papermill marked as running (or the first pending one) when the run stopped."""
    pending = None
    for index, cell in enumerate(_cells(nb)):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status == "running":
            return index
        if status == "pending" and pending is None and cell.get("cell_type") == "code":
            pending = index
    return pending


def classify(
    *,
    exit_code: int | None,
    nb: dict[str, Any] | None,
    log_tail: str,
    oom_killed: bool = False,
    timed_out: bool = False,
    run_timeout: int = 0,
    cell_timeout: int = 0,
    memory_limit: str | None = None,
    profile: str | None = None,
) -> ExecutionResult:
    """The result of a finished papermill container."""
    nb = nb or {}
    if exit_code == 0 and not (oom_killed or timed_out):
        return ExecutionResult(status=RunStatus.SUCCESS)
    running = _running_cell(nb)
    where = f" in cell {running}" if running is not None else ""
    if oom_killed:
        limit = f" of {memory_limit}" if memory_limit else ""
        return ExecutionResult.failure(
            FailureKind.OUT_OF_MEMORY,
            f"out of memory: the pod went over its memory limit{limit} (profile {profile}) and was killed{where}",
            running,
        )
    if timed_out:
        return ExecutionResult.failure(FailureKind.RUN_TIMEOUT, f"run timed out after {run_timeout}s{where}", running)
    if "CellTimeoutError" in log_tail or "Cell execution timed out" in log_tail:
        return ExecutionResult.failure(
            FailureKind.CELL_TIMEOUT, f"cell {running} exceeded the cell timeout of {cell_timeout}s", running
        )
    failed, message = _failed_cell(nb)
    if failed is not None:
        return ExecutionResult.failure(FailureKind.CELL_ERROR, f"cell {failed} raised {message}", failed)
    if "DeadKernelError" in log_tail or "Kernel died" in log_tail:
        return ExecutionResult.failure(
            FailureKind.KERNEL_DIED, f"the kernel died while running cell {running}", running
        )
    last = " | ".join(line for line in log_tail.strip().splitlines()[-3:])
    return ExecutionResult.failure(
        FailureKind.ENGINE_ERROR, f"the papermill container exited with code {exit_code}: {last}"
    )
