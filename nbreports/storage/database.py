"""The platform database: reports, notebook versions and runs (SQLAlchemy, Alembic migrations).

SQLite by default, PostgreSQL in production and tests. Tasks write here, never to Airflow's
metadata database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from nbreports.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ReportRow(Base):
    __tablename__ = "reports"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotebookVersionRow(Base):
    __tablename__ = "notebook_versions"
    __table_args__ = (UniqueConstraint("report", "sha256", name="uq_version_report_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report: Mapped[str] = mapped_column(String(63), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    kernel: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(50))  # run, cli, airflow, git, upload, jupyter, restore
    author: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(Text)  # git commit, uploaded file, Jupyter path
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_report_started", "report", "started_at"),
        Index("ix_runs_report_cache_key", "report", "cache_key"),
        # for the UI's history pages (migration 0003)
        Index("ix_runs_report_started_run", "report", "started_at", "run_id"),
        Index("ix_runs_report_status_started", "report", "status", "started_at"),
        Index("ix_runs_report_dag_run", "report", "dag_run_id"),
        Index("ix_runs_report_version_started", "report", "notebook_version", "started_at"),
    )

    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    report: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(20))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    notebook_version: Mapped[str] = mapped_column(String(64))
    executor: Mapped[str] = mapped_column(String(20))
    kernel: Mapped[str | None] = mapped_column(String(100))
    dag_id: Mapped[str | None] = mapped_column(String(250))
    dag_run_id: Mapped[str | None] = mapped_column(String(250))
    triggered_by: Mapped[str | None] = mapped_column(String(250))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float | None] = mapped_column(Float)
    input_uri: Mapped[str | None] = mapped_column(Text)
    output_uri: Mapped[str | None] = mapped_column(Text)
    html_uri: Mapped[str | None] = mapped_column(Text)
    scraps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    failed_cell: Mapped[int | None] = mapped_column(Integer)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    cache_hit_of: Mapped[str | None] = mapped_column(String(128))  # the run whose outputs this one reuses
    profile: Mapped[str | None] = mapped_column(String(50))
    image: Mapped[str | None] = mapped_column(Text)
    image_digest: Mapped[str | None] = mapped_column(String(100))
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. query cache hits, misses, bytes

    def to_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# The newest migration in migrations/versions (a test checks it is Alembic's head). Knowing it
# lets a process see that the schema is current with one query, without importing Alembic.
SCHEMA_REVISION = "0003"


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


class PlatformDB:
    """Read and write platform records. Every method opens its own short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _migrated_engine(url)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _insert(self, table: sa.Table, values: dict[str, Any], keys: list[str], update: bool) -> bool:
        """INSERT ... ON CONFLICT: concurrent runs of one report race to record the same rows.

        Returns whether a row was written. RETURNING tells, where ``rowcount`` does not (psycopg 3).
        """
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = self.engine.dialect.name
        inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
        if dialect not in inserts:  # pragma: no cover - only the two supported databases
            raise DatabaseError(f"unsupported platform database dialect {dialect!r}")
        stmt: Any = inserts[dialect](table).values(**values)
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

    def upsert_report(
        self, name: str, title: str, owner: str, team: str, spec: dict[str, Any], parameters: list[dict[str, Any]]
    ) -> None:
        self._insert(
            ReportRow.__table__,
            {  # type: ignore[arg-type]
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
            NotebookVersionRow.__table__,
            {  # type: ignore[arg-type]
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

    def versions(self, report: str) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(
                select(NotebookVersionRow)
                .where(NotebookVersionRow.report == report)
                .order_by(NotebookVersionRow.created_at.desc())
            )
            return [{c.name: getattr(r, c.name) for c in r.__table__.columns} for r in rows]

    def start_run(self, **fields: Any) -> None:
        with self._session() as s, s.begin():
            s.add(RunRow(**fields))

    def finish_run(self, run_id: str, **fields: Any) -> None:
        with self._session() as s, s.begin():
            row = s.get(RunRow, run_id)
            if row is None:
                raise DatabaseError(f"run {run_id!r} is not in the platform database")
            for key, value in fields.items():
                setattr(row, key, value)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._session() as s:
            row = s.get(RunRow, run_id)
            return row.to_dict() if row else None

    def history(self, report: str, limit: int = 50) -> list[dict[str, Any]]:
        with self._session() as s:
            rows = s.scalars(
                select(RunRow).where(RunRow.report == report).order_by(RunRow.started_at.desc()).limit(limit)
            )
            return [r.to_dict() for r in rows]

    def reports(self) -> list[dict[str, Any]]:
        with self._session() as s:
            return [
                {"name": r.name, "title": r.title, "owner": r.owner, "team": r.team}
                for r in s.scalars(select(ReportRow).order_by(ReportRow.name))
            ]
