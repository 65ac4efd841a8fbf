"""run liveness, attempts, failure kind, report bundle and lineage

A running run's worker writes ``heartbeat_at`` while it executes, with its ``host`` and ``pid``,
so the maintenance DAG and ``nbr`` can tell a live run from a lost one. ``attempt`` counts the
Airflow tries that executed the run; ``failure_kind`` is why it failed (``lost`` among them).
``bundle`` is the content digest of the report folder's files the run used; ``upstream_runs`` the
upstream run each triggering Asset event named.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

COLUMNS = (
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    sa.Column("attempt", sa.Integer),
    sa.Column("failure_kind", sa.String(30)),
    sa.Column("bundle", sa.String(64)),
    sa.Column("upstream_runs", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for column in COLUMNS:
            batch.add_column(column.copy())
    op.create_index("ix_runs_status_heartbeat", "runs", ["status", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_status_heartbeat", "runs")
    with op.batch_alter_table("runs") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column.name)
