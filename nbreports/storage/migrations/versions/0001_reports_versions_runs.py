"""reports, notebook versions and runs

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notebook_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("report", sa.String(63), nullable=False, index=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("kernel", sa.String(100)),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("report", "sha256", name="uq_version_report_sha"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("report", sa.String(63), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("notebook_version", sa.String(64), nullable=False),
        sa.Column("executor", sa.String(20), nullable=False),
        sa.Column("kernel", sa.String(100)),
        sa.Column("dag_id", sa.String(250)),
        sa.Column("dag_run_id", sa.String(250)),
        sa.Column("triggered_by", sa.String(250)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("input_uri", sa.Text),
        sa.Column("output_uri", sa.Text),
        sa.Column("html_uri", sa.Text),
        sa.Column("scraps", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("failed_cell", sa.Integer),
    )
    op.create_index("ix_runs_report_started", "runs", ["report", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_report_started", "runs")
    op.drop_table("runs")
    op.drop_table("notebook_versions")
    op.drop_table("reports")
