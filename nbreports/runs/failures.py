"""One mapping from a failed run to the ``ExecutionError`` subclass that says what went wrong.

Used by ``nbr run`` and the one-task operator (after publishing) and by the execute task (before
publish), so a failure is the same exception whichever path ran it.
"""

from __future__ import annotations

from typing import Any

from nbreports.errors import (
    CellExecutionError,
    ExecutionError,
    ImageError,
    KernelDiedError,
    OutOfMemoryError,
    RunLostError,
    RunTimeoutError,
)
from nbreports.runs.states import FailureKind, RunStatus

ERROR_OF_KIND: dict[FailureKind, type[ExecutionError]] = {
    FailureKind.CELL_ERROR: CellExecutionError,
    FailureKind.CELL_TIMEOUT: RunTimeoutError,
    FailureKind.RUN_TIMEOUT: RunTimeoutError,
    FailureKind.KERNEL_DIED: KernelDiedError,
    FailureKind.OUT_OF_MEMORY: OutOfMemoryError,
    FailureKind.IMAGE_MISSING: ImageError,
    FailureKind.ENGINE_ERROR: ExecutionError,
    FailureKind.STORE_ERROR: ExecutionError,
    FailureKind.LOST: RunLostError,
}


def execution_error(
    report: str,
    run_id: str,
    error: str | None,
    kind: str | None,
    *,
    failed_cell: int | None = None,
    output_uri: str | None = None,
) -> ExecutionError:
    """The exception for a failed run of ``report``: the subclass of its failure kind."""
    try:
        error_cls = ERROR_OF_KIND[FailureKind(kind)] if kind else ExecutionError
    except ValueError:  # a kind this version does not know (a newer engine): the base class still holds
        error_cls = ExecutionError
    return error_cls(f"report {report} run {run_id} failed: {error}", cell_index=failed_cell, output_uri=output_uri)


def raise_for_result(record: dict[str, Any]) -> None:
    """After publishing, turn a failed run record into the matching ``ExecutionError``."""
    if record["status"] == RunStatus.SUCCESS:
        return
    raise execution_error(
        record["report"],
        record["run_id"],
        record.get("error"),
        record.get("error_type"),
        failed_cell=record.get("failed_cell"),
        output_uri=record.get("output_uri"),
    )
