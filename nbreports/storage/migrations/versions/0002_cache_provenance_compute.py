"""run cache keys, version provenance, compute profile and metrics of runs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("cache_key", sa.String(64)))
        batch.add_column(sa.Column("cache_hit_of", sa.String(128)))
        batch.add_column(sa.Column("profile", sa.String(50)))
        batch.add_column(sa.Column("image", sa.Text))
        batch.add_column(sa.Column("image_digest", sa.String(100)))
        batch.add_column(sa.Column("peak_memory_bytes", sa.BigInteger))
        batch.add_column(sa.Column("metrics", sa.JSON))
    op.create_index("ix_runs_report_cache_key", "runs", ["report", "cache_key"])
    with op.batch_alter_table("notebook_versions") as batch:
        batch.add_column(sa.Column("author", sa.String(200)))
        batch.add_column(sa.Column("origin", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("notebook_versions") as batch:
        batch.drop_column("origin")
        batch.drop_column("author")
    op.drop_index("ix_runs_report_cache_key", "runs")
    with op.batch_alter_table("runs") as batch:
        for column in ("metrics", "peak_memory_bytes", "image_digest", "image", "profile", "cache_hit_of", "cache_key"):
            batch.drop_column(column)
