"""The platform database's schema: migrations and models agree, on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from nbreports.storage import database as db
from nbreports.storage import tables
from tests.conftest import create_pg_database, drop_pg_database


def test_schema_revision_is_alembics_head():
    head = ScriptDirectory.from_config(db._alembic_config("sqlite://")).get_current_head()
    assert head == db.SCHEMA_REVISION


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/p.db"
        return
    pg = create_pg_database("nbr_schema")
    yield pg
    db.PlatformDB(pg).engine.dispose()  # close the cached engine's connections before the database goes
    drop_pg_database(pg)


def _not_the_full_text_index(obj, name, kind, reflected, compare_to):
    """The search's full-text index is the backend's own (migration 0007): FTS5 tables or a ``tsv`` column."""
    if kind == "table":
        return not name.startswith("search_fts")
    if kind == "column":
        return not (name == "tsv" and obj.table.name == "search_documents")
    return name != "ix_search_documents_tsv"


def test_migrations_build_exactly_the_models(url):
    platform = db.PlatformDB(url)
    with platform.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_the_full_text_index})
        diff = compare_metadata(context, tables.Base.metadata)
    assert diff == []
    with platform.engine.connect() as conn:  # and the index is there
        found = sa.inspect(conn)
        if url.startswith("sqlite"):
            assert "search_fts" in found.get_table_names()
        else:
            assert "tsv" in {c["name"] for c in found.get_columns("search_documents")}
    platform.engine.dispose()


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(db.DatabaseError, match="is not usable") as info:
        db.PlatformDB("postgresql://nobody:secret-password@127.0.0.1:1/none")
    assert "secret-password" not in str(info.value)
    assert isinstance(info.value.__cause__, sa.exc.SQLAlchemyError)


def test_first_use_by_many_processes_at_once_migrates_once(url):
    """Tasks that first touch a new platform database race to migrate it; none may fail."""
    import subprocess
    import sys

    code = "import sys; from nbreports.storage.database import PlatformDB; PlatformDB(sys.argv[1]); print('ok')"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 - argv fixed by the test, no untrusted input
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-800:] for _, err in results]
