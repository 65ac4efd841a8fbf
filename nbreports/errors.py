"""The one exception hierarchy of nbreports.

Every error the core raises is an ``NbreportsError``. Upstream errors (papermill, nbformat,
boto, SQLAlchemy, YAML) are wrapped with ``raise ... from`` so the cause stays visible.

    NbreportsError
    ├── SpecError            a report spec or notebook is invalid (names file and field)
    ├── ParameterError       run parameters do not match the notebook's schema
    │   └── ProfileError     the compute profile asked for is unknown or not allowed for the team
    ├── ConfigError          the administrators' compute config or teams file is invalid
    │   └── UnknownEngineError  no execution engine of that name is registered
    ├── ReportNotFound       no such report in the notebooks folder
    ├── AccessDenied         the policy does not let this user do this to this report
    ├── StoreError           reading or writing the store failed
    │   ├── UnsafePathError  a report name or path would escape the store
    │   └── CorruptObjectError  a stored object fails its checksum or format (never served)
    ├── CacheError           a query-cache entry cannot be keyed safely (unknown connection identity)
    ├── VersionNotFound      no (or more than one) notebook version matches
    ├── BackupError          a backup is missing, incomplete or cannot be restored
    ├── BadQuery             a filter, cursor or page size sent to the read side cannot be used
    │   └── SearchQueryError  a search query that cannot be read (names the position and what was expected)
    ├── DatabaseError        the platform database could not be reached or migrated
    ├── NotifyError          a notification could not be delivered (recorded, retried; never fails a run)
    └── ExecutionError       the notebook ran and failed (output notebook is saved first)
        ├── CellExecutionError  a cell raised
        ├── KernelDiedError     the kernel process died
        │   └── OutOfMemoryError  killed for going over its pod's memory limit
        ├── RunTimeoutError     a cell or the whole run took too long
        ├── ImageError          the pod's image could not be found or started
        └── RunLostError        the process, worker or pod running it died (no heartbeat)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class NbreportsError(Exception):
    """Base class of every nbreports error."""


class SpecError(NbreportsError):
    """A report spec or notebook is invalid.

    The message always names the file, the field and what was expected.
    """

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:  # rebuilt from its parts, so it survives pickling (Airflow, processes)
        return (type(self), (self.file, self.field, self.problem))


class ParameterError(NbreportsError):
    """Run parameters do not match the notebook's parameter schema."""

    def __init__(self, report: str, problems: list[str]) -> None:
        self.report = report
        self.problems = problems
        super().__init__(f"invalid parameters for report {report!r}: " + "; ".join(problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.report, self.problems))


class ProfileError(ParameterError):
    """The compute profile asked for is unknown or not allowed for the report's team."""


class ConfigError(NbreportsError):
    """An administrators' file (compute config, teams file) is missing or invalid."""

    @classmethod
    def invalid(cls, path: str, exc: ValidationError) -> ConfigError:
        """The error of a file whose content fails its model: the file, the first failing field, the problem."""
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        return cls(f"{path}: {where}: {first['msg'].removeprefix('Value error, ')}")


class UnknownEngineError(ConfigError):
    """No execution engine is registered under the name a report or caller asked for."""


class ReportNotFound(NbreportsError):
    """No report of that name exists."""


class AccessDenied(NbreportsError):
    """The access policy does not let a user take an action on a report."""

    def __init__(self, user: str, report: str, action: str) -> None:
        self.user = user
        self.report = report
        self.action = action
        super().__init__(f"{user!r} may not {action} report {report!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.user, self.report, self.action))


class StoreError(NbreportsError):
    """Reading or writing the store failed."""


class UnsafePathError(StoreError):
    """A report name, run id or path would escape the store."""


class CorruptObjectError(StoreError):
    """A stored object fails its checksum or cannot be parsed: it is never served."""


class CacheError(NbreportsError):
    """A query-cache entry cannot be keyed safely, so nothing is cached or served."""


class VersionNotFound(NbreportsError):
    """No notebook version (or more than one) matches the given report and version prefix."""


class BackupError(NbreportsError):
    """A backup is missing, incomplete (no manifest) or cannot be restored."""


class BadQuery(NbreportsError):
    """A filter, cursor or page size sent to the read side cannot be used (the API answers 400)."""


class SearchQueryError(BadQuery):
    """A search query cannot be read: the message says where (``position``, 0-based) and what was expected."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        super().__init__(message if position is None else f"{message} (at character {position + 1})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.position))


class DatabaseError(NbreportsError):
    """The platform database could not be reached or migrated."""


class NotifyError(NbreportsError):
    """A notification could not be delivered; its delivery is recorded as failed and tried again."""


class ExecutionError(NbreportsError):
    """The notebook ran and failed. The output notebook was saved before this was raised."""

    def __init__(self, message: str, *, cell_index: int | None = None, output_uri: str | None = None) -> None:
        self.cell_index = cell_index
        self.output_uri = output_uri
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_execution_error, (type(self), str(self), self.cell_index, self.output_uri))


class CellExecutionError(ExecutionError):
    """A cell raised an exception."""


class KernelDiedError(ExecutionError):
    """The kernel process died (killed, crashed or out of memory)."""


class RunTimeoutError(ExecutionError):
    """A cell exceeded the cell timeout or the run exceeded the run timeout."""


class OutOfMemoryError(KernelDiedError):
    """The pod went over its memory limit and was killed."""


class ImageError(ExecutionError):
    """The pod's image could not be found or started, so the notebook never ran."""


class RunLostError(ExecutionError):
    """The process, worker or pod running the notebook died; its partial output was kept."""


def _rebuild_execution_error(
    cls: type[ExecutionError], message: str, cell_index: int | None, output_uri: str | None
) -> ExecutionError:
    return cls(message, cell_index=cell_index, output_uri=output_uri)
