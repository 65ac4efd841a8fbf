"""The HTML pages: thin shells that load ``app.js`` (built from ``frontend/``), which draws them from the JSON API.

Each page is also reachable as a tab of Airflow's own DAG and DAG-run pages (see the plugin's
``external_views``); Airflow shows it in a sandboxed same-origin frame (how links leave it:
``frontend/src/lib/links.ts``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from nbreports.identifiers import SHA256
from nbreports_ui.access import AnyUser, RunId, VersionPrefix, ViewPage
from nbreports_ui.content import SANDBOX

HERE = Path(__file__).parent
# app.js, app.js.map and style.css are built from frontend/ by scripts/build-frontend.sh (before the server starts)
STATIC = {p.name: p for p in sorted((HERE / "static").glob("*")) if p.suffix in {".js", ".css", ".svg", ".map"}}
_templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
RUN_ID_QUERY = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "frame-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
        "object-src 'none'",
    ]
)

router = APIRouter(include_in_schema=False)


def _page(request: Request, page: str, title: str, **data: str) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    airflow = root.removesuffix("/nbreports")
    html = _templates.get_template("page.html").render(
        title=title, root=root, airflow=airflow, page=page, data=data, sandbox=SANDBOX
    )
    return HTMLResponse(
        html,
        headers={"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


@router.get("/")
def catalog_page(request: Request, user: AnyUser) -> HTMLResponse:
    return _page(request, "catalog", "Reports")


@router.get("/reports/{report}")
def report_page(request: Request, access: ViewPage) -> HTMLResponse:
    return _page(request, "report", access.report, report=access.report)


@router.get("/reports/{report}/runs/{run_id}")
def run_page(request: Request, access: ViewPage, run_id: RunId) -> HTMLResponse:
    return _page(request, "run", f"{access.report} · {run_id}", report=access.report, run=run_id)


@router.get("/reports/{report}/dag-runs/{dag_run_id}")
def dag_run_page(request: Request, access: ViewPage, dag_run_id: str) -> HTMLResponse:
    return _page(request, "run", f"{access.report} · {dag_run_id}", report=access.report, dag_run=dag_run_id)


@router.get("/reports/{report}/compare")
def compare_page(
    request: Request,
    access: ViewPage,
    base: Annotated[str, Query(pattern=RUN_ID_QUERY)],
    other: Annotated[str, Query(pattern=RUN_ID_QUERY)],
) -> HTMLResponse:
    return _page(request, "compare", f"{access.report} · compare", report=access.report, base=base, other=other)


@router.get("/reports/{report}/versions/compare")
def compare_versions_page(
    request: Request,
    access: ViewPage,
    base: Annotated[str, Query(pattern=SHA256.pattern)],
    other: Annotated[str, Query(pattern=SHA256.pattern)],
) -> HTMLResponse:
    return _page(request, "versions", f"{access.report} · versions", report=access.report, base=base, other=other)


@router.get("/reports/{report}/versions/{version}")
def version_page(request: Request, access: ViewPage, version: VersionPrefix) -> HTMLResponse:
    return _page(request, "version", f"{access.report} · {version[:12]}", report=access.report, version=version)


@router.get("/search")
def search_page(request: Request, user: AnyUser) -> HTMLResponse:
    return _page(request, "search", "Search")


@router.get("/static/{name}")
def static(name: str, user: AnyUser) -> FileResponse:
    path = STATIC.get(name)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    return FileResponse(path, headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"})
