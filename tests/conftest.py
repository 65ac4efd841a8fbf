"""Shared fixtures: a private nbreports home, stores, platform databases and platforms; the service markers.

Services and their markers
--------------------------
A test that needs a service is marked for it automatically, from the fixtures it uses
(``SERVICE_FIXTURES``) and from the parameters of the shared fixtures (the ``s3`` store and the
``postgresql`` database variants carry their marks)::

    postgres  a PostgreSQL server (NBREPORTS_TEST_PG, default 127.0.0.1:5432)
    s3        the S3 endpoint (moto's server on localhost)
    airflow   Airflow itself: its CLI, DAG processing, its metadata database on PostgreSQL
    e2e       real Airflow servers (api-server, scheduler, dag-processor, triggerer)
    pods      report pods through podman and a kernel image
    browser   headless Chromium
    faults    the fault suite (tests/faults): kills processes, restarts PostgreSQL, fills a disk (root)

The tests that need none of them (``make test-unit``; they pass without PostgreSQL)::

    .venv/bin/python -m pytest tests -m "not (postgres or s3 or airflow or e2e or pods or browser or faults)"

It is enforced: creating a PostgreSQL database or using the S3 endpoint from a test that lacks
the marker fails that test, and every test under ``tests/integration`` needs a service.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.notify_sinks import HookSink, MailSink

REPO = Path(__file__).resolve().parent.parent
# The shipped teams file decides who owns which report folder, also for copies of the examples in
# temporary notebooks folders (which have no config/ of their own); set before anything reads it.
os.environ.setdefault("NBREPORTS_TEAMS_FILE", str(REPO / "config" / "teams.yaml"))
PG_ADMIN_URL = os.environ.get("NBREPORTS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

SERVICE_MARKERS = ("postgres", "s3", "airflow", "e2e", "pods", "browser", "faults", "celery")
NO_SERVICES = "not (" + " or ".join(SERVICE_MARKERS) + ")"  # the -m expression of make test-unit

# A test using one of these fixtures (directly or through other fixtures) needs these services.
SERVICE_FIXTURES: dict[str, tuple[str, ...]] = {
    "postgres": ("postgres",),
    "pg_platform_url": ("postgres",),
    "s3_endpoint": ("s3",),
    "airflow_home": ("airflow", "postgres"),
    "airflow_servers": ("e2e", "airflow", "postgres"),
    "celery_cluster": ("celery", "e2e", "airflow", "postgres", "s3"),
    "kernel_image": ("pods",),
    "browser": ("browser",),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- markers: added from the fixtures, checked where the services are used -------------------------


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection, which reads these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test for the services its fixtures start; tests under tests/integration must need one."""
    integration = REPO / "tests" / "integration"
    serviceless = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, markers in SERVICE_FIXTURES.items():
            if fixture in names:
                for marker in markers:
                    item.add_marker(marker)
        if item.path.is_relative_to(integration):
            item.add_marker("integration")
            if not any(item.get_closest_marker(m) for m in SERVICE_MARKERS):
                serviceless.append(item.nodeid)
    if serviceless:
        raise pytest.UsageError("these tests need no service, so they belong in tests/unit: " + ", ".join(serviceless))


_current: dict[str, pytest.Item] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _current["item"] = item  # fixtures of any scope are set up inside the first test that needs them


def require_service(marker: str) -> None:
    """Fail the running test when it uses a service it is not marked for (so ``-m`` selections stay exact)."""
    item = _current.get("item")
    if item is not None and item.get_closest_marker(marker) is None:
        raise AssertionError(
            f"{item.nodeid} uses the {marker!r} service but is not marked {marker!r}: use a fixture of "
            f"SERVICE_FIXTURES in tests/conftest.py (or the shared store/db/platform) instead of calling it directly"
        )


# -- settings and folders ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment it set: ``get_settings()`` caches one ``Settings`` per process."""
    from nbreports.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh NBREPORTS_HOME (local store + SQLite) for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("NBREPORTS_HOME", str(home))
    for name in ("NBREPORTS_STORE_URL", "NBREPORTS_DATABASE_URL", "NBREPORTS_STORE_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    return folder


# -- PostgreSQL -------------------------------------------------------------------------------------


def create_pg_database(prefix: str) -> str:
    import sqlalchemy as sa

    require_service("postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        raise AssertionError(
            f"PostgreSQL at {PG_ADMIN_URL} is unreachable (scripts/setup-system.sh starts it; "
            f'or select the tests without services: -m "{NO_SERVICES}"): {exc}'
        ) from exc
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> str:
    """The PostgreSQL server's admin URL: a fixture that creates databases depends on it, so its tests are marked."""
    return PG_ADMIN_URL


@pytest.fixture(scope="session")
def pg_platform_url(postgres: str) -> Iterator[str]:
    """A PostgreSQL database for the platform records, shared by the session, dropped after it."""
    url = create_pg_database("nbr_platform")
    yield url
    drop_pg_database(url)


# -- the S3 endpoint --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real HTTP S3 endpoint (moto's server) on localhost, with a bucket ``reports``; one per session."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="reports")
    yield endpoint
    server.stop()


@pytest.fixture
def s3_endpoint(s3_server: str) -> str:
    """The session's S3 endpoint URL, for a test marked ``s3`` (checked each time it is used)."""
    require_service("s3")
    return s3_server


# -- the shared store, platform database and platform ---------------------------------------------


@dataclass(frozen=True)
class StoreLocation:
    """Where a test's store lives: ``open_store(url, options)`` opens it."""

    kind: str  # local or s3
    url: str
    options: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> StoreLocation:
    """A fresh store location: a local folder, and a prefix of its own on the S3 endpoint."""
    if request.param == "local":
        return StoreLocation("local", str(tmp_path / "store"))
    endpoint = request.getfixturevalue("s3_endpoint")
    return StoreLocation("s3", f"s3://reports/t-{uuid.uuid4().hex[:12]}", {"endpoint_url": endpoint})


@pytest.fixture
def store(store_location: StoreLocation) -> Any:
    """A fresh ``Store``, once in a local folder and once on the S3 endpoint."""
    from nbreports.storage.store import open_store

    return open_store(store_location.url, store_location.options)


@pytest.fixture
def local_store(tmp_path: Path) -> Any:
    """A fresh ``Store`` in the local folder ``tmp_path / "store"`` (for tests that reach into its files)."""
    from nbreports.storage.store import open_store

    return open_store(str(tmp_path / "store"))


def new_platform_db_url(kind: str, tmp_path: Path) -> str:
    """The URL of a fresh, empty platform database: SQLite in ``tmp_path`` or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.db'}"
    return create_pg_database("nbr_unit")


def close_platform_db(url: str, platform_db: Any) -> None:
    platform_db.engine.dispose()
    if url.startswith("postgresql"):
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated platform database, once on SQLite and once on a fresh PostgreSQL database."""
    from nbreports.storage.database import PlatformDB

    url = new_platform_db_url(request.param, tmp_path)
    platform_db = PlatformDB(url)
    yield platform_db
    close_platform_db(url, platform_db)


@pytest.fixture(
    params=["local-sqlite", pytest.param("s3-postgresql", marks=[pytest.mark.s3, pytest.mark.postgres])],
)
def platform(
    request: pytest.FixtureRequest, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A ``Platform`` from the settings, as ``nbr run`` builds it: a local store with SQLite (the
    defaults of ``home``), and the production pairing, a store on the S3 endpoint with PostgreSQL."""
    from nbreports.runs.model import Platform

    if request.param == "local-sqlite":
        platform = Platform.from_settings()
        yield platform
        platform.db.engine.dispose()
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    url = new_platform_db_url("postgresql", tmp_path)
    monkeypatch.setenv("NBREPORTS_STORE_URL", f"s3://reports/p-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("NBREPORTS_STORE_OPTIONS", f'{{"endpoint_url": "{endpoint}"}}')
    monkeypatch.setenv("NBREPORTS_DATABASE_URL", url)
    platform = Platform.from_settings()
    yield platform
    close_platform_db(url, platform.db)


# -- Airflow and what it talks to (tests/integration and tests/faults share one of each a session) ---
#
# Airflow reads its configuration when first imported, so the tests drive Airflow in child
# processes with the environment ``airflow_home`` returns, never inside the pytest process.


@pytest.fixture(scope="session")
def notify_sinks() -> Iterator[tuple[MailSink, HookSink]]:
    """A real SMTP server and a real HTTP server for the session: where the servers' notifications go."""
    from tests.notify_sinks import running_sinks

    with running_sinks() as sinks:
        yield sinks


@pytest.fixture(scope="session")
def airflow_home(
    postgres: str, notify_sinks: tuple[MailSink, HookSink], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A migrated Airflow metadata database on PostgreSQL and the environment that points at it,
    with the connections the example reports' notify rules name (to the session's sinks)."""
    from tests.notify_sinks import connections

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
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env={**os.environ, **env, **fab},
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield env
    drop_pg_database(meta_url)


# A real LDAP directory (slapd) for the session (imported here, after ``free_port``, which it uses)
from tests.integration.ldap_server import ldap_server  # noqa: E402, F401
