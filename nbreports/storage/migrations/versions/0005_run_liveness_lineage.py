"""run liveness, attempts, failure kind, report bundle and lineage

A running run's worker writes ``heartbeat_at`` while it executes, with its ``host`` and ``pid``,
so the maintenance DAG and ``nbr`` can tell a live run from a lost one. ``attempt`` is the
Airflow try that executed the run; ``airflow_task`` the task (dag/run/task/map index) that
prepared it, so a retry of that task supersedes the run its killed try left. ``failure_kind``
says why a run failed (``lost`` among them). ``bundle`` is the content digest of the report
folder's files the run used; ``upstream_runs`` the upstream run each triggering Asset event named.

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

COLUMNS: dict[str, Any] = {
    "heartbeat_at": sa.DateTime(timezone=True),
    "host": sa.String(255),
    "pid": sa.Integer,
    "attempt": sa.Integer,
    "airflow_task": sa.String(500),
    "failure_kind": sa.String(30),
    "bundle": sa.String(64),
    "upstream_runs": sa.JSON,
}


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name, type_ in COLUMNS.items():
            batch.add_column(sa.Column(name, type_))
    op.create_index("ix_runs_status_heartbeat", "runs", ["status", "heartbeat_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_status_heartbeat", "runs")
    with op.batch_alter_table("runs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
