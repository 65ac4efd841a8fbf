"""The write routes need *change*, refuse bad input without touching a file, and are all audited.

Same app and platform as ``test_access_plugin`` (its ``env`` fixture); writes go to copies of the
example reports, checked byte for byte afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from nbreports.access.grants import AccessGrants
from tests.helpers import make_notebook
from tests.unit import test_access_plugin as base

env = base.env  # the fixture: the plugin's app over copies of the examples
as_ = base.as_

WRITE = {"X-Requested-With": "nbreports", "User-Agent": "pytest-browser"}


def notebook_text(*cells: str) -> str:
    return nbformat.writes(make_notebook('region = "EU"\ntop_n = 3', *cells))


def upload(env: SimpleNamespace, user: str, report: str = "sales_summary", **body: Any) -> Any:
    body.setdefault("content", notebook_text("print('new')"))
    return env.client.post(f"/api/reports/{report}/notebook", json=body, headers=as_(user, **WRITE))


def audit_of(env: SimpleNamespace, user: str, report: str = "sales_summary", **params: Any) -> dict[str, Any]:
    resp = env.client.get(f"/api/reports/{report}/audit", params=params, headers=as_(user))
    assert resp.status_code == 200, resp.text
    return resp.json()


def files(env: SimpleNamespace, report: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((env.notebooks / report).glob("*")) if p.is_file()}


def test_an_upload_becomes_the_notebook_and_a_version(env: SimpleNamespace) -> None:
    text = notebook_text("print('uploaded')")
    resp = upload(env, "alice", content=text, filename="mine.ipynb")
    assert resp.status_code == 200, resp.text
    assert (env.notebooks / "sales_summary" / "sales_summary.ipynb").read_text() == text
    sha = resp.json()["sha256"]
    versions = env.client.get("/api/reports/sales_summary/versions", headers=as_("alice")).json()["versions"]
    assert [(v["sha256"], v["source"]) for v in versions[:2]] == [
        (sha, "upload"),
        (versions[1]["sha256"], "pre-upload"),
    ]
    (entry,) = audit_of(env, "alice")["items"]
    assert (entry["actor"], entry["action"], entry["outcome"], entry["report"]) == (
        "alice",
        "upload",
        "done",
        "sales_summary",
    )
    assert entry["details"]["sha256"] == sha
    assert entry["details"]["filename"] == "mine.ipynb"
    assert entry["user_agent"] == "pytest-browser"
    assert entry["client"]
    assert entry["at"].endswith("+00:00")


def test_a_multipart_upload(env: SimpleNamespace) -> None:
    text = notebook_text("print('multipart')")
    resp = env.client.post(
        "/api/reports/sales_summary/notebook",
        files={"notebook": ("report.ipynb", text.encode(), "application/x-ipynb+json")},
        headers=as_("alice", **WRITE),
    )
    assert resp.status_code == 200, resp.text
    assert (env.notebooks / "sales_summary" / "sales_summary.ipynb").read_text() == text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"content": ""}, "notebook: is empty"),
        ({"content": "{not json"}, "notebook: is not a notebook (not JSON text"),
        ({"content": json.dumps({"nbformat": 3, "worksheets": []})}, "is not an nbformat 4 notebook (nbformat: 3)"),
        ({"content": json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": "x"})}, "not a valid nbformat 4"),
        ({"content": "x" * (16 * 1024 * 1024 + 1)}, "the limit is 16,777,216"),
        ({"content": None}, "content: is required"),
        ({"content": notebook_text("x"), "filename": 3}, "filename: must be a string"),
    ],
)
def test_a_bad_upload_is_400_naming_the_field_and_changes_nothing(
    env: SimpleNamespace, body: dict[str, Any], message: str
) -> None:
    before = files(env, "sales_summary")
    resp = upload(env, "alice", **body)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["detail"]
    assert files(env, "sales_summary") == before
    (entry,) = audit_of(env, "alice")["items"]
    assert (entry["action"], entry["outcome"]) == ("upload", "invalid")


def test_an_upload_whose_parameters_break_the_spec_is_refused(env: SimpleNamespace) -> None:
    nb = make_notebook("region = 5\ntop_n = 3", "print(region)")  # the spec's choices are strings
    resp = upload(env, "alice", content=nbformat.writes(nb))
    assert resp.status_code == 400
    assert "region" in resp.json()["detail"]


def test_only_change_may_write_and_refusals_are_audited(env: SimpleNamespace) -> None:
    before = files(env, "sales_summary")
    for user in ("bob", "carol"):  # view only
        resp = upload(env, user)
        assert resp.status_code == 403
        assert resp.json()["detail"] == "you may not change report 'sales_summary'"
    assert upload(env, "alice", report="data_quality").status_code == 403  # execute is not change
    assert upload(env, "alice", report="hr_headcount").status_code == 403
    assert files(env, "sales_summary") == before
    denied = audit_of(env, "alice")["items"]
    assert [(e["actor"], e["outcome"]) for e in denied] == [("carol", "denied"), ("bob", "denied")]
    assert denied[0]["details"]["needs"] == "change"
    admin = env.client.get("/api/audit", params={"limit": 10}, headers=as_("root")).json()
    assert {e["report"] for e in admin["items"]} == {"sales_summary", "data_quality", "hr_headcount"}
    assert admin["total"] == 4


def test_a_cookie_write_needs_the_csrf_header(env: SimpleNamespace) -> None:
    resp = env.client.post(
        "/api/reports/sales_summary/notebook", json={"content": notebook_text()}, headers=as_("alice")
    )
    assert resp.status_code == 403
    assert "X-Requested-With" in resp.json()["detail"]


def test_restore_puts_a_version_back(env: SimpleNamespace) -> None:
    path = env.notebooks / "sales_summary" / "sales_summary.ipynb"
    original = path.read_bytes()
    assert upload(env, "alice").status_code == 200
    versions = env.client.get("/api/reports/sales_summary/versions", headers=as_("alice")).json()["versions"]
    old = next(v["sha256"] for v in versions if v["source"] == "pre-upload")
    url = f"/api/reports/sales_summary/versions/{old[:12]}/restore"
    assert env.client.post(url, headers=as_("bob", **WRITE)).status_code == 403
    resp = env.client.post(url, headers=as_("alice", **WRITE))
    assert resp.status_code == 200, resp.text
    assert path.read_bytes() == original
    missing = env.client.post("/api/reports/sales_summary/versions/deadbeef00/restore", headers=as_("alice", **WRITE))
    assert missing.status_code == 404
    actions = [(e["action"], e["outcome"]) for e in audit_of(env, "alice")["items"]]
    assert actions == [("restore", "invalid"), ("restore", "done"), ("restore", "denied"), ("upload", "done")]


def put_access(env: SimpleNamespace, user: str, report: str, grants: dict[str, Any]) -> Any:
    return env.client.put(f"/api/reports/{report}/access", json=grants, headers=as_(user, **WRITE))


def test_editing_access_rewrites_only_the_access_block_and_takes_effect(env: SimpleNamespace) -> None:
    spec = env.notebooks / "sales_summary" / "report.yaml"
    before = spec.read_text()
    resp = put_access(env, "alice", "sales_summary", {"view": {"teams": ["data-eng"]}, "execute": {"users": ["bob"]}})
    assert resp.status_code == 200, resp.text
    after = spec.read_text()
    assert "access:                    # beyond the analytics team\n" in after  # the key line's comment stays
    assert "  view: {teams: [data-eng]}\n  execute: {users: [bob]}\n" in after
    assert [line for line in before.splitlines() if not line.startswith(("access:", "  "))] == [
        line for line in after.splitlines() if not line.startswith(("access:", "  "))
    ]
    assert env.client.get("/api/reports/sales_summary", headers=as_("carol")).status_code == 403  # carol was removed
    assert env.client.get("/api/reports/sales_summary", headers=as_("bob")).json()["allowed"] == ["view", "execute"]
    (entry,) = audit_of(env, "alice")["items"]
    assert entry["details"]["before"]["view"]["users"] == ["carol"]
    assert entry["details"]["after"]["execute"]["users"] == ["bob"]


@pytest.mark.parametrize(
    ("user", "report", "grants", "message"),
    [
        ("alice", "sales_summary", {"view": {"teams": ["marketing"]}}, "access.view.teams: unknown team 'marketing'"),
        ("alice", "sales_summary", {"execute": {"users": ["mallory"]}}, "access.execute.users: unknown user 'mallory'"),
        ("alice", "sales_summary", {"view": {"roles": ["Nobody"]}}, "unknown role 'Nobody'"),
        ("paula", "hr_headcount", {"view": {"teams": ["analytics"]}}, "is restricted (personal data)"),
        ("paula", "hr_headcount", {"view": {"users": ["alice"]}}, "is restricted (personal data)"),
    ],
)
def test_bad_access_is_400_and_leaves_the_file(
    env: SimpleNamespace, user: str, report: str, grants: dict[str, Any], message: str
) -> None:
    spec = env.notebooks / report / "report.yaml"
    before = spec.read_bytes()
    resp = put_access(env, user, report, grants)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["detail"]
    assert spec.read_bytes() == before
    assert audit_of(env, user, report)["items"][0]["outcome"] == "invalid"


def test_access_edits_need_change_and_a_valid_shape(env: SimpleNamespace) -> None:
    assert put_access(env, "bob", "sales_summary", {}).status_code == 403
    assert put_access(env, "alice", "sales_summary", {"change": {"users": ["bob"]}}).status_code == 422


def test_the_audit_log_pages_and_keeps_addresses_for_those_who_may_change(env: SimpleNamespace) -> None:
    for _ in range(3):
        assert upload(env, "bob").status_code == 403
    first = audit_of(env, "bob", limit=2)
    assert (first["total"], len(first["items"])) == (3, 2)
    assert "client" not in first["items"][0]  # bob may only view: no addresses, no browsers
    second = audit_of(env, "bob", limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    assert "client" in audit_of(env, "alice")["items"][0]
    assert env.client.get("/api/reports/sales_summary/audit", headers=as_("dave")).status_code == 403
    assert env.client.get("/api/audit", headers=as_("alice")).status_code == 403
    assert env.client.get("/api/audit", params={"report": "sales_summary"}, headers=as_("root")).json()["total"] == 3
    assert env.client.get("/api/audit", params={"report": "data_quality"}, headers=as_("root")).json()["total"] == 0


def test_replace_access_block_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    from nbreports.access.edit import replace_access_block

    text = (
        "title: T  # the title\nteam: analytics\n\n# about access\naccess:\n  view: {teams: [a]}  # old\n\ntags: [x]\n"
    )
    grants = AccessGrants.model_validate({"view": {"users": ["yes", "carol"]}})
    replaced = replace_access_block(text, grants)
    head = "title: T  # the title\nteam: analytics\n\n# about access\n"
    assert replaced == head + 'access:\n  view: {users: ["yes", carol]}\n\ntags: [x]\n'  # "yes" stays a string
    assert (
        replace_access_block(replaced, AccessGrants())
        == "title: T  # the title\nteam: analytics\n\n# about access\n\ntags: [x]\n"
    )
    added = replace_access_block("title: T\nteam: analytics\ntags: [x]", grants)
    assert added == 'title: T\nteam: analytics\naccess:\n  view: {users: ["yes", carol]}\ntags: [x]'
