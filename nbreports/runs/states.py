"""How a run stands and, when it failed, what kind of failure it was: the two enums every layer shares.

Both are ``StrEnum``s, so they are stored, compared and serialized as their plain values
(``"success"``, ``"cell_error"``) in the database, the store, XCom and the API.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """The status of a run (and of an engine's result)."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"

    @classmethod
    def finished(cls) -> tuple[RunStatus, ...]:
        """The statuses a run ends in."""
        return (cls.SUCCESS, cls.FAILED)


class FailureKind(StrEnum):
    """Why a run failed; each kind maps to one ``ExecutionError`` subclass (``runs.failures``)."""

    CELL_ERROR = "cell_error"  # a cell raised
    CELL_TIMEOUT = "cell_timeout"  # one cell ran past the cell timeout
    RUN_TIMEOUT = "run_timeout"  # the whole notebook ran past the run timeout
    KERNEL_DIED = "kernel_died"  # the kernel process died
    OUT_OF_MEMORY = "out_of_memory"  # the pod went over its memory limit and was killed
    IMAGE_MISSING = "image_missing"  # the pod's image could not be found or pulled
    ENGINE_ERROR = "engine_error"  # the engine itself failed (papermill or podman died, no result left)
    STORE_ERROR = "store_error"  # the run's files could not be stored (disk full, the object store down)
    LOST = "lost"  # the process, worker or pod running it died: no heartbeat, and Airflow no longer runs it
