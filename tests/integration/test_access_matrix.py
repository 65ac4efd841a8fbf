"""Every person by every example report by every endpoint, against a real api-server on FAB + LDAP.

The expected answer of each request is computed from the policy (``config/teams.yaml``, the
reports' ``access:``, and the directory's groups mapped to roles), never written by hand; each
request is really sent. People: the admin, each team's member, a cross-team viewer named in a
grant (carol), a directory user in no group (nora), a user removed from the directory (dave: he
can no longer log in, so he is anonymous) and no login at all. Endpoints: Airflow's REST API (DAG
list and details, source, runs, trigger with ``conf``, task instances, logs, XComs, asset events)
and every route of the nbreports plugin — its OpenAPI document must list no route this table
lacks; the search (any logged-in person) is asked per report, like the lists, and must find a
report's cells only for those who may view it. Write requests carry bodies that the route refuses
*after* the permission check (an unknown team, a notebook that is not one, a version that does not
exist), so the matrix changes nothing and still tells allowed (400/404/422) from denied (403).

The check can fail: the same answers compared with a deliberately wrong policy give violations.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import ldap
import pytest

from nbreports.access.policy import Action, Principal, actions_for
from nbreports.access.rules import ReportRules
from nbreports.access.teams import load_teams, user_role
from nbreports.reports.catalog import load_reports
from tests.conftest import REPO
from tests.integration.ldap_server import GROUPS, GROUPS_DN, LdapServer
from tests.integration.servers import AirflowServers

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

TEAMS = load_teams(REPO / "config" / "teams.yaml")
RULES: dict[str, ReportRules] = {r.name: r.rules for r in load_reports(REPO / "notebooks")[0]}
REPORTS = sorted(RULES)
ADMIN_ONLY = "admin"  # what FAB checks globally, not per DAG (asset events): the policy keeps it for admins
PEOPLE = ("admin", "alice", "bob", "paula", "carol", "nora", "dave", None)  # None: no token at all
REMOVED = "dave"


def directory_principal(name: str) -> Principal:
    """What the directory and the teams file make of a person: mapped group roles + their personal role."""
    mapping = TEAMS.ldap_role_mapping()
    roles = {
        role
        for group, members in GROUPS.items()
        if name in members
        for role in mapping.get(f"cn={group},{GROUPS_DN}", [])
    }
    if name in TEAMS.users:
        roles.add(user_role(name))
    return Principal.of(name, roles)


@dataclass(frozen=True)
class Endpoint:
    """One request per report: what it needs, and which answers mean "allowed"."""

    name: str
    method: str
    path: str  # placeholders: {report} {dag_run_id} {run_id} {version}
    needs: Action | str
    allowed: frozenset[int] = frozenset({200})
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None


_RUN = "/api/v2/dags/{report}/dagRuns/{dag_run_id}"
AIRFLOW = [
    Endpoint("airflow dag", "GET", "/api/v2/dags/{report}", Action.VIEW),
    Endpoint("airflow dag details", "GET", "/api/v2/dags/{report}/details", Action.VIEW),
    Endpoint("airflow dag source", "GET", "/api/v2/dagSources/{report}", Action.VIEW),
    Endpoint("airflow dag runs", "GET", "/api/v2/dags/{report}/dagRuns", Action.VIEW),
    Endpoint("airflow dag run", "GET", _RUN, Action.VIEW),
    Endpoint("airflow task instances", "GET", f"{_RUN}/taskInstances", Action.VIEW),
    Endpoint("airflow task log", "GET", f"{_RUN}/taskInstances/publish/logs/1", Action.VIEW),
    Endpoint("airflow xcom", "GET", f"{_RUN}/taskInstances/publish/xcomEntries", Action.VIEW),
    # a logical date that is not one: refused by validation after the permission check (no run starts)
    Endpoint(
        "airflow trigger",
        "POST",
        "/api/v2/dags/{report}/dagRuns",
        Action.EXECUTE,
        frozenset({422}),
        body={"logical_date": "not-a-date", "conf": {"region": "EU"}},
    ),
    Endpoint("airflow asset events", "GET", "/api/v2/assets/events", ADMIN_ONLY, params={"source_dag_id": "{report}"}),
]

_P = "/nbreports/api/reports/{report}"
PLUGIN = [
    Endpoint("report", "GET", _P, Action.VIEW),
    Endpoint("history", "GET", f"{_P}/runs", Action.VIEW),
    Endpoint("run", "GET", f"{_P}/runs/{{run_id}}", Action.VIEW),
    Endpoint("run of dag run", "GET", f"{_P}/dag-runs/{{dag_run_id}}", Action.VIEW),
    Endpoint("output notebook", "GET", f"{_P}/runs/{{run_id}}/output.ipynb", Action.VIEW),
    Endpoint("report html", "GET", "/nbreports/content/reports/{report}/runs/{run_id}/report.html", Action.VIEW),
    Endpoint("audit log", "GET", f"{_P}/audit", Action.VIEW),
    Endpoint("global audit log", "GET", "/nbreports/api/audit", ADMIN_ONLY, params={"report": "{report}"}),
    # writes with bodies refused after the permission check: nothing changes, allowed != denied
    Endpoint(
        "upload notebook",
        "POST",
        f"{_P}/notebook",
        Action.CHANGE,
        frozenset({400}),
        body={"content": "not a notebook", "filename": "x.ipynb"},
    ),
    Endpoint("restore version", "POST", f"{_P}/versions/0123456789abcdef/restore", Action.CHANGE, frozenset({404})),
    Endpoint("edit access", "PUT", f"{_P}/access", Action.CHANGE, frozenset({400}), body={"view": {"teams": ["nope"]}}),
    Endpoint("subscription", "GET", f"{_P}/subscription", Action.VIEW),
    Endpoint("subscribe", "PUT", f"{_P}/subscription", Action.VIEW, frozenset({400}), body={"email": "no address"}),
    Endpoint("unsubscribe", "DELETE", f"{_P}/subscription", Action.VIEW),
    Endpoint("compare runs", "GET", f"{_P}/compare", Action.VIEW, params={"base": "{run_id}", "other": "{run_id}"}),
    Endpoint("versions", "GET", f"{_P}/versions", Action.VIEW),
    Endpoint("version", "GET", f"{_P}/versions/{{version}}", Action.VIEW),
    Endpoint(
        "compare versions",
        "GET",
        f"{_P}/versions/compare",
        Action.VIEW,
        params={"base": "{version}", "other": "{version}"},
    ),
    Endpoint("report page", "GET", "/nbreports/reports/{report}", Action.VIEW),
    Endpoint("run page", "GET", "/nbreports/reports/{report}/runs/{run_id}", Action.VIEW),
    Endpoint("dag run page", "GET", "/nbreports/reports/{report}/dag-runs/{dag_run_id}", Action.VIEW),
    Endpoint(
        "compare page",
        "GET",
        "/nbreports/reports/{report}/compare",
        Action.VIEW,
        params={"base": "{run_id}", "other": "{run_id}"},
    ),
    Endpoint(
        "versions page",
        "GET",
        "/nbreports/reports/{report}/versions/compare",
        Action.VIEW,
        params={"base": "{version}", "other": "{version}"},
    ),
    Endpoint("version page", "GET", "/nbreports/reports/{report}/versions/{version}", Action.VIEW),
]
LISTS = 3  # per person and report: Airflow's DAG list, the plugin's catalog, its search
ENDPOINTS = AIRFLOW + PLUGIN


@dataclass
class Seeded:
    dag_run_id: dict[str, str]
    run_id: dict[str, str]
    version: dict[str, str]


@pytest.fixture(scope="module")
def seeded(airflow_servers: AirflowServers, ldap_server: LdapServer) -> Iterator[Seeded]:
    """One finished Airflow run (so one nbreports run) of every example report, made by the admin;
    dave removed from the directory meanwhile (and put back after, for the modules that follow)."""
    airflow_servers.wait_for_dags(REPORTS)
    airflow_servers.wait_until_idle(REPORTS, timeout=300)  # the schedules' first runs
    dag_runs = {}
    for report in REPORTS:
        if report != "sales_digest":  # sales_digest follows sales_summary's Asset
            resp = airflow_servers.trigger(report)
            assert resp.status_code == 200, resp.text
            dag_runs[report] = resp.json()["dag_run_id"]
    for report, dag_run_id in dag_runs.items():
        airflow_servers.wait_for_run(report, dag_run_id, timeout=300)
    airflow_servers.wait_until_idle(REPORTS, timeout=300)
    run_ids, versions = {}, {}
    with airflow_servers.client("admin") as admin:
        for report in REPORTS:
            dag_runs.setdefault(report, airflow_servers.dag_runs(report)[0]["dag_run_id"])
            history = admin.get(f"/nbreports/api/reports/{report}/runs").json()
            run_ids[report] = history["items"][0]["run_id"]
            versions[report] = history["items"][0]["notebook_version"]
    groups = [g for g, members in GROUPS.items() if REMOVED in members]
    with contextlib.suppress(ldap.NO_SUCH_OBJECT):  # another module may have removed him already
        ldap_server.remove_user(REMOVED)
    yield Seeded(dag_runs, run_ids, versions)
    with contextlib.suppress(ldap.ALREADY_EXISTS):
        ldap_server.add_user(REMOVED, groups)


def _fill(text: str, report: str, seeded: Seeded) -> str:
    return text.format(
        report=report,
        dag_run_id=quote(seeded.dag_run_id[report], safe=""),
        run_id=seeded.run_id[report],
        version=seeded.version[report],
    )


def expected_allowed(who: str | None, report: str, needs: Action | str, rules: dict[str, ReportRules]) -> bool:
    """What the policy says: may this person (None: nobody logged in) do what the endpoint needs?"""
    if who is None or who == REMOVED:
        return False
    principal = directory_principal(who)
    if needs == ADMIN_ONLY:
        return not principal.roles.isdisjoint(TEAMS.admin_roles)
    return Action(needs) in actions_for(principal, rules[report])


@dataclass(frozen=True)
class Answer:
    who: str | None
    report: str
    endpoint: Endpoint
    status: int
    in_dag_list: bool | None = None  # for the DAG list and the plugin's catalog


def _clients(servers: AirflowServers) -> dict[str | None, httpx.Client]:
    clients: dict[str | None, httpx.Client] = {}
    for who in PEOPLE:
        if who is None or who == REMOVED:
            clients[who] = servers.client(None)
        else:
            clients[who] = servers.client(who)
    return clients


SEARCH = Endpoint("search", "GET", "/nbreports/api/search", Action.VIEW)
SEARCH_QUERY = "report:{report} kind:code"  # filters alone: every cell of the report's versions


def _search(client: httpx.Client, who: str | None, report: str) -> Answer:
    """The report's notebook cells searched for (every run saved its version): found only by those who may view it."""
    resp = client.get(SEARCH.path, params={"q": SEARCH_QUERY.format(report=report), "per_page": 100})
    hits: dict[str, Any] = resp.json() if resp.status_code == 200 else {"total": 0, "hits": []}
    assert {h["report"] for h in hits["hits"]} <= {report}, hits
    assert (hits["total"] > 0) == bool(hits["hits"]), hits  # counted iff shown
    return Answer(who, report, SEARCH, resp.status_code, hits["total"] > 0)


@pytest.fixture(scope="module")
def answers(airflow_servers: AirflowServers, seeded: Seeded) -> list[Answer]:
    """Every (person, report, endpoint) request, really sent."""
    found: list[Answer] = []
    clients = _clients(airflow_servers)
    try:
        for who, client in clients.items():
            dag_list = client.get("/api/v2/dags", params={"limit": 100})
            catalog = client.get("/nbreports/api/reports", params={"limit": 200})
            listed = {d["dag_id"] for d in dag_list.json()["dags"]} if dag_list.status_code == 200 else set()
            shown = {r["name"] for r in catalog.json()["reports"]} if catalog.status_code == 200 else set()
            for report, endpoint in itertools.product(REPORTS, ENDPOINTS):
                params = {k: _fill(v, report, seeded) for k, v in (endpoint.params or {}).items()}
                resp = client.request(
                    endpoint.method, _fill(endpoint.path, report, seeded), params=params, json=endpoint.body
                )
                found.append(Answer(who, report, endpoint, resp.status_code))
            for report in REPORTS:
                found.append(
                    Answer(
                        who,
                        report,
                        Endpoint("airflow dag list", "GET", "/api/v2/dags", Action.VIEW),
                        dag_list.status_code,
                        report in listed,
                    )
                )
                found.append(
                    Answer(
                        who,
                        report,
                        Endpoint("catalog", "GET", "/nbreports/api/reports", Action.VIEW),
                        catalog.status_code,
                        report in shown,
                    )
                )
                found.append(_search(client, who, report))
    finally:
        for client in clients.values():
            client.close()
    return found


def violations(found: list[Answer], rules: dict[str, ReportRules]) -> list[str]:
    """The answers the policy ``rules`` did not predict."""
    wrong = []
    for a in found:
        allowed = expected_allowed(a.who, a.report, a.endpoint.needs, rules)
        if a.in_dag_list is not None:  # a list: visible iff allowed; the list itself answers anyone logged in
            anonymous = a.who is None or a.who == REMOVED
            ok = (a.status == 401) if anonymous else (a.in_dag_list == allowed and a.status in (200, 403))
        elif a.who is None or a.who == REMOVED:
            ok = a.status == 401
        else:
            ok = (a.status in a.endpoint.allowed) if allowed else (a.status == 403)
        if not ok:
            verdict = "allowed" if allowed else "denied"
            who = a.who or "(no login)"
            wrong.append(f"{who} {a.endpoint.method} {a.endpoint.name} [{a.report}]: {a.status}, policy: {verdict}")
    return wrong


def test_every_request_gets_the_answer_the_policy_gives(answers: list[Answer]) -> None:
    wrong = violations(answers, RULES)
    cases = {(a.who, a.report, a.endpoint.name) for a in answers}
    granted = sum(expected_allowed(a.who, a.report, a.endpoint.needs, RULES) for a in answers)
    print(
        f"\naccess matrix: {len(cases)} (user, report, endpoint) cases checked "
        f"({granted} allowed, {len(cases) - granted} denied), {len(wrong)} violations"
    )
    assert not wrong, "\n".join(wrong[:40])
    assert len(cases) == len(PEOPLE) * len(REPORTS) * (len(ENDPOINTS) + LISTS)


def test_the_matrix_fails_for_a_wrong_policy(answers: list[Answer]) -> None:
    """Give data-eng change on sales_summary and carol nothing: the same answers must now be violations."""
    import dataclasses

    summary = RULES["sales_summary"]
    wrong_rules = dict(RULES)
    wrong_rules["sales_summary"] = dataclasses.replace(
        summary, member_roles=summary.member_roles | {"DataEng"}, view_users=frozenset()
    )
    found = violations(answers, wrong_rules)
    assert any(v.startswith("bob ") for v in found)
    assert any(v.startswith("carol ") for v in found)


def test_every_plugin_route_is_in_the_matrix(airflow_servers: AirflowServers) -> None:
    with airflow_servers.client("admin") as admin:
        spec = admin.get("/nbreports/api/openapi.json").json()
    known = {(e.method, e.path.removeprefix("/nbreports")) for e in PLUGIN}
    known |= {("POST", "/api/reports/{report}/versions/{version}/restore")}  # the matrix names one version
    known |= {(SEARCH.method, SEARCH.path.removeprefix("/nbreports"))}  # asked per report, as a list
    listed = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    per_report = {(m, p) for m, p in listed if "{report}" in p or p == "/api/search"}
    assert per_report <= known, f"routes missing from the matrix: {sorted(per_report - known)}"
