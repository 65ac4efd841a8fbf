"""The record of each notification: planned once per run, event, rule and try; each attempt's outcome.

A delivery is planned before it is tried, so a worker that dies between the two leaves a
``pending`` row the retry finds. A failed try is tried again on ``nbreports.retries``' schedule (1, 5, 15, 60
minutes), until ``notify_max_attempts`` tries; then it is ``gave_up``. Planning the same run,
event, rule and try twice (a publish retried) writes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.errors import DatabaseError
from nbreports.retries import next_try_at
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import NotificationRow, utcnow

PENDING_STALE_S = 600  # a pending row this old was planned by a worker that never tried it
MAX_ERROR_CHARS = 2000


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"  # planned, not tried yet
    SENT = "sent"
    FAILED = "failed"  # tried and failed; tried again at next_attempt_at
    GAVE_UP = "gave_up"  # failed notify_max_attempts times


def plan(
    db: PlatformDB,
    *,
    run_id: str,
    report: str,
    event: str,
    rule: int,
    channel: str,
    conn_id: str,
    recipients: list[str],
    options: dict[str, Any] | None = None,
    try_number: int = 0,
) -> NotificationRow | None:
    """Record a delivery to make; None when this run, event, rule and try was planned already."""
    values: dict[str, Any] = {
        "run_id": run_id,
        "report": report,
        "event": event,
        "rule": rule,
        "try_number": try_number,
        "channel": channel,
        "conn_id": conn_id,
        "recipients": recipients,
        "options": options or {},
        "status": str(DeliveryStatus.PENDING),
        "attempts": 0,
        "created_at": utcnow(),
    }
    if not db.insert(NotificationRow, values, ["run_id", "event", "rule", "try_number"]):
        return None
    with _session(db) as s:
        return s.scalars(
            select(NotificationRow).filter_by(run_id=run_id, event=event, rule=rule, try_number=try_number)
        ).one()


def record_attempt(db: PlatformDB, delivery_id: int, error: str | None, max_attempts: int) -> NotificationRow:
    """Record one try of a delivery: sent (``error`` None), failed with a next try, or given up."""
    now = utcnow()
    try:
        with _session(db) as s, s.begin():
            row = s.get(NotificationRow, delivery_id)
            if row is None:
                raise DatabaseError(f"notification {delivery_id} is not in the platform database")
            row.attempts += 1
            row.last_error = error[:MAX_ERROR_CHARS] if error else None
            if error is None:
                row.status, row.sent_at, row.next_attempt_at = str(DeliveryStatus.SENT), now, None
            elif row.attempts >= max_attempts:
                row.status, row.next_attempt_at = str(DeliveryStatus.GAVE_UP), None
            else:
                row.status, row.next_attempt_at = str(DeliveryStatus.FAILED), next_try_at(row.attempts, now)
            return row
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not record notification {delivery_id}: {exc}") from exc


def due(db: PlatformDB, now: datetime | None = None, limit: int = 200) -> list[NotificationRow]:
    """Deliveries to try now: failed ones whose next try is due, and pending ones nobody tried."""
    now = now or utcnow()
    c = NotificationRow
    query = (
        select(c)
        .where(
            sa.or_(
                sa.and_(c.status == str(DeliveryStatus.FAILED), c.next_attempt_at <= now),
                sa.and_(
                    c.status == str(DeliveryStatus.PENDING), c.created_at <= now - timedelta(seconds=PENDING_STALE_S)
                ),
            )
        )
        .order_by(c.id)
        .limit(limit)
    )
    with _session(db) as s:
        return list(s.scalars(query))


def for_run(db: PlatformDB, run_id: str) -> list[dict[str, Any]]:
    """A run's deliveries, oldest first, as the run page shows them."""
    with _session(db) as s:
        rows = s.scalars(select(NotificationRow).filter_by(run_id=run_id).order_by(NotificationRow.id))
        return [_public(row) for row in rows]


def _public(row: NotificationRow) -> dict[str, Any]:
    fields = row.to_dict()
    for key in ("created_at", "sent_at", "next_attempt_at"):
        fields[key] = fields[key] and fields[key].isoformat()
    return fields


def _session(db: PlatformDB) -> Session:
    return Session(db.engine, expire_on_commit=False)
