"""Full-text search for the plugin: ``GET /api/search?q=&page=&per_page=`` (any logged-in user).

The core (``nbreports.search``) ranks, counts and pages only the reports it is handed, so the
route hands it the reports the user may view (``access.visible_reports``, the catalog's narrowing)
with the facts its filters need (``browse.catalog.report_entries``, the catalog's entries): a hit of
another report is never ranked, counted or shown. Each hit gets the ``url`` of the page it came
from, below the app's root path as the pages' own links: a run's hits (outputs, scraps, parameters,
errors) its run page, a version's cells that version's page at the cell, a report's metadata the
report page. A query the core cannot read (an empty one too) is a 400 with its message and ``position``
(null for a page deeper than the core pages).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from nbreports.browse.catalog import report_entries
from nbreports.errors import BadQuery
from nbreports.search import ReportFacts, search
from nbreports.search.find import MAX_PER_PAGE
from nbreports_ui.access import AnyUser, visible_reports
from nbreports_ui.services import disk_reports, platform

router = APIRouter(prefix="/api", tags=["nbreports search"])


def viewable_facts(user: Any) -> dict[str, ReportFacts]:
    """The facts of every report the user may view, by name (the catalog's entries, narrowed the catalog's way)."""
    visible, everything = visible_reports(user)
    entries = report_entries(platform().db, disk_reports(), None if everything else visible)
    return {name: ReportFacts.from_entry(entry) for name, entry in entries.items() if name in visible}


def hit_url(root: str, hit: dict[str, Any]) -> str:
    """The page a hit came from: its run, its version at its cell, or its report."""
    report = f"{root}/reports/{quote(hit['report'], safe='')}"
    if hit.get("run_id"):
        return f"{report}/runs/{quote(hit['run_id'], safe='')}"
    if hit.get("version"):
        cell = hit.get("cell")
        at = f"?cell={cell}#cell-{cell}" if cell is not None else ""
        return f"{report}/versions/{hit['version']}{at}"
    return report


@router.get("/search", summary="Full-text search over the reports one may view: versions, runs, metadata")
def search_reports(
    request: Request,
    user: AnyUser,
    q: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> Any:
    """Ranked hits with snippets; ``total`` counts only the reports the user may view."""
    try:
        found = search(platform().db, q, viewable_facts(user), page=page, per_page=per_page).to_dict()
    except BadQuery as exc:  # a SearchQueryError names the character; a page past the deepest does not
        position = getattr(exc, "position", None)
        return JSONResponse({"detail": str(exc), "position": position}, status.HTTP_400_BAD_REQUEST)
    root = request.scope.get("root_path", "").rstrip("/")
    for hit in found["hits"]:
        hit["url"] = hit_url(root, hit)
    return found
