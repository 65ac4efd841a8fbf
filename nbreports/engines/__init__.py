"""Execution engines, a named registry like papermill's: ``get_engine("local")``.

An engine runs one prepared notebook (parameters already injected) and always leaves the
output notebook at ``job.output_path``, also when a cell fails or time runs out.
"""

from __future__ import annotations

from nbreports.engines.base import Engine, ExecutionJob, ExecutionResult, LogSink
from nbreports.engines.local import LocalEngine
from nbreports.engines.podman import KubernetesEngine, PodmanEngine
from nbreports.errors import UnknownEngineError

_ENGINES: dict[str, type[Engine]] = {}


def register_engine(name: str, engine: type[Engine]) -> None:
    """Make ``get_engine(name)`` (and a spec's ``executor: name``) run jobs with ``engine``."""
    _ENGINES[name] = engine


def get_engine(name: str) -> Engine:
    """A new engine of the registered ``name``; ``UnknownEngineError`` names the known ones."""
    try:
        return _ENGINES[name]()
    except KeyError:
        raise UnknownEngineError(f"unknown executor {name!r}; known: {', '.join(sorted(_ENGINES))}") from None


register_engine("local", LocalEngine)
register_engine("podman", PodmanEngine)
register_engine("kubernetes", KubernetesEngine)

__all__ = ["Engine", "ExecutionJob", "ExecutionResult", "LogSink", "get_engine", "register_engine"]
