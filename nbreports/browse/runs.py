"""Runs as the UI and ``nbr`` read them: the paged history of a report, one run, the run of a DAG run.

Everything answers in one or two indexed statements, because the history page must stay fast at
100,000 runs. The writes are ``storage.database.PlatformDB``'s.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nbreports.errors import BadQuery
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import NotebookVersionRow, RunRow

MAX_PAGE = 500
COUNT_CAP = 10_000  # totals above this read "10,000+": exact counts of huge histories cost a full index scan

# Columns a history row shows; the big ones (scraps, error text) stay in the run detail.
# The optional ones appear as the schema grows (cache, compute profile, memory: migration 0002).
_HISTORY_NAMES = (
    "run_id",
    "report",
    "status",
    "parameters",
    "notebook_version",
    "executor",
    "kernel",
    "dag_id",
    "dag_run_id",
    "triggered_by",
    "started_at",
    "ended_at",
    "duration_s",
    "html_uri",
    "output_uri",
    "failed_cell",
    "cache_hit_of",
    "profile",
    "peak_memory_bytes",
)
_HISTORY_COLUMNS = tuple(RunRow.__table__.c[n] for n in _HISTORY_NAMES if n in RunRow.__table__.c)


@dataclass(frozen=True)
class HistoryFilter:
    """What a history page is narrowed to; every field left ``None`` matches all runs."""

    status: str | None = None
    notebook_version: str | None = None  # a sha256 or a prefix of at least 6 hex digits
    triggered_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Page:
    """One page of runs, the total that match (capped at ``COUNT_CAP``) and the cursor of the next page."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    limit: int
    total_exact: bool = True  # False when there are more than COUNT_CAP matches
    extra: dict[str, Any] = field(default_factory=dict)


def session(db: PlatformDB) -> Session:
    """A read session on the platform database."""
    return Session(db.engine)


def encode_cursor(started_at: datetime, run_id: str) -> str:
    """The opaque, URL-safe cursor of the page that follows the run at (``started_at``, ``run_id``)."""
    raw = json.dumps([started_at.isoformat(), run_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Keyset cursors (started_at, run_id) keep deep pages as cheap as the first one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, run_id = json.loads(raw)
        return datetime.fromisoformat(started), str(run_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadQuery(f"invalid cursor {cursor!r}") from exc


def _versions_with_prefix(s: Session, report: str, prefix: str) -> list[str]:
    """Full digests for a prefix, from the small versions table, so runs are filtered by equality."""
    prefix = prefix.lower()
    if len(prefix) < 6 or any(c not in "0123456789abcdef" for c in prefix):
        raise BadQuery("notebook_version needs at least 6 hex digits")
    if len(prefix) == 64:
        return [prefix]
    return list(
        s.scalars(
            select(NotebookVersionRow.sha256).where(
                NotebookVersionRow.report == report, NotebookVersionRow.sha256.startswith(prefix, autoescape=True)
            )
        )
    )


def _history_where(s: Session, report: str, flt: HistoryFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [RunRow.report == report]
    if flt.status:
        where.append(RunRow.status == flt.status)
    if flt.notebook_version:
        where.append(RunRow.notebook_version.in_(_versions_with_prefix(s, report, flt.notebook_version)))
    if flt.triggered_by:
        where.append(RunRow.triggered_by == flt.triggered_by)
    if flt.since:
        where.append(RunRow.started_at >= flt.since)
    if flt.until:
        where.append(RunRow.started_at < flt.until)
    return where


def history(
    db: PlatformDB,
    report: str,
    flt: HistoryFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = True,
) -> Page:
    """Newest runs first, ``limit`` at a time; ``next_cursor`` fetches the following page."""
    flt = flt or HistoryFilter()
    if not 1 <= limit <= MAX_PAGE:
        raise BadQuery(f"limit must be between 1 and {MAX_PAGE}")
    with session(db) as s:
        where = _history_where(s, report, flt)
        stmt = select(*_HISTORY_COLUMNS).where(*where)
        if cursor:
            started, run_id = decode_cursor(cursor)
            stmt = stmt.where(
                sa.or_(RunRow.started_at < started, sa.and_(RunRow.started_at == started, RunRow.run_id < run_id))
            )
        stmt = stmt.order_by(RunRow.started_at.desc(), RunRow.run_id.desc()).limit(limit + 1)
        rows = [dict(r) for r in s.execute(stmt).mappings()]
        total = -1
        if with_total:
            capped = select(RunRow.run_id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = int(s.scalar(select(func.count()).select_from(capped)) or 0)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["started_at"], rows[-1]["run_id"]) if more and rows else None
    return Page(
        items=rows, total=min(total, COUNT_CAP), next_cursor=next_cursor, limit=limit, total_exact=total <= COUNT_CAP
    )


def get_run(db: PlatformDB, report: str, run_id: str) -> dict[str, Any] | None:
    """The full run record, only if it belongs to ``report`` (URLs name both)."""
    with session(db) as s:
        row = s.get(RunRow, run_id)
        return row.to_dict() if row is not None and row.report == report else None


def run_for_dag_run(db: PlatformDB, report: str, dag_run_id: str) -> dict[str, Any] | None:
    """The report run an Airflow DAG run made (the newest one, if a retry made several)."""
    stmt = (
        select(RunRow)
        .where(RunRow.report == report, RunRow.dag_run_id == dag_run_id)
        .order_by(RunRow.started_at.desc())
        .limit(1)
    )
    with session(db) as s:
        row = s.scalars(stmt).first()
        return row.to_dict() if row is not None else None


def recent_runs(db: PlatformDB, report: str, limit: int = 50) -> list[dict[str, Any]]:
    """The full records of the newest ``limit`` runs of ``report`` (``nbr history``)."""
    stmt = select(RunRow).where(RunRow.report == report).order_by(RunRow.started_at.desc()).limit(limit)
    with session(db) as s:
        return [row.to_dict() for row in s.scalars(stmt)]
