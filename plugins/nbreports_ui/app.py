"""The FastAPI app mounted at ``/nbreports`` in Airflow's API server.

Every route needs the Airflow user (Bearer token or the ``_token`` cookie), including the
OpenAPI description and the static files; FastAPI's open docs routes are switched off. What each
route needs beyond that (``access.py``; ``tests/unit/test_access_plugin.py`` checks that every
route depends on the user):

=========================================================  ======  ===================================
route (``/nbreports`` + ...)                               needs   how lists and runs are narrowed
=========================================================  ======  ===================================
GET  /api/reports                                          user    reports the user may view, in the
                                                                   query, before counting; ``allowed``
GET  /api/reports/{r}                                      view    + ``allowed``; ``access`` if change
GET  /api/reports/{r}/runs                                 view    the report's runs only
GET  /api/reports/{r}/runs/{id}, .../output.ipynb          view    the run must be the report's (404);
                                                                   ``notifications``: addresses only if
                                                                   change, else their count
GET  /api/reports/{r}/dag-runs/{dag_run}                   view    the report's runs only (same JSON)
GET  /api/reports/{r}/compare?base&other                   view    both runs must be the report's
GET  /api/reports/{r}/versions, /versions/compare          view    the report's versions only
GET  /api/reports/{r}/versions/{sha}  (8+ hex digits)      view    the report's versions only (404);
                                                                   its cells as text
GET  /api/search?q&page&per_page                           user    hits of the reports the user may
                                                                   view only, before ranking, counting
                                                                   and paging; a bad query is 400
GET  /api/reports/{r}/audit                                view    the report's entries; addresses
                                                                   only for those who may change
GET  /api/audit                                            admin   every report (or ?report=)
POST /api/reports/{r}/notebook                             change  audited (done/denied/invalid)
POST /api/reports/{r}/versions/{sha}/restore               change  audited
PUT  /api/reports/{r}/access                               change  audited
GET  /api/reports/{r}/subscription                         view    the user's own subscription only
PUT  /api/reports/{r}/subscription  (body: email)          view    the user's own; audited (no address)
DELETE /api/reports/{r}/subscription                       view    the user's own; audited
GET  /api/openapi.json, /static/{name}, /                  user    (no report data)
GET  /content/reports/{r}/runs/{id}/report.html            view    the run must be the report's
GET  /reports/{r}, /runs/{id}, /dag-runs/{d}, /compare,    view    page shells; an unknown report
     /versions/compare, /versions/{sha}                            still gets its shell (it says so)
GET  /search                                               user    page shell (the hits: /api/search)
=========================================================  ======  ===================================

401 without a user; 404 for a report nobody knows; 403 (naming only the action and the name
asked for) for a report the user may not take the action on — also for its runs, before any run
is looked up. Writes with the cookie also need ``X-Requested-With: nbreports``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from nbreports import __version__
from nbreports.errors import NbreportsError
from nbreports_ui import api, audit_api, content, notify_api, pages, search_api, writes
from nbreports_ui.access import AnyUser


def create_app() -> FastAPI:
    app = FastAPI(
        title="nbreports",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description="Notebook reports: catalog, run history, published reports, comparisons.",
    )
    app.include_router(api.router)
    app.include_router(writes.router)
    app.include_router(audit_api.router)
    app.include_router(notify_api.router)
    app.include_router(search_api.router)
    app.include_router(content.router)
    app.include_router(pages.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: AnyUser) -> dict[str, Any]:
        return app.openapi()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """A page's refusal is a small page (the status kept), the API's and the content's stay JSON."""
        root = request.scope.get("root_path", "").rstrip("/")
        path = request.url.path.removeprefix(root)
        if path.startswith(("/api/", "/content/", "/static/")) or exc.status_code == 401:
            return await http_exception_handler(request, exc)
        body = (
            f"<!doctype html><meta charset=utf-8><title>nbreports: {exc.status_code}</title>"
            f'<main role="alert"><h1>{exc.status_code}</h1><p id="detail">{escape(str(exc.detail))}</p>'
            f'<p><a href="{escape(root)}/" target="_top">Reports</a></p></main>'
        )
        return HTMLResponse(body, exc.status_code, headers={"Content-Security-Policy": "default-src 'none'"})

    @app.exception_handler(NbreportsError)
    async def platform_error(request: Request, exc: NbreportsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app


app = create_app()
