"""Where saves and publishes reach the index: each call indexes safely (a failure is recorded, never raised).

``history.versions.save_version`` calls ``version_saved`` for content new to a report (a Jupyter
save, an upload, a restore, a run pinning its notebook); ``runs.publish`` calls ``run_published``
once the run's row is complete, with the masked output notebook it already read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nbreports.search.index import index_report, index_run, index_version
from nbreports.search.sources import SourceKind, index_safely
from nbreports.settings import get_settings
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import ReportRow, RunRow


def version_saved(db: PlatformDB, report: str, sha: str, content: bytes, at: datetime) -> bool:
    """Index a version just saved; whether it was."""
    settings = get_settings()
    return index_safely(
        db,
        SourceKind.VERSION,
        report,
        sha,
        lambda: index_version(db, report, sha, content, at=at, max_chars=settings.search_max_chars),
        settings.search_max_attempts,
    )


def index_run_row(db: PlatformDB, row: RunRow, notebook: Mapping[str, Any] | None, scraps: Mapping[str, Any]) -> int:
    """Index a finished run and its report's description (a cache hit is found through the run it reuses)."""
    settings = get_settings()
    record = row.to_dict()
    if row.cache_hit_of:
        notebook, scraps, record["parameters"] = None, {}, {}
    count = index_run(db, record, notebook, scraps, max_chars=settings.search_max_chars)
    with Session(db.engine) as session:
        report = session.get(ReportRow, row.report)
        if report is not None:
            index_report(db, report.to_dict(), max_chars=settings.search_max_chars)
    return count


def run_published(
    db: PlatformDB, report: str, run_id: str, notebook: Mapping[str, Any] | None, scraps: Mapping[str, Any]
) -> bool:
    """Index a run just published; whether it was."""

    def write() -> None:
        row = db.run_row(run_id)
        if row is None:
            raise LookupError(f"run {run_id} is not in the platform database")
        index_run_row(db, row, notebook, scraps)

    return index_safely(db, SourceKind.RUN, report, run_id, write, get_settings().search_max_attempts)
