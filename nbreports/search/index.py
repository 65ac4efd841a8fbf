"""The index's writes: a notebook version's cells, a run's documents, a report's description.

Each write is one transaction that also marks its source indexed (``search_sources``), so a
version indexed twice is counted once and a run indexed again (a publish retried, a run recorded
lost) replaces its documents. A cell's content is one row per report however many versions hold
it: the row keeps the newest version holding it (where a hit links) and the first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from nbreports.search.documents import Document, report_document, run_documents, version_documents
from nbreports.search.sources import SOURCES, SourceKind, is_indexed, mark_indexed
from nbreports.search.tokens import terms
from nbreports.storage.database import PlatformDB, dialect_insert, table_of
from nbreports.storage.tables import SearchDocumentRow, utcnow

DOCUMENTS = table_of(SearchDocumentRow)
VERSION_SCOPE = "v"
REPORT_SCOPE = "r"


def document_row(report: str, scope: str, doc: Document, at: datetime, **extra: Any) -> dict[str, Any]:
    """The ``search_documents`` row of ``doc``: its words as ``terms``, its kind and status as ``facets``."""
    return {
        "report": report,
        "scope": scope,
        "key": doc.key,
        "kind": str(doc.kind),
        "version": None,
        "first_version": None,
        "versions": None,
        "run_id": None,
        "status": None,
        "cell": doc.cell,
        "cell_id": (doc.cell_id or None) and str(doc.cell_id)[:100],
        "name": doc.name and doc.name[:300],
        "at": at,
        "first_at": at,
        "body": doc.body,
        "terms": terms(doc.body),
        **extra,
        "facets": f"kind:{doc.kind} status:{extra.get('status') or ''}",
    }


def index_version(db: PlatformDB, report: str, sha: str, content: bytes, *, at: datetime, max_chars: int) -> int:
    """Index a notebook version's cells (once per version); how many cells it has that can be found."""
    docs = version_documents(json.loads(content), max_chars)
    with db.engine.begin() as conn:
        if is_indexed(conn, SourceKind.VERSION, report, sha):
            return 0
        if docs:
            stmt = dialect_insert(db.engine, DOCUMENTS)
            new, old = stmt.excluded, DOCUMENTS.c
            newer, earlier = new.at >= old.at, new.first_at < old.first_at
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["report", "scope", "key"],
                    set_={
                        "version": sa.case((newer, new.version), else_=old.version),
                        "cell": sa.case((newer, new.cell), else_=old.cell),
                        "cell_id": sa.case((newer, new.cell_id), else_=old.cell_id),
                        "at": sa.case((newer, new.at), else_=old.at),
                        "first_version": sa.case((earlier, new.first_version), else_=old.first_version),
                        "first_at": sa.case((earlier, new.first_at), else_=old.first_at),
                        "versions": old.versions + 1,
                    },
                ),
                [document_row(report, VERSION_SCOPE, d, at, version=sha, first_version=sha, versions=1) for d in docs],
            )
        mark_indexed(conn, db.engine, SourceKind.VERSION, report, sha, len(docs))
    return len(docs)


def index_run(
    db: PlatformDB,
    record: Mapping[str, Any],
    notebook: Mapping[str, Any] | None,
    scraps: Mapping[str, Any],
    *,
    max_chars: int,
) -> int:
    """Index (or index again) a published run from its row's fields and its output notebook."""
    report, run_id = str(record["report"]), str(record["run_id"])
    docs = run_documents(record, notebook, scraps, max_chars)
    at = record["started_at"]
    with db.engine.begin() as conn:
        conn.execute(sa.delete(DOCUMENTS).where(DOCUMENTS.c.report == report, DOCUMENTS.c.scope == run_id))
        if docs:
            extra = {"run_id": run_id, "status": record.get("status")}
            conn.execute(sa.insert(DOCUMENTS), [document_row(report, run_id, d, at, **extra) for d in docs])
        mark_indexed(conn, db.engine, SourceKind.RUN, report, run_id, len(docs))
    return len(docs)


def index_report(db: PlatformDB, record: Mapping[str, Any], *, max_chars: int) -> int:
    """Index (or index again) a report's name, title, description, owner, team and tags; 0 if unchanged.

    Every publish asks; only a changed description is written (no full-text index work otherwise).
    """
    report = str(record["name"])
    row = document_row(report, REPORT_SCOPE, report_document(record, max_chars), record.get("updated_at") or utcnow())
    with db.engine.begin() as conn:
        stmt = dialect_insert(db.engine, DOCUMENTS)
        written = conn.execute(
            stmt.values(**row)
            .on_conflict_do_update(
                index_elements=["report", "scope", "key"],
                set_={k: stmt.excluded[k] for k in ("body", "terms", "at")},
                where=DOCUMENTS.c.body != stmt.excluded.body,
            )
            .returning(DOCUMENTS.c.id)
        ).first()
        if written is None:
            return 0
        mark_indexed(conn, db.engine, SourceKind.REPORT, report, "", 1)
    return 1


def forget(db: PlatformDB) -> None:
    """Empty the index (a rebuild starts here)."""
    with db.engine.begin() as conn:
        conn.execute(sa.delete(DOCUMENTS))
        conn.execute(sa.delete(SOURCES))
