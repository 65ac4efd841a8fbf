"""indexes for the UI's history, status filters and DAG-run lookups

The history page orders by (started_at, run_id) within a report and filters by status or
notebook version; the DAG-run tab finds a report run by its Airflow run id. Each of these stays
an index scan at 100,000 runs. (ix_runs_report_started from 0001 is now redundant.)

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("ix_runs_report_started_run", "runs", ["report", "started_at", "run_id"])
    op.create_index("ix_runs_report_status_started", "runs", ["report", "status", "started_at"])
    op.create_index("ix_runs_report_dag_run", "runs", ["report", "dag_run_id"])
    op.create_index("ix_runs_report_version_started", "runs", ["report", "notebook_version", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_report_version_started", "runs")
    op.drop_index("ix_runs_report_dag_run", "runs")
    op.drop_index("ix_runs_report_status_started", "runs")
    op.drop_index("ix_runs_report_started_run", "runs")
