"""Notebook versions as the UI lists them: newest first, with how many runs used each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from nbreports.browse.runs import session
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import NotebookVersionRow, RunRow


def versions(db: PlatformDB, report: str) -> list[dict[str, Any]]:
    """Notebook versions of a report, newest first, with how many runs used each."""
    counts = (
        select(RunRow.notebook_version, func.count().label("runs"), func.max(RunRow.started_at).label("last_run_at"))
        .where(RunRow.report == report)
        .group_by(RunRow.notebook_version)
        .subquery()
    )
    stmt = (
        select(NotebookVersionRow, counts.c.runs, counts.c.last_run_at)
        .outerjoin(counts, counts.c.notebook_version == NotebookVersionRow.sha256)
        .where(NotebookVersionRow.report == report)
        .order_by(NotebookVersionRow.created_at.desc(), NotebookVersionRow.id.desc())
    )
    out = []
    with session(db) as s:
        for version, runs, last_run_at in s.execute(stmt):
            out.append(
                {
                    "sha256": version.sha256,
                    "size": version.size,
                    "kernel": version.kernel,
                    "source": version.source,
                    "created_at": version.created_at,
                    "runs": int(runs or 0),
                    "last_run_at": last_run_at,
                }
            )
    return out


def has_version(db: PlatformDB, report: str, sha256: str) -> bool:
    """Whether ``sha256`` is a recorded version of ``report``."""
    with session(db) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(NotebookVersionRow)
                .where(NotebookVersionRow.report == report, NotebookVersionRow.sha256 == sha256)
            )
            == 1
        )
