"""notifications: each delivery of a run's notification, and the reports' subscribers

``notifications`` has one row per run, event, rule of the spec's ``notify:`` list and try (so a
publish retried never sends twice): channel, connection, recipients, status, attempts, the last
error and when to try again. ``subscriptions`` holds who subscribed to which report, where to write and their roles
then (a subscriber who may no longer view the report is not written to).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("report", sa.String(63), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("rule", sa.Integer, nullable=False),
        sa.Column("try_number", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("conn_id", sa.String(250), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("run_id", "event", "rule", "try_number", name="uq_notification_run_event_rule"),
    )
    op.create_index("ix_notifications_run_id", "notifications", ["run_id"])
    op.create_index("ix_notifications_status_next", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "subscriptions",
        sa.Column("report", sa.String(63), primary_key=True),
        sa.Column("username", sa.String(250), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subscriptions")
    op.drop_index("ix_notifications_status_next", "notifications")
    op.drop_index("ix_notifications_run_id", "notifications")
    op.drop_table("notifications")
