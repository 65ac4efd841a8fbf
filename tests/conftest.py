"""Shared fixtures: a private nbreports home, PostgreSQL databases and a real S3 endpoint."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("NBREPORTS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def create_pg_database(prefix: str) -> str:
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
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
def pg_platform_url() -> Iterator[str]:
    """A PostgreSQL database for the platform records, dropped after the session."""
    url = create_pg_database("nbr_platform")
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real HTTP S3 endpoint (moto's server) on localhost, with a bucket ``reports``."""
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


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A migrated platform database, once on SQLite and once on a fresh PostgreSQL database."""
    from nbreports.storage.database import PlatformDB

    if request.param == "sqlite":
        yield PlatformDB(f"sqlite:///{tmp_path / 'platform.db'}")
        return
    url = create_pg_database("nbr_unit")
    platform_db = PlatformDB(url)
    yield platform_db
    platform_db.engine.dispose()
    drop_pg_database(url)
