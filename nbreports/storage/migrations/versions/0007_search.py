"""search: the documents of every notebook version and run, their full-text index, what is indexed

``search_documents`` holds one row per searchable piece (a distinct cell content of a report's
notebooks, a run's parameters, scraps, outputs and error, a report's description) with its words
in ``terms`` and its kind and status in ``facets``. The full-text index over both is the
database's own: on SQLite an FTS5 table (external content, kept in step by triggers); on
PostgreSQL a generated ``tsvector`` column with a GIN index. ``search_sources`` records each
version, run and report as indexed, or failed with its error and when the maintenance DAG tries
it again.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

_SQLITE_FTS = (
    # remove_diacritics 0: words are compared as PostgreSQL's 'simple' configuration compares them;
    # ':' joins a facet ('kind:code') into one token (terms never hold one: search.tokens drops it)
    "CREATE VIRTUAL TABLE search_fts USING fts5(terms, facets, content='search_documents', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars ':'\")",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, terms, facets) VALUES (new.id, new.terms, new.facets); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms, facets) VALUES ('delete', old.id, old.terms, old.facets); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE OF terms, facets ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms, facets) VALUES ('delete', old.id, old.terms, old.facets); "
    "INSERT INTO search_fts(rowid, terms, facets) VALUES (new.id, new.terms, new.facets); END",
)
_POSTGRES_FTS = (
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector "
    # the facets as lexemes of their own ('kind:code'): no word of terms can be one (they have no ':')
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms) "
    "|| array_to_tsvector(string_to_array(facets, ' '))) STORED",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
)


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("report", sa.String(63), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("first_version", sa.String(64)),
        sa.Column("versions", sa.Integer),
        sa.Column("run_id", sa.String(128)),
        sa.Column("status", sa.String(20)),
        sa.Column("cell", sa.Integer),
        sa.Column("cell_id", sa.String(100)),
        sa.Column("name", sa.String(300)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("facets", sa.String(100), nullable=False),
        sa.UniqueConstraint("report", "scope", "key", name="uq_search_document"),
    )
    op.create_table(
        "search_sources",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("report", sa.String(63), primary_key=True),
        sa.Column("ref", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("documents", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_search_sources_status_next", "search_sources", ["status", "next_attempt_at"])
    statements = {"sqlite": _SQLITE_FTS, "postgresql": _POSTGRES_FTS}[op.get_bind().dialect.name]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER search_documents_{trigger}")
        op.execute("DROP TABLE search_fts")
    op.drop_index("ix_search_sources_status_next", "search_sources")
    op.drop_table("search_sources")
    op.drop_table("search_documents")
