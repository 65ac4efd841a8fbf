"""Read-side queries the UI needs: catalog, paginated history, one run, versions.

Kept apart from ``db.PlatformDB`` (the write side used by runs) so pages can grow their own
queries without touching what tasks depend on. Everything here is Airflow-free and answers in
one or two indexed statements, because the history page must stay fast at 100,000 runs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nbreports.errors import BadQuery
from nbreports.reports.catalog import Report
from nbreports.storage.database import NotebookVersionRow, PlatformDB, ReportRow, RunRow

FINISHED = ("success", "failed")
MAX_PAGE = 500
COUNT_CAP = 10_000  # totals above this read "10,000+": exact counts of huge histories cost a full index scan

# Columns a history row shows; the big ones (scraps, error text) stay in the run detail.
# The optional ones appear as the schema grows (cache, compute profile, memory: migration 0002).
_HISTORY_NAMES = (
    "run_id",
    "report",
    "status",
    "parameters",
    "notebook_version",
    "executor",
    "kernel",
    "dag_id",
    "dag_run_id",
    "triggered_by",
    "started_at",
    "ended_at",
    "duration_s",
    "html_uri",
    "output_uri",
    "failed_cell",
    "cache_hit_of",
    "profile",
    "peak_memory_bytes",
)
_HISTORY_COLUMNS = tuple(RunRow.__table__.c[n] for n in _HISTORY_NAMES if n in RunRow.__table__.c)


@dataclass(frozen=True)
class HistoryFilter:
    status: str | None = None
    notebook_version: str | None = None  # a sha256 or a prefix of at least 6 hex digits
    triggered_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    limit: int
    total_exact: bool = True  # False when there are more than COUNT_CAP matches
    extra: dict[str, Any] = field(default_factory=dict)


def _session(db: PlatformDB) -> Session:
    return Session(db.engine)


def _row(mapping: Any) -> dict[str, Any]:
    return dict(mapping)


# -- pagination cursor ----------------------------------------------------------------------
def encode_cursor(started_at: datetime, run_id: str) -> str:
    raw = json.dumps([started_at.isoformat(), run_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Keyset cursors (started_at, run_id) keep deep pages as cheap as the first one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, run_id = json.loads(raw)
        return datetime.fromisoformat(started), str(run_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadQuery(f"invalid cursor {cursor!r}") from exc


# -- history ---------------------------------------------------------------------------------
def _versions_with_prefix(s: Session, report: str, prefix: str) -> list[str]:
    """Full digests for a prefix, from the small versions table, so runs are filtered by equality."""
    prefix = prefix.lower()
    if len(prefix) < 6 or any(c not in "0123456789abcdef" for c in prefix):
        raise BadQuery("notebook_version needs at least 6 hex digits")
    if len(prefix) == 64:
        return [prefix]
    return list(
        s.scalars(
            select(NotebookVersionRow.sha256).where(
                NotebookVersionRow.report == report, NotebookVersionRow.sha256.startswith(prefix, autoescape=True)
            )
        )
    )


def _history_where(s: Session, report: str, flt: HistoryFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [RunRow.report == report]
    if flt.status:
        where.append(RunRow.status == flt.status)
    if flt.notebook_version:
        where.append(RunRow.notebook_version.in_(_versions_with_prefix(s, report, flt.notebook_version)))
    if flt.triggered_by:
        where.append(RunRow.triggered_by == flt.triggered_by)
    if flt.since:
        where.append(RunRow.started_at >= flt.since)
    if flt.until:
        where.append(RunRow.started_at < flt.until)
    return where


def history(
    db: PlatformDB,
    report: str,
    flt: HistoryFilter | None = None,
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = True,
) -> Page:
    """Newest runs first, ``limit`` at a time; ``next_cursor`` fetches the following page."""
    flt = flt or HistoryFilter()
    if not 1 <= limit <= MAX_PAGE:
        raise BadQuery(f"limit must be between 1 and {MAX_PAGE}")
    with _session(db) as s:
        where = _history_where(s, report, flt)
        stmt = select(*_HISTORY_COLUMNS).where(*where)
        if cursor:
            started, run_id = decode_cursor(cursor)
            stmt = stmt.where(
                sa.or_(RunRow.started_at < started, sa.and_(RunRow.started_at == started, RunRow.run_id < run_id))
            )
        stmt = stmt.order_by(RunRow.started_at.desc(), RunRow.run_id.desc()).limit(limit + 1)
        rows = [_row(r) for r in s.execute(stmt).mappings()]
        total = -1
        if with_total:
            capped = select(RunRow.run_id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = int(s.scalar(select(func.count()).select_from(capped)) or 0)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["started_at"], rows[-1]["run_id"]) if more and rows else None
    return Page(
        items=rows, total=min(total, COUNT_CAP), next_cursor=next_cursor, limit=limit, total_exact=total <= COUNT_CAP
    )


# -- one run ---------------------------------------------------------------------------------
def get_run(db: PlatformDB, report: str, run_id: str) -> dict[str, Any] | None:
    """The full run record, only if it belongs to ``report`` (URLs name both)."""
    with _session(db) as s:
        row = s.get(RunRow, run_id)
        return row.to_dict() if row is not None and row.report == report else None


def run_for_dag_run(db: PlatformDB, report: str, dag_run_id: str) -> dict[str, Any] | None:
    """The report run an Airflow DAG run made (the newest one, if a retry made several)."""
    stmt = (
        select(RunRow)
        .where(RunRow.report == report, RunRow.dag_run_id == dag_run_id)
        .order_by(RunRow.started_at.desc())
        .limit(1)
    )
    with _session(db) as s:
        row = s.scalars(stmt).first()
        return row.to_dict() if row is not None else None


# -- versions --------------------------------------------------------------------------------
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
    with _session(db) as s:
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
    with _session(db) as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(NotebookVersionRow)
                .where(NotebookVersionRow.report == report, NotebookVersionRow.sha256 == sha256)
            )
            == 1
        )


# -- catalog ---------------------------------------------------------------------------------
def _run_stats(s: Session) -> dict[str, dict[str, int]]:
    stmt = (
        select(RunRow.report, RunRow.status, func.count())
        .where(RunRow.status.in_(FINISHED))
        .group_by(RunRow.report, RunRow.status)
    )
    stats: dict[str, dict[str, int]] = {}
    for report, status, count in s.execute(stmt):
        stats.setdefault(report, {})[status] = int(count)
    return stats


def _last_run(s: Session, report: str, status: str | None = None) -> dict[str, Any] | None:
    stmt = select(
        RunRow.run_id, RunRow.status, RunRow.started_at, RunRow.ended_at, RunRow.html_uri, RunRow.duration_s
    ).where(RunRow.report == report)
    if status:
        stmt = stmt.where(RunRow.status == status)
    row = s.execute(stmt.order_by(RunRow.started_at.desc(), RunRow.run_id.desc()).limit(1)).mappings().first()
    return _row(row) if row else None


def _entry_from_disk(report: Report) -> dict[str, Any]:
    spec = report.spec
    return {
        "name": report.name,
        "title": spec.title,
        "description": spec.description,
        "owner": spec.owner,
        "team": spec.team,
        "schedule": spec.schedule,
        "triggered_by_reports": list(spec.triggered_by),
        "tags": list(spec.tags),
        "executor": spec.executor,
        "parameters": [p.to_dict() for p in report.parameters],
        "on_disk": True,
    }


def _entry_from_row(row: ReportRow) -> dict[str, Any]:
    spec = row.spec or {}
    return {
        "name": row.name,
        "title": row.title,
        "description": spec.get("description", ""),
        "owner": row.owner,
        "team": row.team,
        "schedule": spec.get("schedule"),
        "triggered_by_reports": spec.get("triggered_by", []),
        "tags": list(spec.get("tags", [])),
        "executor": spec.get("executor", "local"),
        "parameters": list(row.parameters or []),
        "on_disk": False,
    }


def _matches(entry: dict[str, Any], q: str | None, owner: str | None, team: str | None, tag: str | None) -> bool:
    if owner and entry["owner"].lower() != owner.lower():
        return False
    if team and entry["team"].lower() != team.lower():
        return False
    if tag and tag.lower() not in {t.lower() for t in entry["tags"]}:
        return False
    if q:
        text = " ".join(
            [entry["name"], entry["title"], entry["description"], entry["owner"], entry["team"], *entry["tags"]]
        ).lower()
        return all(word in text for word in q.lower().split())
    return True


def report_entries(db: PlatformDB, disk: list[Report] | None = None) -> dict[str, dict[str, Any]]:
    """Every known report by name: the ones in the notebooks folder (current spec) and the ones only
    the database remembers (removed from disk, their history still readable)."""
    with _session(db) as s:
        entries = {row.name: _entry_from_row(row) for row in s.scalars(select(ReportRow))}
    for report in disk or []:
        entries[report.name] = _entry_from_disk(report)
    return entries


def catalog(
    db: PlatformDB,
    disk: list[Report] | None = None,
    *,
    q: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    tag: str | None = None,
) -> list[dict[str, Any]]:
    """Reports with their last run, last published run and success rate, filtered, sorted by title."""
    entries = [e for e in report_entries(db, disk).values() if _matches(e, q, owner, team, tag)]
    with _session(db) as s:
        stats = _run_stats(s)
        for entry in entries:
            counts = stats.get(entry["name"], {})
            finished = sum(counts.values())
            entry["runs_finished"] = finished
            entry["success_rate"] = round(counts.get("success", 0) / finished, 4) if finished else None
            entry["last_run"] = _last_run(s, entry["name"])
            entry["last_published"] = _last_run(s, entry["name"], "success")
    return sorted(entries, key=lambda e: (e["title"].lower(), e["name"]))


def report_entry(db: PlatformDB, name: str, disk: list[Report] | None = None) -> dict[str, Any] | None:
    entry = report_entries(db, disk).get(name)
    if entry is None:
        return None
    with _session(db) as s:
        counts = {
            status: int(n)
            for status, n in s.execute(
                select(RunRow.status, func.count()).where(RunRow.report == name).group_by(RunRow.status)
            )
        }
        entry["run_counts"] = counts
        finished = sum(counts.get(st, 0) for st in FINISHED)
        entry["success_rate"] = round(counts.get("success", 0) / finished, 4) if finished else None
        entry["last_run"] = _last_run(s, name)
        entry["last_published"] = _last_run(s, name, "success")
    return entry
