"""What the index holds of each version, run and report, and the failures to try again.

Indexing never fails a save or a run: ``index_safely`` runs an index write, and a failure is
logged and recorded here as ``failed`` with its error and when to try again (``nbreports.retries``:
1, 5, 15, 60 minutes after the attempts so far); the maintenance DAG tries the due ones
(``search.rebuild.retry_failed``) until ``search_max_attempts``, then the source is ``given-up``
and only a reindex picks it up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from nbreports.retries import next_try_at
from nbreports.storage.database import PlatformDB, dialect_insert, table_of
from nbreports.storage.tables import SearchSourceRow, utcnow

log = logging.getLogger(__name__)

SOURCES = table_of(SearchSourceRow)


class SourceKind(StrEnum):
    """What a source of documents is."""

    VERSION = "version"  # ref: the version's sha256
    RUN = "run"  # ref: the run id
    REPORT = "report"  # ref: ''


class SourceStatus(StrEnum):
    """How the index stands with a source."""

    INDEXED = "indexed"
    FAILED = "failed"  # tried again at next_attempt_at
    GIVEN_UP = "given-up"  # only a reindex tries again


def _source(kind: SourceKind, report: str, ref: str) -> sa.ColumnElement[bool]:
    return sa.and_(SOURCES.c.kind == str(kind), SOURCES.c.report == report, SOURCES.c.ref == ref)


def is_indexed(conn: sa.Connection, kind: SourceKind, report: str, ref: str) -> bool:
    """Whether the index holds this source already (read inside the transaction that would write it)."""
    status = conn.execute(sa.select(SOURCES.c.status).where(_source(kind, report, ref))).scalar()
    return status == SourceStatus.INDEXED


def _upsert(engine: sa.Engine, values: dict[str, Any]) -> Any:
    stmt = dialect_insert(engine, SOURCES).values(**values)
    keys = ("kind", "report", "ref")
    return stmt.on_conflict_do_update(index_elements=keys, set_={k: v for k, v in values.items() if k not in keys})


def mark_indexed(conn: sa.Connection, engine: sa.Engine, kind: SourceKind, report: str, ref: str, docs: int) -> None:
    """Record a source as indexed, inside the transaction that wrote its documents."""
    values = {
        "kind": str(kind),
        "report": report,
        "ref": ref,
        "status": str(SourceStatus.INDEXED),
        "documents": docs,
        "attempts": 0,
        "error": None,
        "updated_at": utcnow(),
        "next_attempt_at": None,
    }
    conn.execute(_upsert(engine, values))


def record_failure(db: PlatformDB, kind: SourceKind, report: str, ref: str, error: str, max_attempts: int) -> None:
    """Count a failed try and say when to try again (or give up after ``max_attempts``)."""
    now = utcnow()
    with db.engine.begin() as conn:
        attempts = (conn.execute(sa.select(SOURCES.c.attempts).where(_source(kind, report, ref))).scalar() or 0) + 1
        given_up = attempts >= max_attempts
        conn.execute(
            _upsert(
                db.engine,
                {
                    "kind": str(kind),
                    "report": report,
                    "ref": ref,
                    "status": str(SourceStatus.GIVEN_UP if given_up else SourceStatus.FAILED),
                    "documents": 0,
                    "attempts": attempts,
                    "error": error[:2000],
                    "updated_at": now,
                    "next_attempt_at": None if given_up else next_try_at(attempts, now),
                },
            )
        )


def index_safely(
    db: PlatformDB, kind: SourceKind, report: str, ref: str, write: Callable[[], object], max_attempts: int
) -> bool:
    """Run an index write; a failure is logged and recorded, never raised. Whether it was indexed."""
    try:
        write()
        return True
    except Exception as exc:  # whatever breaks the index must not break a save or a run
        log.warning("search: %s %s of %s not indexed (tried again later): %s", kind, ref, report, exc)
        try:
            record_failure(db, kind, report, ref, f"{type(exc).__name__}: {exc}", max_attempts)
        except SQLAlchemyError as db_exc:  # the database itself is down: a reindex picks it up
            log.error("search: the failure to index %s %s could not be recorded either: %s", kind, ref, db_exc)
        return False


def due(db: PlatformDB, now: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The failed sources whose next try is due, oldest first."""
    stmt = (
        sa.select(SOURCES)
        .where(SOURCES.c.status == str(SourceStatus.FAILED), SOURCES.c.next_attempt_at <= (now or utcnow()))
        .order_by(SOURCES.c.next_attempt_at)
        .limit(limit)
    )
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def counts(db: PlatformDB) -> dict[str, int]:
    """How many sources are in each status (for ``nbr search status`` and the closing of a reindex)."""
    with db.engine.connect() as conn:
        stmt = sa.select(SOURCES.c.status, sa.func.count()).group_by(SOURCES.c.status)
        return {str(status): int(n) for status, n in conn.execute(stmt)}
