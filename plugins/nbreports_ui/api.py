"""The JSON API under ``/nbreports/api``: everything the pages show, paginated and filtered.

Each route that touches a report has the report in its path and depends on ``ViewReport`` (the
run-level routes check the run belongs to that report); the catalog is narrowed to the reports
the user may view inside its queries, before anything is counted. The writes are in ``writes.py``,
the audit log in ``audit_api.py``, subscriptions and what a run's JSON says of its notifications in
``notify_api.py``; the table of every route and what it needs is in ``app.py``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field

from nbreports.browse import catalog, compare, runs, versions
from nbreports.errors import BadQuery, NbreportsError, StoreError, VersionNotFound
from nbreports.history.versions import show_version
from nbreports.identifiers import SHA256
from nbreports.reports.parameters import parameters_from_dicts
from nbreports.storage.store import Store
from nbreports_ui.access import AnyUser, ReportAccess, RunId, VersionPrefix, ViewReport, ordered, visible_reports
from nbreports_ui.notify_api import run_notifications
from nbreports_ui.services import disk_report, disk_reports, platform

router = APIRouter(prefix="/api", tags=["nbreports"])


class ReportList(BaseModel):
    reports: list[dict[str, Any]]
    total: int


class HistoryPage(BaseModel):
    report: str
    items: list[dict[str, Any]] = Field(description="Runs, newest first")
    total: int = Field(description="Runs matching the filters, counted up to 10,000")
    total_exact: bool = Field(description="False when more runs match than were counted")
    limit: int
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end")


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, what)


def airflow_links(run: dict[str, Any]) -> dict[str, str]:
    """Paths in Airflow's own UI (relative to its base URL) for a run made by a DAG run."""
    dag_id, dag_run = run.get("dag_id"), run.get("dag_run_id")
    if not dag_id or not dag_run:
        return {}
    base = f"/dags/{quote(dag_id, safe='')}/runs/{quote(dag_run, safe='')}"
    return {"dag_run": base, **{f"log_{task}": f"{base}/tasks/{task}" for task in ("prepare", "execute", "publish")}}


def _read_json(key: str) -> Any:
    try:
        return platform().store.read_json(key)
    except StoreError:
        return None


def _run_or_404(report: str, run_id: str) -> dict[str, Any]:
    run = runs.get_run(platform().db, report, run_id)
    if run is None:
        raise _not_found(f"report {report!r} has no run {run_id!r}")
    return run


def artifacts_of(run: dict[str, Any]) -> str:
    """Return the run whose folder holds this run's outputs: a cache hit reuses an earlier run's."""
    return str(run.get("cache_hit_of") or run["run_id"])


def run_detail(run: dict[str, Any]) -> dict[str, Any]:
    """Return the run record with what the store adds: full scraps, the execution result, links."""
    record = _read_json(Store.run_key(run["report"], run["run_id"], "run.json")) or {}

    def key(name: str) -> str:
        return Store.run_key(run["report"], artifacts_of(run), name)

    execution = _read_json(key("execution.json")) or {}
    scraps = _read_json(key("scraps.json"))
    peak = run.get("peak_memory_bytes") or (execution.get("extra") or {}).get("peak_memory_bytes")
    return {
        **run,
        "scraps": scraps if scraps is not None else run.get("scraps") or {},
        "execution_s": 0.0 if run.get("cache_hit_of") else record.get("execution_s", execution.get("duration_s")),
        "error_type": record.get("error_type", execution.get("error_type")),
        "peak_memory_bytes": peak,
        "has_html": bool(run.get("html_uri")),
        "has_output": bool(run.get("output_uri")),
        "airflow": airflow_links(run),
    }


@router.get("/reports", response_model=ReportList, summary="The report catalog")
def list_reports(
    user: AnyUser, q: str | None = None, owner: str | None = None, team: str | None = None, tag: str | None = None
) -> ReportList:
    """The reports the user may view: last run, last published run, success rate, the user's ``allowed`` actions.

    Filter by words, owner, team, tag.
    """
    visible, everything = visible_reports(user)
    only = None if everything else visible  # who may view every report needs no filter in the queries
    entries = catalog.catalog(platform().db, disk_reports(), q=q, owner=owner, team=team, tag=tag, reports=only)
    for entry in entries:
        entry["allowed"] = ordered(visible[entry["name"]])
    return ReportList(reports=entries, total=len(entries))


@router.get("/reports/{report}", summary="One report: spec, parameter schema, run counts")
def get_report(access: ViewReport) -> dict[str, Any]:
    entry = catalog.report_entry(platform().db, access.report, disk_reports())
    if entry is None:
        raise _not_found(f"no report {access.report!r}")
    params = parameters_from_dicts(entry["parameters"])
    entry["parameter_schema"] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {p.name: {**p.json_schema(), "default": p.default} for p in params},
    }
    entry["allowed"] = access.allowed_list
    on_disk = disk_report(access.report)
    if "change" in entry["allowed"] and on_disk is not None:  # what the access editor starts from
        entry["access"] = on_disk.spec.access.model_dump(mode="json")
        entry["restricted"] = on_disk.rules.restricted
    return entry


@router.get("/reports/{report}/runs", response_model=HistoryPage, summary="Run history, newest first")
def list_runs(
    access: ViewReport,
    status_: Annotated[str | None, Query(alias="status", pattern="^[a-z_]{1,20}$")] = None,
    notebook_version: Annotated[str | None, Query(max_length=64)] = None,
    triggered_by: Annotated[str | None, Query(max_length=250)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=runs.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> HistoryPage:
    flt = runs.HistoryFilter(
        status=status_, notebook_version=notebook_version, triggered_by=triggered_by, since=since, until=until
    )
    try:
        page = runs.history(platform().db, access.report, flt, limit=limit, cursor=cursor)
    except BadQuery as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return HistoryPage(
        report=access.report,
        items=page.items,
        total=page.total,
        total_exact=page.total_exact,
        limit=page.limit,
        next_cursor=page.next_cursor,
    )


def one_run(access: ReportAccess, run: dict[str, Any]) -> dict[str, Any]:
    """The one-run JSON: ``run_detail`` and the run's notifications (addresses only for change, ``notify_api``)."""
    return {**run_detail(run), "notifications": run_notifications(platform().db, access, run["run_id"])}


@router.get("/reports/{report}/runs/{run_id}", summary="One run: record, scraps, timings, links, notifications")
def get_run(access: ViewReport, run_id: RunId) -> dict[str, Any]:
    return one_run(access, _run_or_404(access.report, run_id))


@router.get("/reports/{report}/dag-runs/{dag_run_id}", summary="The run an Airflow DAG run made")
def get_run_of_dag_run(access: ViewReport, dag_run_id: str) -> dict[str, Any]:
    run = runs.run_for_dag_run(platform().db, access.report, dag_run_id)
    if run is None:
        raise _not_found(f"DAG run {dag_run_id!r} of {access.report!r} has not recorded a report run (yet)")
    return one_run(access, run)


@router.get(
    "/reports/{report}/runs/{run_id}/output.ipynb", summary="Download the executed notebook", response_class=Response
)
def download_output(access: ViewReport, run_id: RunId) -> Response:
    run = _run_or_404(access.report, run_id)
    try:
        data = platform().store.read_bytes(Store.run_key(access.report, artifacts_of(run), "output.ipynb"))
    except StoreError as exc:
        raise _not_found(str(exc)) from exc
    filename = f"{access.report}-{run_id}.ipynb"
    return Response(
        data,
        media_type="application/x-ipynb+json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


def _output_bytes(run: dict[str, Any]) -> bytes:
    def key(name: str) -> str:
        return Store.run_key(run["report"], artifacts_of(run), name)

    try:
        return platform().store.read_bytes(key("output.ipynb"))
    except StoreError:
        return platform().store.read_bytes(key("input.ipynb"))


@router.get("/reports/{report}/compare", summary="Two runs side by side: parameters, scraps, notebooks")
def compare_runs(
    access: ViewReport,
    base: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")],
    other: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")],
) -> dict[str, Any]:
    a, b = run_detail(_run_or_404(access.report, base)), run_detail(_run_or_404(access.report, other))
    params = compare.dict_diff(a["parameters"], b["parameters"])
    scraps = compare.dict_diff(a["scraps"], b["scraps"])
    try:
        notebooks = compare.notebook_diff(_output_bytes(a), _output_bytes(b))
    except (StoreError, NbreportsError, ValueError) as exc:
        notebooks = {"identical": None, "text": "", "error": str(exc)}
    fields = ("run_id", "status", "notebook_version", "started_at", "duration_s", "triggered_by", "dag_run_id")
    return {
        "report": access.report,
        "base": {k: a.get(k) for k in fields},
        "other": {k: b.get(k) for k in fields},
        "parameters": params,
        "parameters_summary": compare.summarize(params),
        "scraps": scraps,
        "scraps_summary": compare.summarize(scraps),
        "same_version": a["notebook_version"] == b["notebook_version"],
        "notebook_diff": notebooks,
    }


@router.get("/reports/{report}/versions", summary="Notebook versions, newest first, with run counts")
def list_versions(access: ViewReport) -> dict[str, Any]:
    return {"report": access.report, "versions": versions.versions(platform().db, access.report)}


@router.get("/reports/{report}/versions/compare", summary="nbdime diff of two notebook versions")
def compare_versions(
    access: ViewReport,
    base: Annotated[str, Query(pattern=SHA256.pattern)],
    other: Annotated[str, Query(pattern=SHA256.pattern)],
) -> dict[str, Any]:
    db, store = platform().db, platform().store
    for sha in (base, other):
        if not versions.has_version(db, access.report, sha):
            raise _not_found(f"report {access.report!r} has no notebook version {sha[:12]}")
    try:
        diff = compare.notebook_diff(
            store.read_bytes(Store.version_key(base)), store.read_bytes(Store.version_key(other))
        )
    except StoreError as exc:
        raise _not_found(str(exc)) from exc
    return {"report": access.report, "base": base, "other": other, "notebook_diff": diff}


def notebook_cells(data: bytes) -> list[dict[str, Any]]:
    """A stored notebook's cells as text, in order (the index is the search's ``cell``); lenient with odd JSON."""
    try:
        cells = json.loads(data).get("cells") or []
    except (ValueError, AttributeError):
        return []
    out = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        out.append(
            {
                "index": index,
                "id": cell.get("id"),
                "cell_type": str(cell.get("cell_type", "raw")),
                "source": "".join(source) if isinstance(source, list) else str(source),
            }
        )
    return out


@router.get("/reports/{report}/versions/{version}", summary="One notebook version: its record and its cells as text")
def get_version(access: ViewReport, version: VersionPrefix) -> dict[str, Any]:
    try:
        row, data = show_version(platform().store, platform().db, access.report, version)
    except (VersionNotFound, StoreError) as exc:
        raise _not_found(str(exc)) from exc
    return {"report": access.report, "version": row, "cells": notebook_cells(data)}
