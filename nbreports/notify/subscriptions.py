"""Who subscribed to a report: the recipients of its rules with ``subscribers: true``.

A person subscribes from the report's page (which needs *view*), with the address and roles their
Airflow account has; subscribing again updates both. Whether a subscriber may still view the
report is asked again, with those roles, when a notification is sent (``nbreports.notify.dispatch``).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from nbreports.access.policy import Principal
from nbreports.errors import DatabaseError
from nbreports.notify.spec import check_address
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import SubscriptionRow, utcnow


def subscribe(db: PlatformDB, report: str, who: Principal, email: str) -> None:
    """Subscribe ``who`` to ``report`` at ``email`` (ValueError naming the address if it is not one)."""
    check_address(email)
    values = {
        "report": report,
        "username": who.name,
        "email": email,
        "roles": sorted(who.roles),
        "created_at": utcnow(),
    }
    db.insert(SubscriptionRow, values, ["report", "username"], update=True)


def unsubscribe(db: PlatformDB, report: str, username: str) -> bool:
    """Remove a subscription; False when there was none."""
    try:
        with Session(db.engine) as s, s.begin():
            result = s.execute(delete(SubscriptionRow).filter_by(report=report, username=username))
            return bool(getattr(result, "rowcount", 0))
    except SQLAlchemyError as exc:
        raise DatabaseError(f"could not unsubscribe {username!r} from {report!r}: {exc}") from exc


def subscribers(db: PlatformDB, report: str) -> dict[Principal, str]:
    """The report's subscribers, with the roles they subscribed with, and their addresses."""
    with Session(db.engine) as s:
        rows = s.scalars(select(SubscriptionRow).filter_by(report=report).order_by(SubscriptionRow.username))
        return {Principal.of(row.username, row.roles or []): row.email for row in rows}


def subscription(db: PlatformDB, report: str, username: str) -> str | None:
    """The address ``username`` subscribed to ``report`` with, or None when they did not."""
    with Session(db.engine) as s:
        row = s.get(SubscriptionRow, (report, username))
        return row.email if row is not None else None
