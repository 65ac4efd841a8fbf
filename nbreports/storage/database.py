"""The platform database: one migrated engine per URL, and the writes runs and saves make.

SQLite by default, PostgreSQL in production and tests. Tasks write here, never to Airflow's
metadata database. The tables are in ``storage.tables``; what the UI and ``nbr`` read is in ``browse``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.errors import DatabaseError
from nbreports.storage.tables import Base, NotebookVersionRow, ReportRow, RunRow, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# The newest migration in migrations/versions (a test checks it is Alembic's head). Knowing it
# lets a process see that the schema is current with one query, without importing Alembic.
SCHEMA_REVISION = "0007"


def _current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


_LOCK_KEY = 0x6E627270  # "nbrp": the advisory lock that serializes migrations on PostgreSQL


@contextmanager
def _migration_lock(engine: sa.Engine, url: str) -> Iterator[None]:
    """Only one process migrates at a time: tasks that first touch a new database race otherwise."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()
    elif url.startswith("sqlite:///"):
        with open(url.removeprefix("sqlite:///") + ".migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    else:
        yield


@cache
def _migrated_engine(url: str) -> sa.Engine:
    """One engine per URL per process, migrated to the newest schema on first use."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(url, pool_pre_ping=True)
        if _current_revision(engine) != SCHEMA_REVISION:
            with _migration_lock(engine, url):
                if _current_revision(engine) != SCHEMA_REVISION:  # another process may have just done it
                    from alembic import command

                    command.upgrade(_alembic_config(url), "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(f"platform database {sa.make_url(url)!r} is not usable: {exc}") from exc
    return engine


def dialect_insert(engine: sa.Engine, table: sa.Table) -> Any:
    """The database's own INSERT, which has ``ON CONFLICT``: PostgreSQL's or SQLite's."""
    from sqlalchemy.dialects import postgresql, sqlite

    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if engine.dialect.name not in inserts:  # pragma: no cover - only the two supported databases
        raise DatabaseError(f"unsupported platform database dialect {engine.dialect.name!r}")
    return inserts[engine.dialect.name](table)


def table_of(row: type[Base]) -> sa.Table:
    """The Table a row class is mapped to (SQLAlchemy types ``__table__`` as any FromClause)."""
    table = row.__table__
    if not isinstance(table, sa.Table):
        raise TypeError(f"{row.__name__} is not mapped to a table")
    return table


class PlatformDB:
    """The writes of the platform records. Every method opens its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _migrated_engine(url)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _insert(self, table: sa.Table, values: dict[str, Any], keys: list[str], update: bool) -> bool:
        """INSERT ... ON CONFLICT: concurrent runs of one report race to record the same rows.

        Returns whether a row was written. RETURNING tells, where ``rowcount`` does not (psycopg 3).
        """
        stmt: Any = dialect_insert(self.engine, table).values(**values)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys, set_={k: v for k, v in values.items() if k not in keys}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        try:
            with self.engine.begin() as conn:
                return conn.execute(stmt.returning(*(table.c[k] for k in keys))).first() is not None
        except SQLAlchemyError as exc:
            raise DatabaseError(f"could not write to {table.name}: {exc}") from exc

    def insert(self, row: type[Base], values: dict[str, Any], keys: list[str], *, update: bool = False) -> bool:
        """Insert a row unless one with the same ``keys`` exists (then update it if ``update``).

        Returns whether a row was written; for the side tables of other packages (notify).
        """
        return self._insert(table_of(row), values, keys, update)

    def upsert_report(
        self, name: str, title: str, owner: str, team: str, spec: dict[str, Any], parameters: list[dict[str, Any]]
    ) -> None:
        """Record (or refresh) a report's title, owner, team, spec and parameters."""
        self._insert(
            table_of(ReportRow),
            {
                "name": name,
                "title": title,
                "owner": owner,
                "team": team,
                "spec": spec,
                "parameters": parameters,
                "updated_at": utcnow(),
            },
            ["name"],
            update=True,
        )

    def add_version(
        self,
        report: str,
        sha256: str,
        size: int,
        kernel: str | None,
        source: str,
        author: str | None = None,
        origin: str | None = None,
        created_at: datetime | None = None,
    ) -> bool:
        """Record a notebook version of ``report``; False when it was known already."""
        return self._insert(
            table_of(NotebookVersionRow),
            {
                "report": report,
                "sha256": sha256,
                "size": size,
                "kernel": kernel,
                "source": source,
                "author": author,
                "origin": origin,
                "created_at": created_at or utcnow(),
            },
            ["report", "sha256"],
            update=False,
        )

    def start_run(self, **fields: Any) -> None:
        """Insert the row of a run that starts (prepare)."""
        with self._session() as s, s.begin():
            s.add(RunRow(**fields))

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change fields of a run's row (publish completes it, heartbeats and retries touch it).

        ``DatabaseError`` when there is no such run or the database cannot be reached.
        """
        try:
            self._update_run(run_id, fields)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"could not update run {run_id!r}: {exc}") from exc

    def run_row(self, run_id: str) -> RunRow | None:
        """The row of a run, or None."""
        try:
            with self._session() as s:
                return s.get(RunRow, run_id)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"could not read run {run_id!r}: {exc}") from exc

    def _update_run(self, run_id: str, fields: dict[str, Any]) -> None:
        with self._session() as s, s.begin():
            row = s.get(RunRow, run_id)
            if row is None:
                raise DatabaseError(f"run {run_id!r} is not in the platform database")
            for key, value in fields.items():
                setattr(row, key, value)
