"""What every engine takes and gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbreports.pods import PodRequest

LogSink = Callable[[str], None]


@dataclass(frozen=True)
class ExecutionJob:
    input_path: Path  # the prepared notebook, parameters already injected
    output_path: Path  # where the executed notebook must be left
    kernel: str
    cwd: Path  # the report folder, so the notebook finds its data files
    cell_timeout: int
    run_timeout: int
    env: dict[str, str] = field(default_factory=dict)
    pod: PodRequest | None = None  # pod engines: the pod to run (it reads and writes the store itself)


@dataclass
class ExecutionResult:
    status: str  # "success" or "failed"
    error: str | None = None
    error_type: str | None = None  # cell_error, kernel_died, cell_timeout, run_timeout, engine_error
    failed_cell: int | None = None
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Engine:
    """What every engine is: ``execute`` runs one job; the lifecycle hooks are optional."""

    name: str

    def prestart(self) -> None:
        """Start what can start before the job is known, to overlap it with preparing the run."""

    def close(self) -> None:
        """Release what ``prestart`` started when no job came (invalid parameters, a cache hit)."""

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        raise NotImplementedError
