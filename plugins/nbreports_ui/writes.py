"""The write routes (all need *change*): upload a notebook version, restore a version, edit access.

Each one is recorded in the audit log — done, refused by the policy (by ``change_access``) or
refused for its input (400, nothing changed). A write with the session cookie must carry
``X-Requested-With: nbreports`` (cross-site forms cannot send it); a bearer token needs none.
The work itself is the core's (``nbreports.access.edit``); this module adds HTTP and the audit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from nbreports.access import audit, edit
from nbreports.access.grants import AccessGrants
from nbreports.errors import NbreportsError, SpecError, VersionNotFound
from nbreports.reports.catalog import Report
from nbreports_ui.access import ReportAccess, change_access, ordered, teams
from nbreports_ui.services import disk_report, forget_disk_reports, platform

router = APIRouter(prefix="/api", tags=["nbreports writes"])

UploadAccess = Annotated[ReportAccess, change_access("upload")]
RestoreAccess = Annotated[ReportAccess, change_access("restore")]
AccessEditAccess = Annotated[ReportAccess, change_access("edit-access")]
VersionPrefix = Annotated[str, Path(pattern=r"^[0-9a-f]{8,64}$", description="A version's sha256 (or 8+ hex digits)")]
_BODY_SLACK = 64 * 1024  # multipart boundaries and JSON escapes around the notebook


def _done(access: ReportAccess, action: str, details: dict[str, Any]) -> None:
    audit.record(
        platform().db, actor=access.principal.name, action=action, outcome=audit.Outcome.DONE,
        report=access.report, details=details, origin=access.origin,
    )  # fmt: skip
    forget_disk_reports()


def _invalid(access: ReportAccess, action: str, exc: NbreportsError, code: int = 400) -> HTTPException:
    audit.record(
        platform().db, actor=access.principal.name, action=action, outcome=audit.Outcome.INVALID,
        report=access.report, details={"error": str(exc)[:1000]}, origin=access.origin,
    )  # fmt: skip
    return HTTPException(code, str(exc))


def _folder(access: ReportAccess) -> Report:
    report = disk_report(access.report)
    if report is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"report {access.report!r} has no folder in the notebooks folder: nothing to change",
        )
    return report


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the request body is over {limit:,} bytes")


def _check_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is longer than ``limit``."""
    _check_length(request, limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)


def _json_notebook(raw: bytes) -> tuple[bytes, str | None]:
    import json

    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise SpecError("request body", "(body)", f"is not JSON ({exc})") from exc
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise SpecError("request body", "content", "is required: the notebook file's text, as a string")
    filename = body.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise SpecError("request body", "filename", "must be a string")
    return body["content"].encode("utf-8"), filename


async def _notebook_of(request: Request) -> tuple[bytes, str | None]:
    """The uploaded notebook: multipart field ``notebook`` or JSON ``{"content": "...", "filename": "..."}``."""
    limit = edit.MAX_NOTEBOOK_BYTES + _BODY_SLACK
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        _check_length(request, limit)  # files are spooled to disk by starlette, never held in memory whole
        async with request.form(max_files=1, max_fields=4, max_part_size=limit) as form:
            part = form.get("notebook")
            if not isinstance(part, UploadFile):
                raise SpecError("multipart upload", "notebook", "is required: the .ipynb file")
            data = await part.read(limit + 1)
            if len(data) > limit:
                raise _too_large(limit)
            return data, part.filename
    if kind.startswith("application/json"):
        return _json_notebook(await _body(request, limit))
    raise SpecError("request", "content-type", "must be multipart/form-data (field notebook) or application/json")


@router.post("/reports/{report}/notebook", summary="Upload a notebook as the report's new version (needs change)")
async def upload_notebook(access: UploadAccess, request: Request) -> dict[str, Any]:
    report = _folder(access)
    try:
        data, filename = await _notebook_of(request)
        sha = await run_in_threadpool(
            edit.upload_notebook, platform(), report, data, author=access.principal.name, filename=filename
        )
    except SpecError as exc:
        raise _invalid(access, "upload", exc) from exc
    _done(access, "upload", {"sha256": sha, "size": len(data), "filename": (filename or "")[:200]})
    return {"report": access.report, "sha256": sha, "size": len(data), "source": "upload"}


def _restore(access: ReportAccess, version: str) -> dict[str, Any]:
    report = _folder(access)
    try:
        sha = edit.restore(platform(), report, version, author=access.principal.name)
    except VersionNotFound as exc:
        raise _invalid(access, "restore", exc, status.HTTP_404_NOT_FOUND) from exc
    _done(access, "restore", {"version": version, "sha256": sha, "from": report.notebook_sha})
    return {"report": access.report, "sha256": sha, "source": "restore"}


@router.post("/reports/{report}/versions/{version}/restore", summary="Make a recorded version the notebook again")
def restore_version(access: RestoreAccess, version: VersionPrefix) -> dict[str, Any]:
    return _restore(access, version)


@router.put("/reports/{report}/access", summary="Replace the report's access: grants in report.yaml (needs change)")
def edit_access(access: AccessEditAccess, grants: AccessGrants) -> dict[str, Any]:
    report = _folder(access)
    before = report.spec.access.model_dump(mode="json")
    try:
        rules = edit.set_access(report, grants, teams())
    except SpecError as exc:
        raise _invalid(access, "edit-access", exc) from exc
    after = grants.model_dump(mode="json")
    _done(access, "edit-access", {"before": before, "after": after})
    return {
        "report": access.report,
        "access": after,
        "team": rules.team,
        "restricted": rules.restricted,
        "allowed": ordered(access.allowed),
    }
