"""The nbreports plugin's HTTP API on a real Airflow api-server (plugin loaded from ``plugins/``).

Runs are made by the core runner into the same platform database and store the server reads.
The probe report belongs to the teams file's catch-all team (only admins); the repo's example
reports are on the server's disk. People log in through FAB + LDAP (``servers.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from nbreports.browse.runs import recent_runs
from nbreports.storage.database import PlatformDB
from tests.integration.plugin_data import PROBE, seed_probe_runs
from tests.integration.servers import AirflowServers

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def runs(airflow_servers: AirflowServers, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return seed_probe_runs(airflow_servers, tmp_path_factory.mktemp("notebooks"))


@pytest.fixture(scope="module")
def client(airflow_servers: AirflowServers) -> httpx.Client:
    with airflow_servers.client("admin") as c:
        yield c


def _urls(runs: list[dict[str, Any]]) -> list[str]:
    first, second = runs[0]["run_id"], runs[1]["run_id"]
    base = f"/nbreports/api/reports/{PROBE}"
    return [
        "/nbreports/api/reports",
        base,
        f"{base}/runs",
        f"{base}/runs/{first}",
        f"{base}/runs/{first}/output.ipynb",
        f"{base}/dag-runs/manual__probe1",
        f"{base}/compare?base={first}&other={second}",
        f"{base}/versions",
        f"{base}/versions/compare?base={runs[0]['notebook_version']}&other={runs[0]['notebook_version']}",
        "/nbreports/api/openapi.json",
        f"/nbreports/content/reports/{PROBE}/runs/{first}/report.html",
        "/nbreports/",
        f"/nbreports/reports/{PROBE}",
        f"/nbreports/reports/{PROBE}/runs/{first}",
        f"/nbreports/reports/{PROBE}/dag-runs/manual__probe1",
        f"/nbreports/reports/{PROBE}/compare?base={first}&other={second}",
        "/nbreports/static/app.js",
    ]


def test_plugin_is_registered_with_its_views(client: httpx.Client) -> None:
    plugins = {p["name"]: p for p in client.get("/api/v2/plugins").json()["plugins"]}
    views = {v["url_route"]: v for v in plugins["nbreports"]["external_views"]}
    assert views["nbreports"]["destination"] == "nav"
    assert (views["nbreports-search"]["href"], views["nbreports-search"]["destination"]) == ("/nbreports/search", "nav")
    assert views["nbreports-report"]["href"] == "/nbreports/reports/{DAG_ID}"
    assert views["nbreports-run"]["href"] == "/nbreports/reports/{DAG_ID}/dag-runs/{RUN_ID}"


def test_every_endpoint_needs_the_airflow_user(
    airflow_servers: AirflowServers, client: httpx.Client, runs: list[dict[str, Any]]
) -> None:
    with airflow_servers.client(None) as anonymous:
        for url in _urls(runs):
            assert client.get(url).status_code == 200, url
            resp = anonymous.get(url)
            assert resp.status_code == 401, (url, resp.status_code, resp.text[:200])
            assert anonymous.get(url, headers={"Authorization": "Bearer not-a-jwt"}).status_code in (401, 403), url


def test_the_session_cookie_is_accepted(airflow_servers: AirflowServers) -> None:
    cookies = {"_token": airflow_servers.token("admin")}
    with httpx.Client(base_url=airflow_servers.base_url, cookies=cookies, timeout=30) as browser_like:
        resp = browser_like.get(f"/nbreports/reports/{PROBE}")
    assert resp.status_code == 200
    assert f'data-report="{PROBE}"' in resp.text
    assert "script-src 'self'" in resp.headers["content-security-policy"]


def _probe_runs(servers: AirflowServers) -> int:
    """Probe runs in the platform database: other test modules sharing it may have seeded some too."""
    return len(recent_runs(PlatformDB(servers.platform_db_url), PROBE, limit=10_000))


def test_catalog_lists_reports_with_last_run_and_filters(
    airflow_servers: AirflowServers, client: httpx.Client, runs: list[dict[str, Any]]
) -> None:
    data = client.get("/nbreports/api/reports").json()
    entries = {e["name"]: e for e in data["reports"]}
    probe = entries[PROBE]
    assert probe["title"] == "UI probe"
    assert probe["owner"] == "tester"
    assert probe["team"] == "default"
    assert probe["allowed"] == ["view", "execute", "change"]
    assert probe["last_run"]["run_id"] == runs[2]["run_id"]
    assert probe["last_run"]["status"] == "success"
    assert probe["last_published"]["run_id"] == runs[2]["run_id"]
    assert probe["success_rate"] == 1.0
    assert probe["runs_finished"] == _probe_runs(airflow_servers) >= 3
    assert {"sales_summary", "data_quality"} <= entries.keys()  # on disk: listed before any run
    assert [e["name"] for e in client.get("/nbreports/api/reports", params={"tag": "probe"}).json()["reports"]] == [
        PROBE
    ]
    assert [e["name"] for e in client.get("/nbreports/api/reports", params={"q": "ui probe"}).json()["reports"]] == [
        PROBE
    ]
    assert client.get("/nbreports/api/reports", params={"owner": "nobody-at-all"}).json()["total"] == 0


def test_report_has_its_parameter_schema(
    airflow_servers: AirflowServers, client: httpx.Client, runs: list[dict[str, Any]]
) -> None:
    report = client.get(f"/nbreports/api/reports/{PROBE}").json()
    props = report["parameter_schema"]["properties"]
    assert props["n"]["type"] == "integer"
    assert props["n"]["default"] == 2
    assert props["label"]["description"] == "What to call the run"
    assert report["run_counts"] == {"success": _probe_runs(airflow_servers)}
    assert client.get("/nbreports/api/reports/no_such_report").status_code == 404
    assert client.get("/nbreports/api/reports/Not..A..Name").status_code == 422


def test_history_pages_and_filters(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    url = f"/nbreports/api/reports/{PROBE}/runs"
    first = client.get(url, params={"limit": 2}).json()
    assert first["total"] == 3
    assert first["total_exact"]
    assert [r["run_id"] for r in first["items"]] == [runs[2]["run_id"], runs[1]["run_id"]]
    assert first["items"][0]["cache_hit_of"] == runs[0]["run_id"]
    second = client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [r["run_id"] for r in second["items"]] == [runs[0]["run_id"]]
    assert second["next_cursor"] is None
    assert second["items"][0]["parameters"] == {"label": "first", "n": 2}
    assert client.get(url, params={"status": "failed"}).json()["total"] == 0
    assert client.get(url, params={"cursor": "garbage"}).status_code == 400
    assert client.get(url, params={"limit": 10_000}).status_code == 422
    assert "/api/reports/{report}/runs" in client.get("/nbreports/api/openapi.json").json()["paths"]


def test_run_detail_download_and_dag_run_lookup(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    run_id = runs[0]["run_id"]
    run = client.get(f"/nbreports/api/reports/{PROBE}/runs/{run_id}").json()
    assert run["scraps"] == {"total": 20, "label": "first"}
    assert run["status"] == "success"
    assert run["execution_s"] > 0
    assert run["has_html"]
    assert run["has_output"]
    assert run["airflow"]["log_execute"] == f"/dags/{PROBE}/runs/manual__probe1/tasks/execute"
    assert client.get(f"/nbreports/api/reports/{PROBE}/dag-runs/manual__probe1").json()["run_id"] == run_id
    assert client.get(f"/nbreports/api/reports/{PROBE}/dag-runs/manual__none").status_code == 404
    assert client.get(f"/nbreports/api/reports/sales_summary/runs/{run_id}").status_code == 404  # other report

    nb = client.get(f"/nbreports/api/reports/{PROBE}/runs/{run_id}/output.ipynb")
    assert nb.headers["content-disposition"] == f'attachment; filename="{PROBE}-{run_id}.ipynb"'
    assert nb.json()["metadata"]["nbreports"]["parameters"] == {"label": "first", "n": 2}


def test_a_cache_hit_shows_the_outputs_it_reuses(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    source, hit = runs[0]["run_id"], runs[2]["run_id"]
    assert runs[2]["cache_hit_of"] == source
    run = client.get(f"/nbreports/api/reports/{PROBE}/runs/{hit}").json()
    assert run["cache_hit_of"] == source
    assert run["scraps"] == {"total": 20, "label": "first"}
    assert run["execution_s"] == 0.0
    assert run["has_html"]
    html = client.get(f"/nbreports/content/reports/{PROBE}/runs/{hit}/report.html")
    assert html.status_code == 200
    assert 'id="probe"' in html.text
    nb = client.get(f"/nbreports/api/reports/{PROBE}/runs/{hit}/output.ipynb").json()
    assert nb["metadata"]["nbreports"]["run_id"] == source
    same = client.get(f"/nbreports/api/reports/{PROBE}/compare", params={"base": source, "other": hit}).json()
    assert same["notebook_diff"]["identical"] is True
    assert same["parameters_summary"]["changed"] == 0


def test_report_html_is_served_sandboxed(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    resp = client.get(f"/nbreports/content/reports/{PROBE}/runs/{quote(runs[0]['run_id'])}/report.html")
    assert resp.status_code == 200
    assert 'id="probe"' in resp.text
    csp = [d.strip() for d in resp.headers["content-security-policy"].split(";")]
    sandbox = next(d for d in csp if d.startswith("sandbox"))
    assert "allow-scripts" in sandbox
    assert "allow-same-origin" not in sandbox
    assert "connect-src 'none'" in csp
    assert "frame-ancestors 'self'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_compare_runs(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    a, b = runs[0]["run_id"], runs[1]["run_id"]
    data = client.get(f"/nbreports/api/reports/{PROBE}/compare", params={"base": a, "other": b}).json()
    params = {r["key"]: r for r in data["parameters"]}
    assert params["n"] == {"key": "n", "change": "changed", "base": 2, "other": 3}
    assert data["parameters_summary"]["changed"] == 2
    assert {r["key"]: r["change"] for r in data["scraps"]} == {"label": "changed", "total": "changed"}
    assert data["same_version"] is True
    diff = data["notebook_diff"]
    assert diff["identical"] is False
    assert "items 3" in diff["text"]
    assert "items 2" in diff["text"]


def test_versions_and_their_diff(client: httpx.Client, runs: list[dict[str, Any]]) -> None:
    versions = client.get(f"/nbreports/api/reports/{PROBE}/versions").json()["versions"]
    assert [v["sha256"] for v in versions] == [runs[0]["notebook_version"]]
    assert versions[0]["runs"] == 3
    sha = versions[0]["sha256"]
    same = client.get(f"/nbreports/api/reports/{PROBE}/versions/compare", params={"base": sha, "other": sha})
    assert same.json()["notebook_diff"]["identical"] is True
    missing = client.get(f"/nbreports/api/reports/{PROBE}/versions/compare", params={"base": sha, "other": "0" * 64})
    assert missing.status_code == 404


# -- the access policy, through FAB logins -------------------------------------------------------


def _names(client: httpx.Client) -> set[str]:
    data = client.get("/nbreports/api/reports").json()
    assert data["total"] == len(data["reports"])
    return {e["name"] for e in data["reports"]}


def test_the_catalog_shows_each_person_only_what_they_may_view(
    airflow_servers: AirflowServers, runs: list[dict[str, Any]]
) -> None:
    with airflow_servers.client("alice") as alice, airflow_servers.client("carol") as carol:
        seen = _names(alice)
        assert {"sales_summary", "sales_digest", "data_quality"} <= seen
        assert "hr_headcount" not in seen
        assert PROBE not in seen  # the catch-all team's report: admins only
        assert _names(carol) == {"sales_summary"}  # named in its grants
        entry = carol.get("/nbreports/api/reports").json()["reports"][0]
        assert entry["allowed"] == ["view"]
    with airflow_servers.client("paula") as paula:
        assert "hr_headcount" in _names(paula)


def test_a_report_one_may_not_view_is_403_and_a_stranger_sees_nothing_of_it(
    airflow_servers: AirflowServers, runs: list[dict[str, Any]]
) -> None:
    run_id = runs[0]["run_id"]
    with airflow_servers.client("alice") as alice:
        for url in (
            "/nbreports/api/reports/hr_headcount",
            "/nbreports/api/reports/hr_headcount/runs",
            f"/nbreports/api/reports/{PROBE}/runs/{run_id}",
            f"/nbreports/content/reports/{PROBE}/runs/{run_id}/report.html",
            f"/nbreports/reports/{PROBE}",
        ):
            resp = alice.get(url)
            assert resp.status_code == 403, url
            assert "UI probe" not in resp.text
        assert alice.get("/nbreports/api/reports/no_such_report").status_code == 404
        assert alice.get("/nbreports/api/audit").status_code == 403
    with airflow_servers.client("paula") as paula:
        assert paula.get("/nbreports/api/reports/hr_headcount").json()["allowed"] == ["view", "execute", "change"]


def test_a_refused_write_is_403_and_audited(airflow_servers: AirflowServers, client: httpx.Client) -> None:
    with airflow_servers.client("bob") as bob:  # data-eng may view sales_summary, not change it
        resp = bob.put("/nbreports/api/reports/sales_summary/access", json={}, headers={"User-Agent": "it-test"})
        assert resp.status_code == 403
        assert resp.json()["detail"] == "you may not change report 'sales_summary'"
    entries = client.get("/nbreports/api/audit", params={"report": "sales_summary"}).json()["items"]
    mine = [e for e in entries if e["actor"] == "bob" and e["action"] == "edit-access"]
    assert mine
    assert mine[0]["outcome"] == "denied"
    assert mine[0]["user_agent"] == "it-test"
    assert mine[0]["client"] == "127.0.0.1"
