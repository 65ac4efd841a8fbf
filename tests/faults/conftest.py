"""The fault suite: each test injects one fault into real parts and checks what survived it.

Every test here is marked ``faults`` (and, through its fixtures, for the services it uses) and
names its fault with ``@pytest.mark.faults("<n>. <fault>")``. At the end of the session the table
of faults survived is printed (``pytest_terminal_summary``), so the CI log shows it; a test adds
what it saw to its row with the ``fault`` fixture (``fault.note("...")``).

The suite needs root (it mounts a tmpfs and restarts PostgreSQL), a PostgreSQL server, the S3
endpoint and, for the Airflow faults, the servers of ``tests/integration/servers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, close_platform_db, create_pg_database

FAULTS_DIR = Path(__file__).resolve().parent
_rows: dict[str, dict[str, Any]] = {}  # nodeid -> fault, outcome, notes (in collection order)


@pytest.hookimpl(tryfirst=True)  # before pytest's -m selection reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of the suite ``faults``; remember which fault each one injects."""
    for item in items:
        if not item.path.is_relative_to(FAULTS_DIR):
            continue
        named = [m.args[0] for m in item.iter_markers("faults") if m.args]
        if not named:
            raise pytest.UsageError(f'{item.nodeid}: name its fault with @pytest.mark.faults("<n>. <fault>")')
        item.add_marker("faults")
        _rows[item.nodeid] = {"fault": named[0], "outcome": "not run", "notes": []}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep each fault test's outcome and notes for the table."""
    row = _rows.get(report.nodeid)
    if row is None or (report.when != "call" and report.passed):
        return
    notes = [str(v) for k, v in report.user_properties if k == "fault"]
    row["notes"] = notes or row["notes"]
    if hasattr(report, "wasxfail"):
        row["outcome"] = "xfail: " + str(report.wasxfail) if report.skipped else "XPASS"
    elif report.failed:
        row["outcome"] = "FAILED" if report.when == "call" else f"ERROR ({report.when})"
    elif report.skipped:
        row["outcome"] = "skipped"
    else:
        row["outcome"] = f"survived ({report.duration:.0f} s)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the Airflow servers' log tails to the report of a failing fault test that used them."""
    outcome = yield
    report = outcome.get_result()
    servers = getattr(item, "funcargs", {}).get("airflow_servers")
    if report.failed and hasattr(servers, "log_tails"):
        report.sections.append(("airflow servers", servers.log_tails()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The table of faults survived, by fault number."""
    ran = sorted((row for row in _rows.values() if row["outcome"] != "not run"), key=_fault_order)
    if not ran:
        return
    terminalreporter.write_sep("=", "faults survived (tests/faults)")
    width = max(len(row["fault"]) for row in ran)
    for row in ran:
        terminalreporter.write_line(f"{row['fault']:<{width}}  {row['outcome']}")
        for note in row["notes"]:
            terminalreporter.write_line(f"{'':<{width}}    - {note}")
    survived = sum(row["outcome"].startswith("survived") for row in ran)
    terminalreporter.write_line(f"{survived} of {len(ran)} faults survived")


def _fault_order(row: dict[str, Any]) -> tuple[int, str]:
    """Rows by their fault's number ("5b. ..." after "5. ...")."""
    number = row["fault"].split(".", 1)[0]
    digits = "".join(c for c in number if c.isdigit())
    return (int(digits or 0), number)


@dataclass
class FaultNotes:
    """What a test saw, added to its row of the table (``note``)."""

    item: pytest.Item

    def note(self, text: str) -> None:
        """Add ``text`` to this test's row of the faults table."""
        self.item.user_properties.append(("fault", text))


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> FaultNotes:
    """Notes for this test's row of the faults table."""
    return FaultNotes(request.node)


@pytest.fixture
def pg_db_url(postgres: str) -> Iterator[str]:
    """A fresh platform database on the PostgreSQL server (the production pairing), dropped after the test."""
    from nbreports.storage.database import PlatformDB

    url = create_pg_database("nbr_faults")
    yield url
    close_platform_db(url, PlatformDB(url))


@pytest.fixture
def nbr_env(tmp_path: Path, notebooks: Path) -> dict[str, str]:
    """The environment of an ``nbr`` child process: this test's notebooks and home, the repo's teams file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBREPORTS_")}
    return {
        **env,
        "NBREPORTS_HOME": str(tmp_path / "nbr-home"),
        "NBREPORTS_NOTEBOOKS_DIR": str(notebooks),
        "NBREPORTS_TEAMS_FILE": str(REPO / "config" / "teams.yaml"),
        "PYTHONUNBUFFERED": "1",
    }
