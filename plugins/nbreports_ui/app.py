"""The FastAPI app mounted at ``/nbreports`` in Airflow's API server.

Every route needs the Airflow user (Bearer token or the ``_token`` cookie), including the
OpenAPI description and the static files; FastAPI's open docs routes are switched off.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nbreports import __version__
from nbreports.errors import NbreportsError
from nbreports_ui import api, audit_api, content, pages, writes
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
    app.include_router(content.router)
    app.include_router(pages.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(user: AnyUser) -> dict[str, Any]:
        return app.openapi()

    @app.exception_handler(NbreportsError)
    async def platform_error(request: Request, exc: NbreportsError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    return app


app = create_app()
