"""The audit log: every write to a report, and every refused write attempt, in the platform database.

One append-only row each (``storage.tables.AuditRow``): who, what (action, outcome, details),
which report, when (UTC) and from where (client address, user agent). Read newest first, a page
at a time (keyset on the row id), for one report or filtered to the reports a reader may see —
the filter is in the query, so totals count only what the reader may see.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.errors import BadQuery, DatabaseError
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import AuditRow

MAX_PAGE = 200


class Outcome(StrEnum):
    """How a write attempt ended."""

    DONE = "done"
    DENIED = "denied"  # the policy refused it (403)
    INVALID = "invalid"  # refused for its input (400); nothing was changed


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the server saw it."""

    client: str | None = None
    user_agent: str | None = None


@dataclass
class AuditPage:
    """A page of entries, newest first, the number that match and the cursor of the next page."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: int | None
    limit: int
    extra: dict[str, Any] = field(default_factory=dict)


def record(
    db: PlatformDB,
    *,
    actor: str,
    action: str,
    outcome: Outcome,
    report: str | None,
    details: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> int:
    """Append one entry; its id."""
    origin = origin or Origin()
    row = AuditRow(
        at=datetime.now(UTC),
        actor=actor[:200],
        action=action[:50],
        outcome=str(outcome),
        report=report,
        details=details or {},
        client=(origin.client or None) and origin.client[:100],
        user_agent=(origin.user_agent or None) and origin.user_agent[:500],
    )
    try:
        with Session(db.engine, expire_on_commit=False) as s, s.begin():
            s.add(row)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not write the audit log: {exc}") from exc
    return int(row.id)


def _as_dict(row: AuditRow) -> dict[str, Any]:
    entry = row.to_dict()
    at = entry["at"]
    entry["at"] = (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()
    return entry


def entries(
    db: PlatformDB,
    *,
    reports: Collection[str] | None = None,
    limit: int = 50,
    cursor: int | None = None,
    action: str | None = None,
) -> AuditPage:
    """Entries newest first; ``reports`` (None: all) narrows them *before* counting and paging."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadQuery(f"limit must be between 1 and {MAX_PAGE}")
    where: list[sa.ColumnElement[bool]] = []
    if reports is not None:
        where.append(AuditRow.report.in_(sorted(reports)))
    if action:
        where.append(AuditRow.action == action)
    stmt = select(AuditRow).where(*where)
    if cursor is not None:
        stmt = stmt.where(AuditRow.id < cursor)
    try:
        with Session(db.engine) as s:
            rows = list(s.scalars(stmt.order_by(AuditRow.id.desc()).limit(limit + 1)))
            total = int(s.scalar(select(func.count()).select_from(AuditRow).where(*where)) or 0)
            items = [_as_dict(r) for r in rows[:limit]]
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not read the audit log: {exc}") from exc
    more = len(rows) > limit
    return AuditPage(items=items, total=total, next_cursor=items[-1]["id"] if more and items else None, limit=limit)
