"""The one exception hierarchy of nbreports.

Every error the core raises is an ``NbreportsError``. Upstream errors (papermill, nbformat,
boto, SQLAlchemy, YAML) are wrapped with ``raise ... from`` so the cause stays visible.

    NbreportsError
    ├── SpecError            a report spec or notebook is invalid (names file and field)
    ├── ParameterError       run parameters do not match the notebook's schema
    ├── ReportNotFound       no such report in the notebooks folder
    ├── StoreError           reading or writing the store failed
    │   └── UnsafePathError  a report name or path would escape the store
    ├── DatabaseError        the platform database could not be reached or migrated
    └── ExecutionError       the notebook ran and failed (output notebook is saved first)
        ├── CellExecutionError  a cell raised
        ├── KernelDiedError     the kernel process died
        └── RunTimeoutError     a cell or the whole run took too long
"""

from __future__ import annotations


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


class ParameterError(NbreportsError):
    """Run parameters do not match the notebook's parameter schema."""

    def __init__(self, report: str, problems: list[str]) -> None:
        self.report = report
        self.problems = problems
        super().__init__(f"invalid parameters for report {report!r}: " + "; ".join(problems))


class ReportNotFound(NbreportsError):
    """No report of that name exists."""


class StoreError(NbreportsError):
    """Reading or writing the store failed."""


class UnsafePathError(StoreError):
    """A report name, run id or path would escape the store."""


class DatabaseError(NbreportsError):
    """The platform database could not be reached or migrated."""


class ExecutionError(NbreportsError):
    """The notebook ran and failed. The output notebook was saved before this was raised."""

    def __init__(self, message: str, *, cell_index: int | None = None, output_uri: str | None = None) -> None:
        self.cell_index = cell_index
        self.output_uri = output_uri
        super().__init__(message)


class CellExecutionError(ExecutionError):
    """A cell raised an exception."""


class KernelDiedError(ExecutionError):
    """The kernel process died (killed, crashed or out of memory)."""


class RunTimeoutError(ExecutionError):
    """A cell exceeded the cell timeout or the run exceeded the run timeout."""
