"""The integration tests' environment: one test's nbreports home and platform DB on top of the
session's Airflow (``airflow_home``, in ``tests/conftest.py``, shared with ``tests/faults``), and
the real Airflow servers (``airflow_servers``) a module starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def airflow_env(airflow_home: dict[str, str], tmp_path: Path, pg_platform_url: str) -> dict[str, str]:
    """Environment for one test: its own nbreports home and store, the platform DB on PostgreSQL."""
    env = {
        **os.environ,
        **airflow_home,
        "NBREPORTS_HOME": str(tmp_path / "nbreports"),
        "AIRFLOW_CONN_NBREPORTS_DB": pg_platform_url,
    }
    for name in ("NBREPORTS_STORE_URL", "NBREPORTS_STORE_OPTIONS", "NBREPORTS_STORE_CONN_ID"):
        env.pop(name, None)
    return env


# A real LDAP directory (slapd) for the session, and real Airflow servers (api-server, scheduler,
# dag-processor, triggerer) logging people in against it, for e2e, auth and UI tests.
from tests.integration.servers import AirflowServers, airflow_servers  # noqa: E402, F401


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Attach the servers' log tails to the report of a failing test that used them."""
    outcome = yield
    report = outcome.get_result()
    servers = getattr(item, "funcargs", {}).get("airflow_servers")
    if report.failed and isinstance(servers, AirflowServers):
        report.sections.append(("airflow servers", servers.log_tails()))
