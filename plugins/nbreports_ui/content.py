"""Untrusted content — the notebooks' own HTML — served so its scripts cannot act as the user.

A published report is whatever the notebook printed, scripts included. It is served with a CSP
``sandbox`` (no ``allow-same-origin``): the document gets an opaque origin, so its scripts can
read neither the Airflow cookie nor local storage, cannot call the API with the user's session
(``connect-src 'none'``, and a cross-site request carries no SameSite cookie), and cannot reach
into the page that frames it. The pages frame it with the same sandbox attribute, and the header
also protects a report opened directly in a tab.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from nbreports.browse import runs
from nbreports.errors import StoreError
from nbreports.storage.store import Store
from nbreports_ui.access import RunId, ViewReport
from nbreports_ui.api import artifacts_of
from nbreports_ui.services import platform

router = APIRouter(prefix="/content", tags=["content"])

SANDBOX = "allow-scripts allow-popups allow-popups-to-escape-sandbox allow-downloads"
REPORT_CSP = "; ".join(
    [
        f"sandbox {SANDBOX}",
        "default-src 'none'",
        "script-src 'unsafe-inline' 'unsafe-eval' https:",  # widgets and MathJax from their CDNs
        "style-src 'unsafe-inline' https:",
        "img-src data: blob: https:",
        "font-src data: https:",
        "media-src data: blob:",
        "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ]
)
UNTRUSTED_HEADERS = {
    "Content-Security-Policy": REPORT_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, max-age=300",
}


@router.get(
    "/reports/{report}/runs/{run_id}/report.html",
    response_class=Response,
    summary="The published HTML report of a run (sandboxed)",
)
def report_html(access: ViewReport, run_id: RunId) -> Response:
    run = runs.get_run(platform().db, access.report, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"report {access.report!r} has no run {run_id!r}")
    try:
        body = platform().store.read_bytes(Store.run_key(access.report, artifacts_of(run), "report.html"))
    except StoreError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this run has no published HTML (yet)") from exc
    return Response(body, media_type="text/html; charset=utf-8", headers=UNTRUSTED_HEADERS)
