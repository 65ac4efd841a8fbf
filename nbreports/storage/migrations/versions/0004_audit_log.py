"""the audit log: every write to a report and every refused write attempt

Who (login name), what (action, outcome and a details JSON), which report, when (UTC) and from
where (client address, user agent). Pages read it newest first within a report, or across all.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("report", sa.String(63)),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("client", sa.String(100)),
        sa.Column("user_agent", sa.String(500)),
    )
    op.create_index("ix_audit_report_id", "audit_log", ["report", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_report_id", "audit_log")
    op.drop_table("audit_log")
