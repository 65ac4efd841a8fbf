"""The index rebuilt from what the platform keeps: failed sources tried again, or everything from scratch.

Both read the same records a save or publish indexed from: a version's content from the store
(verified against its sha256), a run's row and its published output notebook and scraps. A
reindex empties the index first, then takes every version oldest first (so each cell keeps its
first and newest version right), every finished run and every report: run twice, it gives the
same index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import nbformat
import sqlalchemy as sa
from sqlalchemy.orm import Session

from nbreports.errors import StoreError
from nbreports.history.versions import read_version
from nbreports.runs.states import RunStatus
from nbreports.search.hooks import index_run_row
from nbreports.search.index import forget, index_report, index_version
from nbreports.search.sources import SourceKind, due, index_safely
from nbreports.settings import get_settings
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store
from nbreports.storage.tables import NotebookVersionRow, ReportRow, RunRow

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class Outcome:
    """What a rebuild or a retry pass did."""

    indexed: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts as JSON."""
        return {"indexed": self.indexed, "failed": self.failed}


def _run_files(store: Store, row: RunRow) -> tuple[Any, dict[str, Any]]:
    """A run's published output notebook (None if it has none) and its scraps."""
    notebook = None
    if row.output_uri:
        key = Store.run_key(row.report, row.run_id, "output.ipynb")
        notebook = nbformat.reads(store.read_bytes(key).decode("utf-8"), as_version=4)
    try:
        scraps = store.read_json(Store.run_key(row.report, row.run_id, "scraps.json"))
    except StoreError:
        scraps = row.scraps or {}  # a run whose publish could not store its files
    return notebook, scraps


def _index_one(db: PlatformDB, store: Store, kind: str, report: str, ref: str) -> None:
    max_chars = get_settings().search_max_chars
    with Session(db.engine, expire_on_commit=False) as session:
        if kind == SourceKind.VERSION:
            version = session.scalars(
                sa.select(NotebookVersionRow).where(
                    NotebookVersionRow.report == report, NotebookVersionRow.sha256 == ref
                )
            ).one()
            index_version(db, report, ref, read_version(store, ref), at=version.created_at, max_chars=max_chars)
        elif kind == SourceKind.RUN:
            run = session.get(RunRow, ref)
            if run is None:
                raise LookupError(f"run {ref} is not in the platform database")
            index_run_row(db, run, *_run_files(store, run))
        else:
            row = session.get(ReportRow, report)
            if row is not None:
                index_report(db, row.to_dict(), max_chars=max_chars)


def retry_failed(db: PlatformDB, store: Store, *, now: datetime | None = None, limit: int = 200) -> Outcome:
    """Try the failed sources whose time has come (the maintenance DAG's pass)."""
    outcome = Outcome()
    attempts = get_settings().search_max_attempts
    for source in due(db, now, limit=limit):
        kind, report, ref = source["kind"], source["report"], source["ref"]
        write = partial(_index_one, db, store, kind, report, ref)
        done = index_safely(db, SourceKind(kind), report, ref, write, attempts)
        outcome.indexed += done
        outcome.failed += not done
    return outcome


def _everything(db: PlatformDB) -> list[tuple[SourceKind, str, str]]:
    finished = [str(s) for s in RunStatus.finished()]
    with db.engine.connect() as conn:
        versions = conn.execute(
            sa.select(NotebookVersionRow.report, NotebookVersionRow.sha256).order_by(
                NotebookVersionRow.created_at, NotebookVersionRow.id
            )
        ).all()
        runs = conn.execute(
            sa.select(RunRow.report, RunRow.run_id).where(RunRow.status.in_(finished)).order_by(RunRow.started_at)
        ).all()
        reports = conn.execute(sa.select(ReportRow.name).order_by(ReportRow.name)).scalars().all()
    return [
        *((SourceKind.VERSION, r, sha) for r, sha in versions),
        *((SourceKind.RUN, r, run_id) for r, run_id in runs),
        *((SourceKind.REPORT, name, "") for name in reports),
    ]


def reindex(db: PlatformDB, store: Store, progress: Progress | None = None) -> Outcome:
    """Empty the index and take every version, finished run and report again; what it did."""
    sources = _everything(db)
    forget(db)
    outcome = Outcome()
    attempts = get_settings().search_max_attempts
    for done, (kind, report, ref) in enumerate(sources, 1):
        ok = index_safely(db, kind, report, ref, partial(_index_one, db, store, kind, report, ref), attempts)
        outcome.indexed += ok
        outcome.failed += not ok
        if progress:
            progress(done, len(sources))
    return outcome
