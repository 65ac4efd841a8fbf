"""A real Airflow for the integration tests: metadata on PostgreSQL, this repo's DAGs and plugin.

Airflow reads its configuration when first imported, so each test drives Airflow in a child
process with the environment built here (``airflow_env``), never inside the pytest process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, create_pg_database, drop_pg_database
from tests.notify_sinks import HookSink, MailSink, connections, running_sinks

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def notify_sinks() -> Iterator[tuple[MailSink, HookSink]]:
    """A real SMTP server and a real HTTP server for the session: where the servers' notifications go."""
    with running_sinks() as sinks:
        yield sinks


@pytest.fixture(scope="session")
def airflow_home(
    postgres: str, notify_sinks: tuple[MailSink, HookSink], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A migrated Airflow metadata database on PostgreSQL and the environment that points at it,
    with the connections the example reports' notify rules name (to the session's sinks)."""
    home = tmp_path_factory.mktemp("airflow")
    meta_url = create_pg_database("nbr_airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url.replace("postgresql://", "postgresql+psycopg2://"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__API_AUTH__JWT_SECRET": "nbreports-test-jwt-secret-" + "x" * 48,
        "NBREPORTS_NOTEBOOKS_DIR": str(REPO / "notebooks"),
        **connections(*notify_sinks),
    }
    # with the FAB auth manager configured, `db migrate` also creates FAB's tables (users, roles,
    # permissions: its auth manager's DB manager); the servers use FAB, `airflow dags test` needs none
    fab = {"AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"}
    subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [str(VENV_BIN / "airflow"), "db", "migrate"],
        env={**os.environ, **env, **fab},
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield env
    drop_pg_database(meta_url)


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
from tests.integration.ldap_server import LdapServer, ldap_server  # noqa: E402, F401
from tests.integration.servers import AirflowServers, airflow_servers  # noqa: E402, F401


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Attach the servers' log tails to the report of a failing test that used them."""
    outcome = yield
    report = outcome.get_result()
    servers = getattr(item, "funcargs", {}).get("airflow_servers")
    if report.failed and isinstance(servers, AirflowServers):
        report.sections.append(("airflow servers", servers.log_tails()))
