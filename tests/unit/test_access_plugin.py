"""The plugin enforces the access policy on every route: 401 without a user, 403 when not allowed,
404 for unknown reports, lists filtered before they are counted.

The real FastAPI app of the plugin over a real platform (local store, SQLite) and copies of the
example reports with the shipped teams file; only Airflow's user lookup is replaced (the user
is named by a test header), the way FastAPI lets a dependency be overridden.
"""

from __future__ import annotations

import shutil
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

with warnings.catch_warnings():  # starlette asks for httpx2 (not in the lock); its TestClient works with httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "plugins"))  # Airflow puts its plugins folder on sys.path

from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from airflow.api_fastapi.core_api.security import get_user

EXAMPLES = ("sales_summary", "sales_digest", "data_quality", "hr_headcount")
DELETED = "hr_old"  # known only from the platform database: its folder is gone (owned by people: hr_*)
USER_HEADER = "X-Test-User"


class FabUser:
    """What FAB's auth manager hands a route: ``username`` and Role objects with a ``name``."""

    def __init__(self, username: str, *roles: str) -> None:
        self.username = username
        self.roles = [SimpleNamespace(name=r) for r in roles]

    def get_id(self) -> str:
        return self.username

    def get_name(self) -> str:
        return self.username


USERS: dict[str, Any] = {
    "alice": FabUser("alice", "Analytics"),
    "bob": FabUser("bob", "DataEng"),
    "carol": FabUser("carol"),
    "paula": FabUser("paula", "People"),
    "root": FabUser("root", "Admin"),
    "dave": FabUser("dave", "Viewer"),
    "simple-admin": SimpleAuthManagerUser(username="simple-admin", role="ADMIN"),
}


def _user(request: Request) -> Any:
    name = request.headers.get(USER_HEADER)
    if name not in USERS:
        raise HTTPException(401, "Not authenticated")
    return USERS[name]


def seed_run(platform: Any, report: str, run_id: str, minutes: int = 0, status: str = "success") -> None:
    started = datetime(2024, 6, 1, 6, tzinfo=UTC) + timedelta(minutes=minutes)
    platform.db.start_run(
        run_id=run_id, report=report, status=status, parameters={"n": minutes}, notebook_version="a" * 64,
        executor="local", started_at=started, html_uri="report.html", output_uri="output.ipynb",
    )  # fmt: skip
    platform.store.write_bytes(platform.store.run_key(report, run_id, "report.html"), b"<p>report</p>")
    platform.store.write_bytes(platform.store.run_key(report, run_id, "output.ipynb"), b'{"cells": []}')


@pytest.fixture
def env(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """The plugin's app over copies of the examples, one deleted report and a few runs of each."""
    from nbreports.runs.model import Platform

    notebooks = tmp_path / "notebooks"
    for name in EXAMPLES:
        shutil.copytree(REPO / "notebooks" / name, notebooks / name)
    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(notebooks))
    platform = Platform.from_settings()

    from nbreports_ui import access, api, app, audit_api, content, notify_api, search_api, services, writes

    for module in (access, api, audit_api, content, notify_api, search_api, services, writes):
        monkeypatch.setattr(module, "platform", lambda: platform)
    services.forget_disk_reports()
    platform.db.upsert_report(DELETED, "Old HR", "paula", "people", {"team": "people", "access": {}}, [])
    for index, report in enumerate((*EXAMPLES, DELETED)):
        seed_run(platform, report, f"20240601T0600{index:02d}-r1", index)
        seed_run(platform, report, f"20240601T0700{index:02d}-r2", 60 + index, "failed")
    app.app.dependency_overrides[get_user] = _user
    with TestClient(app.app, base_url="http://127.0.0.1") as client:
        yield SimpleNamespace(client=client, platform=platform, notebooks=notebooks)
    app.app.dependency_overrides.clear()
    services.forget_disk_reports()
    platform.db.engine.dispose()


def as_(user: str | None, **headers: str) -> dict[str, str]:
    return {USER_HEADER: user, **headers} if user else headers


def run_of(report: str) -> str:
    return f"20240601T0600{(*EXAMPLES, DELETED).index(report):02d}-r1"


def read_urls(report: str) -> list[str]:
    """Every read route of one report (API, content, pages), with a run of that report."""
    run, other = run_of(report), run_of(report).replace("0600", "0700").replace("-r1", "-r2")
    api, sha = f"/api/reports/{report}", "a" * 64
    return [
        api,
        f"{api}/runs",
        f"{api}/runs/{run}",
        f"{api}/runs/{run}/output.ipynb",
        f"{api}/dag-runs/none",
        f"{api}/compare?base={run}&other={other}",
        f"{api}/versions",
        f"{api}/versions/compare?base={sha}&other={sha}",
        f"{api}/versions/{sha[:12]}",
        f"{api}/audit",
        f"/content/reports/{report}/runs/{run}/report.html",
        f"/reports/{report}",
        f"/reports/{report}/runs/{run}",
        f"/reports/{report}/dag-runs/none",
        f"/reports/{report}/compare?base={run}&other={other}",
        f"/reports/{report}/versions/compare?base={sha}&other={sha}",
        f"/reports/{report}/versions/{sha}",
    ]


def test_principal_of_fab_and_simple_users() -> None:
    from nbreports_ui.access import principal_of

    assert principal_of(USERS["alice"]).roles == {"Analytics"}
    assert principal_of(USERS["carol"]).roles == frozenset()
    simple = principal_of(USERS["simple-admin"])
    assert (simple.name, simple.roles) == ("simple-admin", {"Admin"})  # the simple manager's ADMIN is FAB's Admin
    assert principal_of(SimpleAuthManagerUser(username="x", role=None)).roles == frozenset()


def test_every_route_depends_on_the_user() -> None:
    """The route table's rule, checked on the app: no route answers without Airflow's user."""
    from nbreports_ui.app import app

    def needs_user(dependant: Any) -> bool:
        return any(d.call is get_user or needs_user(d) for d in dependant.dependencies)

    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 30
    assert [r.path for r in routes if not needs_user(r.dependant)] == []


def test_without_a_user_everything_is_401(env: SimpleNamespace) -> None:
    report = "sales_summary"
    urls = [*read_urls(report), "/api/reports", "/api/audit", "/api/search?q=sales", "/", "/search"]
    urls += ["/static/app.js", "/api/openapi.json"]
    for url in urls:
        assert env.client.get(url).status_code == 401, url
    for method, url in [("POST", f"/api/reports/{report}/notebook"), ("PUT", f"/api/reports/{report}/access"),
                        ("POST", f"/api/reports/{report}/versions/{'a' * 64}/restore")]:  # fmt: skip
        assert env.client.request(method, url, json={}).status_code == 401, url


def test_the_catalog_lists_only_what_the_user_may_view_and_counts_only_that(env: SimpleNamespace) -> None:
    def catalog(user: str, **params: str) -> dict[str, Any]:
        resp = env.client.get("/api/reports", params=params, headers=as_(user))
        assert resp.status_code == 200
        return resp.json()

    carol = catalog("carol")
    assert carol["total"] == 1
    assert [(e["name"], e["allowed"]) for e in carol["reports"]] == [("sales_summary", ["view"])]
    alice = {e["name"]: e["allowed"] for e in catalog("alice")["reports"]}
    assert alice == {
        "sales_summary": ["view", "execute", "change"],
        "sales_digest": ["view", "execute", "change"],
        "data_quality": ["view", "execute"],
    }
    assert catalog("alice")["total"] == 3
    assert {e["name"] for e in catalog("paula")["reports"]} == {"hr_headcount", DELETED}
    assert catalog("root")["total"] == catalog("simple-admin")["total"] == 5
    assert catalog("dave") == {"reports": [], "total": 0}
    assert catalog("carol", q="headcount")["total"] == 0  # a search never finds what one may not see
    assert catalog("alice", tag="hr")["total"] == 0


def test_a_report_one_may_not_view_is_403_on_every_route_and_says_nothing_of_it(env: SimpleNamespace) -> None:
    for user in ("alice", "carol", "dave"):
        for url in read_urls("hr_headcount"):
            resp = env.client.get(url, headers=as_(user))
            assert resp.status_code == 403, (user, url)
            if url.startswith(("/api/", "/content/")):
                assert resp.json() == {"detail": "you may not view report 'hr_headcount'"}, url
            else:  # a page: a small HTML page saying the same
                assert "you may not view report &#x27;hr_headcount&#x27;" in resp.text, url
    for url in read_urls("hr_headcount"):
        assert env.client.get(url, headers=as_("paula")).status_code in (200, 404), url  # 404: no such DAG run
    assert env.client.get("/api/reports/hr_headcount/runs", headers=as_("paula")).json()["total"] == 2


def test_unknown_reports_are_404_but_their_page_shell_loads(env: SimpleNamespace) -> None:
    assert env.client.get("/api/reports/no_such_report", headers=as_("alice")).status_code == 404
    assert env.client.get("/api/reports/no_such_report/runs", headers=as_("alice")).status_code == 404
    assert env.client.get("/reports/no_such_report", headers=as_("alice")).status_code == 200  # "not a report"


def test_run_level_routes_check_the_runs_report(env: SimpleNamespace) -> None:
    hr_run = run_of("hr_headcount")
    for url in (f"/api/reports/sales_summary/runs/{hr_run}", f"/api/reports/sales_summary/runs/{hr_run}/output.ipynb",
                f"/content/reports/sales_summary/runs/{hr_run}/report.html"):  # fmt: skip
        assert env.client.get(url, headers=as_("alice")).status_code == 404, url  # not a run of sales_summary
    assert env.client.get(f"/api/reports/hr_headcount/runs/{hr_run}", headers=as_("alice")).status_code == 403


def test_views_of_shared_reports_follow_the_grants(env: SimpleNamespace) -> None:
    for user in ("bob", "carol", "alice", "root"):
        for url in read_urls("sales_summary"):
            assert env.client.get(url, headers=as_(user)).status_code in (200, 404), (user, url)
    detail = env.client.get("/api/reports/sales_summary", headers=as_("carol")).json()
    assert detail["allowed"] == ["view"]
    assert "access" not in detail  # the grants are shown to those who may change them
    owner = env.client.get("/api/reports/sales_summary", headers=as_("alice")).json()
    assert owner["allowed"] == ["view", "execute", "change"]
    assert owner["access"]["view"] == {"teams": ["data-eng"], "roles": [], "users": ["carol"]}
    assert owner["restricted"] is False
    assert env.client.get("/api/reports/data_quality", headers=as_("alice")).json()["allowed"] == ["view", "execute"]


def test_a_deleted_report_keeps_the_rules_its_spec_recorded(env: SimpleNamespace) -> None:
    assert env.client.get(f"/api/reports/{DELETED}/runs", headers=as_("paula")).json()["total"] == 2
    assert env.client.get(f"/api/reports/{DELETED}", headers=as_("paula")).json()["on_disk"] is False
    assert env.client.get(f"/api/reports/{DELETED}/runs", headers=as_("alice")).status_code == 403
    assert env.client.get(f"/api/reports/{DELETED}/runs", headers=as_("root")).status_code == 200


def test_stored_rules_fall_back_to_the_folders_owner() -> None:
    from nbreports_ui.access import stored_rules

    from nbreports.access.teams import load_teams

    teams = load_teams(REPO / "config" / "teams.yaml")
    widened = stored_rules("hr_x", {"team": "people", "access": {"view": {"teams": ["analytics"]}}}, teams)
    assert (widened.team, widened.restricted, widened.view_roles) == ("people", True, frozenset())
    bad = stored_rules("sales_summary", {"team": "qa", "access": {"nonsense": 1}}, teams)
    assert bad.team == "analytics"
    assert bad.view_users == frozenset()


def test_a_forbidden_page_is_a_small_html_page(env: SimpleNamespace) -> None:
    resp = env.client.get("/reports/hr_headcount", headers=as_("alice"))
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("text/html")
    assert "you may not view report &#x27;hr_headcount&#x27;" in resp.text
    assert "Headcount" not in resp.text
    api = env.client.get("/api/reports/hr_headcount", headers=as_("alice"))
    assert api.headers["content-type"] == "application/json"
