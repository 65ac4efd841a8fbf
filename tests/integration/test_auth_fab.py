"""Real logins and per-report permissions: the FAB auth manager, LDAP (a real slapd), the DAGs' access_control.

The people and groups are ``tests/integration/ldap_server.py``'s; who may do what to which report
comes from ``config/teams.yaml`` and the reports' ``access:`` (analytics owns sales_summary and
sales_digest and may execute data_quality; data-eng owns data_quality and may view
sales_summary; carol may view sales_summary by name; hr_headcount is the restricted people team's).
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.ldap_server import LdapServer, password
from tests.integration.servers import AirflowServers, ServersError

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

REPORTS = ("sales_summary", "sales_digest", "data_quality", "hr_headcount")


@pytest.fixture(scope="module")
def servers(airflow_servers: AirflowServers) -> AirflowServers:
    airflow_servers.wait_for_dags(REPORTS, unpause=False)
    return airflow_servers


def visible_dags(servers: AirflowServers, user: str) -> set[str]:
    with servers.client(user) as c:
        resp = c.get("/api/v2/dags", params={"limit": 100})
    assert resp.status_code == 200, resp.text
    return {d["dag_id"] for d in resp.json()["dags"]} & set(REPORTS)


def login(servers: AirflowServers, user: str, password: str) -> httpx.Response:
    return httpx.post(f"{servers.base_url}/auth/token", json={"username": user, "password": password}, timeout=30)


def test_a_directory_user_logs_in_with_the_directory_password(servers: AirflowServers) -> None:
    assert login(servers, "alice", "alice-pw").status_code == 201
    assert servers.token("alice")
    assert login(servers, "alice", "bob-pw").status_code == 401
    assert login(servers, "nobody", "nobody-pw").status_code == 401


def test_a_user_in_no_group_gets_no_access(servers: AirflowServers) -> None:
    with servers.client("nora") as c:
        assert c.get("/api/v2/dags").status_code == 403
        assert c.get("/api/v2/dags/sales_summary").status_code == 403
        assert c.post("/api/v2/dags/sales_summary/dagRuns", json={"logical_date": None}).status_code == 403


def test_a_user_removed_from_the_directory_can_no_longer_log_in(
    servers: AirflowServers, ldap_server: LdapServer, request: pytest.FixtureRequest
) -> None:
    assert visible_dags(servers, "dave") == {"sales_summary", "sales_digest", "data_quality"}  # analytics
    ldap_server.remove_user("dave")
    request.addfinalizer(lambda: ldap_server.add_user("dave", ["analytics"]))  # for the modules that follow
    assert login(servers, "dave", "dave-pw").status_code == 401
    with pytest.raises(ServersError):
        servers.token("dave", password("dave"))


def test_each_user_sees_the_reports_the_policy_lets_them_view(servers: AirflowServers) -> None:
    assert visible_dags(servers, "alice") == {"sales_summary", "sales_digest", "data_quality"}
    assert visible_dags(servers, "bob") == {"sales_summary", "data_quality"}
    assert visible_dags(servers, "carol") == {"sales_summary"}  # her personal role nbr-user-carol
    assert visible_dags(servers, "paula") == {"hr_headcount"}
    assert visible_dags(servers, "admin") == set(REPORTS)
    with servers.client("alice") as c:
        assert c.get("/api/v2/dags/hr_headcount").status_code == 403
        assert c.get("/api/v2/dags/sales_summary/dagRuns").status_code == 200


def test_execute_is_granted_per_report(servers: AirflowServers) -> None:
    resp = servers.trigger("sales_summary", {"region": "EU"}, user="alice")
    assert resp.status_code == 200, resp.text
    assert resp.json()["dag_id"] == "sales_summary"
    assert servers.trigger("hr_headcount", user="alice").status_code == 403  # the restricted team's
    assert servers.trigger("sales_summary", user="bob").status_code == 403  # data-eng may only view it
    assert servers.trigger("sales_summary", user="carol").status_code == 403
    with servers.client("admin") as c:  # the run does not need to happen: stop it
        run_id = resp.json()["dag_run_id"]
        c.patch(f"/api/v2/dags/sales_summary/dagRuns/{run_id}", json={"state": "failed"})
