"""The report the faults hit, and how a test waits for the moment to inject one.

``make_fault_report`` writes a small report whose second cell, given a ``mark`` path, writes
``"<kernel pid> <papermill child pid>"`` there and, on its first try only (no mark yet), sleeps
``hold`` seconds: the window in which a test kills or cuts something. A retry finds the mark and
runs straight through. ``big`` prints that many characters, for an output that does not fit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nbreports.browse.runs import recent_runs
from nbreports.runs.model import Platform
from tests.helpers import make_report

PARAMETERS = 'mark: str = ""\nhold: float = 0\nbig: int = 0'
CELLS = (
    'print("before the fault", flush=True)',
    "import os, pathlib, time\n"
    "if mark:\n"
    "    first = not pathlib.Path(mark).exists()\n"
    '    pathlib.Path(mark + ".tmp").write_text(f"{os.getpid()} {os.getppid()}")\n'
    '    os.replace(mark + ".tmp", mark)\n'
    "    if first:\n"
    "        time.sleep(hold)\n"
    'print("x" * big)',
    'print("done")',
)
NBR = [sys.executable, "-c", "import sys; from nbreports.cli import main; sys.exit(main())"]

T = TypeVar("T")


def use_platform(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], store_url: str, db_url: str, **options: Any
) -> Platform:
    """Point ``nbr``'s environment and this process at the same store and database; that platform."""
    settings = {"NBREPORTS_STORE_URL": store_url, "NBREPORTS_DATABASE_URL": db_url}
    if options:
        settings["NBREPORTS_STORE_OPTIONS"] = json.dumps(options)
    env.update(settings)
    for name in ("NBREPORTS_HOME", "NBREPORTS_NOTEBOOKS_DIR", *settings):
        monkeypatch.setenv(name, env[name])
    return Platform.from_settings()


def runs_of(platform: Platform, report: str) -> list[dict[str, Any]]:
    """Every run of ``report`` the database has, newest first."""
    return list(recent_runs(platform.db, report, limit=100))


def make_fault_report(notebooks: Path, name: str, **spec: Any) -> Path:
    """The fault report ``name`` in ``notebooks`` (spec fields such as ``retries`` as keywords)."""
    return make_report(notebooks, name, PARAMETERS, *CELLS, spec={"cell_timeout": 120, **spec})


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 90.0, every: float = 0.2) -> T:
    """Poll ``probe`` until it returns something; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None and value is not False:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not seen after {timeout:.0f} s")


def read_mark(mark: Path) -> tuple[int, int] | None:
    """The kernel's and the papermill child's pids once the slow cell has started, else None."""
    try:
        kernel, child = mark.read_text().split()
    except (OSError, ValueError):
        return None
    return int(kernel), int(child)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def nbr(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``nbr ARGS`` in a child process to its end."""
    return subprocess.run(  # noqa: S603 - argv fixed by the test
        [*NBR, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_nbr(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start ``nbr ARGS`` in a child process (its own session, so a test can kill its group)."""
    return subprocess.Popen(  # noqa: S603 - argv fixed by the test
        [*NBR, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
