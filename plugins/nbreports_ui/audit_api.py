"""The audit log over HTTP: one report's (needs *view*) and everyone's (admins only), newest first.

Who asked from which address with which browser is personal data: only those who may *change*
the report (and the admins) see ``client`` and ``user_agent``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from nbreports.access import audit
from nbreports.access.policy import Action
from nbreports.errors import BadQuery
from nbreports.identifiers import REPORT_NAME
from nbreports_ui.access import AdminUser, ViewReport
from nbreports_ui.services import platform

router = APIRouter(prefix="/api", tags=["nbreports audit"])

Limit = Annotated[int, Query(ge=1, le=audit.MAX_PAGE)]
Cursor = Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")]
ActionFilter = Annotated[str | None, Query(pattern=r"^[a-z-]{1,50}$")]
_PRIVATE = ("client", "user_agent")


class AuditPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Entries, newest first")
    total: int = Field(description="Entries matching the filters")
    limit: int
    next_cursor: int | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end")


def _page(page: audit.AuditPage, private: bool) -> AuditPage:
    items = page.items if private else [{k: v for k, v in e.items() if k not in _PRIVATE} for e in page.items]
    return AuditPage(items=items, total=page.total, limit=page.limit, next_cursor=page.next_cursor)


def _entries(**kwargs: Any) -> audit.AuditPage:
    try:
        return audit.entries(platform().db, **kwargs)
    except BadQuery as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc


@router.get("/reports/{report}/audit", response_model=AuditPage, summary="The report's audit log (needs view)")
def report_audit(
    access: ViewReport, limit: Limit = 50, cursor: Cursor = None, action: ActionFilter = None
) -> AuditPage:
    page = _entries(reports=[access.report], limit=limit, cursor=cursor, action=action)
    return _page(page, Action.CHANGE in access.allowed)


@router.get("/audit", response_model=AuditPage, summary="Every report's audit log (platform admins only)")
def global_audit(
    user: AdminUser,
    limit: Limit = 50,
    cursor: Cursor = None,
    action: ActionFilter = None,
    report: Annotated[str | None, Query(pattern=REPORT_NAME.pattern)] = None,
) -> AuditPage:
    page = _entries(reports=[report] if report else None, limit=limit, cursor=cursor, action=action)
    return _page(page, True)
