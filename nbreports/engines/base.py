"""What every engine takes and gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbreports.runs.states import FailureKind, RunStatus

if TYPE_CHECKING:
    from nbreports.pods.manifest import PodRequest

LogSink = Callable[[str], None]


@dataclass(frozen=True)
class ExecutionJob:
    """One notebook to execute: the files, kernel, limits and environment an engine needs."""

    input_path: Path  # the prepared notebook, parameters already injected
    output_path: Path  # where the executed notebook must be left
    kernel: str
    cwd: Path  # the run's copy of its report folder (the bundle unpacked), so the notebook finds its data files
    cell_timeout: int
    run_timeout: int
    env: dict[str, str] = field(default_factory=dict)
    pod: PodRequest | None = None  # pod engines: the pod to run (it reads and writes the store itself)


@dataclass
class ExecutionResult:
    """How an execution ended: the status, and for a failure its kind, message and cell."""

    status: RunStatus
    error: str | None = None
    error_type: FailureKind | None = None
    failed_cell: int | None = None
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:  # from JSON (the papermill child, execution.json) they arrive as strings
        self.status = RunStatus(self.status)
        self.error_type = FailureKind(self.error_type) if self.error_type else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (enums as their values), as ``execution.json`` and XCom hold it."""
        data = asdict(self)
        data["status"] = self.status.value
        data["error_type"] = self.error_type.value if self.error_type else None
        return data

    @classmethod
    def failure(cls, kind: FailureKind, error: str, cell: int | None = None, **fields: Any) -> ExecutionResult:
        """A failed result of ``kind``: what went wrong and, when known, in which cell."""
        return cls(status=RunStatus.FAILED, error_type=kind, error=error, failed_cell=cell, **fields)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionResult:
        """The result back from ``to_dict``'s JSON."""
        return cls(**data)


class Engine:
    """What every engine is: ``execute`` runs one job; the lifecycle hooks are optional."""

    name: str

    def prestart(self) -> None:
        """Start what can start before the job is known, to overlap it with preparing the run."""

    def close(self) -> None:
        """Release what ``prestart`` started when no job came (invalid parameters, a cache hit)."""

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        """Run ``job``, streaming its output lines to ``log``; how it ended (failures are results, not raised)."""
        raise NotImplementedError
