"""Who may touch which report: every route depends on one of these, and every route names its report.

Today a report is as visible as its DAG (the report name is the DAG id), checked with Airflow's
own auth manager. Per-report ACLs (view / execute / change) slot into ``_allowed`` without any
route changing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, Path, status

from nbreports.identifiers import REPORT_NAME, RUN_ID

Action = Literal["view", "execute", "change"]
_METHODS: dict[Action, Literal["GET", "POST", "PUT"]] = {"view": "GET", "execute": "POST", "change": "PUT"}

ReportName = Annotated[str, Path(pattern=REPORT_NAME.pattern, description="Report name (= its DAG id)")]
RunId = Annotated[str, Path(pattern=RUN_ID.pattern, description="Report run id (nbreports, not Airflow)")]


@dataclass(frozen=True)
class ReportAccess:
    """The user and the report a request touches, after the permission check."""

    report: str
    user: BaseUser
    action: Action


def _allowed(user: BaseUser, report: str, action: Action) -> bool:
    return bool(
        get_auth_manager().is_authorized_dag(
            method=_METHODS[action],
            user=user,
            details=DagDetails(id=report),
        )
    )


def allowed_reports(user: BaseUser, names: list[str], action: Action = "view") -> list[str]:
    """Return the subset of ``names`` the user may ``action`` (the catalog lists only those)."""
    return [name for name in names if _allowed(user, name, action)]


def report_access(action: Action) -> object:
    """Return a dependency: 401 without a user, 403 when the user may not ``action`` this report."""

    async def dependency(report: ReportName, user: GetUserDep) -> ReportAccess:
        if not _allowed(user, report, action):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed to {action} report {report!r}")
        return ReportAccess(report=report, user=user, action=action)

    return Depends(dependency)


ViewReport = Annotated[ReportAccess, report_access("view")]
AnyUser = GetUserDep
