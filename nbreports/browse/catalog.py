"""The report catalog: every known report with its last run, last published run and success rate."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nbreports.browse.runs import session
from nbreports.reports.catalog import Report
from nbreports.runs.states import RunStatus
from nbreports.storage.database import PlatformDB
from nbreports.storage.tables import ReportRow, RunRow


def _run_stats(s: Session, reports: Collection[str] | None) -> dict[str, dict[str, int]]:
    stmt = select(RunRow.report, RunRow.status, func.count()).where(RunRow.status.in_(RunStatus.finished()))
    if reports is not None:
        stmt = stmt.where(RunRow.report.in_(sorted(reports)))
    stmt = stmt.group_by(RunRow.report, RunRow.status)
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
    return dict(row) if row else None


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


def report_entries(
    db: PlatformDB, disk: list[Report] | None = None, reports: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Every known report by name (only those in ``reports``, unless it is None), from disk and the database.

    Reports in the notebooks folder have their current spec; the ones only the database remembers
    were removed from disk, and their history stays readable.
    """
    stmt = select(ReportRow)
    if reports is not None:
        stmt = stmt.where(ReportRow.name.in_(sorted(reports)))
    with session(db) as s:
        entries = {row.name: _entry_from_row(row) for row in s.scalars(stmt)}
    for report in disk or []:
        if reports is None or report.name in reports:
            entries[report.name] = _entry_from_disk(report)
    return entries


def stored_names(db: PlatformDB) -> set[str]:
    """The name of every report the platform database has a row for (cheap: the primary key only)."""
    with session(db) as s:
        return set(s.scalars(select(ReportRow.name)))


def stored_specs(db: PlatformDB, names: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """The spec each report's latest prepared run recorded, by name (what decides access to a deleted report)."""
    stmt = select(ReportRow.name, ReportRow.spec, ReportRow.team)
    if names is not None:
        stmt = stmt.where(ReportRow.name.in_(sorted(names)))
    with session(db) as s:
        return {
            name: {**(spec or {}), "team": (spec or {}).get("team") or team} for name, spec, team in s.execute(stmt)
        }


def catalog(
    db: PlatformDB,
    disk: list[Report] | None = None,
    *,
    q: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    tag: str | None = None,
    reports: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Reports with their last run, last published run and success rate, filtered, sorted by title.

    ``reports`` (None: all) narrows the catalog to those names in the queries themselves, before
    anything is counted: the UI passes the reports its user may view.
    """
    entries = [e for e in report_entries(db, disk, reports).values() if _matches(e, q, owner, team, tag)]
    with session(db) as s:
        stats = _run_stats(s, reports)
        for entry in entries:
            counts = stats.get(entry["name"], {})
            finished = sum(counts.values())
            entry["runs_finished"] = finished
            entry["success_rate"] = round(counts.get(RunStatus.SUCCESS, 0) / finished, 4) if finished else None
            entry["last_run"] = _last_run(s, entry["name"])
            entry["last_published"] = _last_run(s, entry["name"], RunStatus.SUCCESS)
    return sorted(entries, key=lambda e: (e["title"].lower(), e["name"]))


def report_entry(db: PlatformDB, name: str, disk: list[Report] | None = None) -> dict[str, Any] | None:
    """One report's catalog entry with its run counts by status, or None when no such report is known."""
    entry = report_entries(db, disk).get(name)
    if entry is None:
        return None
    with session(db) as s:
        counts = {
            status: int(n)
            for status, n in s.execute(
                select(RunRow.status, func.count()).where(RunRow.report == name).group_by(RunRow.status)
            )
        }
        entry["run_counts"] = counts
        finished = sum(counts.get(st, 0) for st in RunStatus.finished())
        entry["success_rate"] = round(counts.get(RunStatus.SUCCESS, 0) / finished, 4) if finished else None
        entry["last_run"] = _last_run(s, name)
        entry["last_published"] = _last_run(s, name, RunStatus.SUCCESS)
    return entry
