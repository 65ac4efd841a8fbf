"""A real, running Airflow for end-to-end and UI tests.

``airflow_servers`` (module scope) starts ``airflow api-server``, ``scheduler``, ``dag-processor``
and ``triggerer`` with the LocalExecutor, the metadata database on PostgreSQL (``airflow_home``),
this repo's DAGs, plugin and teams file (``config/teams.yaml``), the FAB auth manager with LDAP
logins against the session's real slapd (``ldap_server``: people admin, alice, bob, paula, carol,
nora, dave with passwords ``<name>-pw``; ``config/webserver_config.py``), the platform's roles made
by ``python -m operators.fab_roles`` before the dag-processor starts, and the platform database
on PostgreSQL. It yields an :class:`AirflowServers`: ``base_url``, ``token(user)``,
``client(user)`` (an ``httpx.Client`` with a Bearer token), and helpers to trigger and wait for
DAG runs. Module scope: the modules seed and count runs in a platform database of their own.

Each server's output goes to a log file in the module's temporary folder; the tails are printed
when the servers do not come up, and attached to the report of any failing test that used them
(see ``pytest_runtest_makereport`` in ``conftest.py``). Every server runs in its own process
group, which is killed at teardown, also after a failure.

Usage in another test module::

    def test_something(airflow_servers):
        client = airflow_servers.client("alice")
        assert client.get("/api/v2/dags").status_code == 200
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from nbreports.storage.database import PlatformDB
from tests.conftest import REPO, create_pg_database, drop_pg_database, free_port
from tests.integration.ldap_server import GROUPS, PEOPLE, LdapServer, password

VENV_BIN = REPO / ".venv" / "bin"
SERVERS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: user -> (directory groups, password): the people of ``tests/integration/ldap_server.py``
USERS: dict[str, tuple[str, str]] = {
    name: (",".join(g for g, members in GROUPS.items() if name in members), password(name)) for name in PEOPLE
}
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
FINAL_STATES = {"success", "failed"}
STARTUP_TIMEOUT = 120.0


class ServersError(AssertionError):
    """A server did not start, or a run did not reach a final state in time."""


@dataclass
class AirflowServers:
    base_url: str
    env: dict[str, str]
    folder: Path
    #: when set, the UI and REST API (``--apps core``) and the task execution API (``--apps execution``,
    #: at ``AIRFLOW__CORE__EXECUTION_API_SERVER_URL``) are separate api-servers, as a deployment that
    #: keeps the UI responsive under load runs them: workers' calls never queue behind a page
    execution_port: int | None = None
    #: niceness of the components that run reports (scheduler with its LocalExecutor workers, their
    #: tasks and kernels; dag-processor; triggerer): on a machine shared with the UI, the UI goes first
    workload_nice: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds, e.g. "healthy": start → health
    _tokens: dict[str, str] = field(default_factory=dict)

    # --- what tests use -------------------------------------------------------------------------

    @property
    def nbreports_home(self) -> Path:
        return Path(self.env["NBREPORTS_HOME"])

    @property
    def store_dir(self) -> Path:
        """The local store the tasks write to."""
        return Path(self.env.get("NBREPORTS_STORE_URL") or self.nbreports_home / "store")

    @property
    def platform_db_url(self) -> str:
        return self.env["AIRFLOW_CONN_NBREPORTS_DB"]

    def token(self, user: str = "admin", password: str | None = None) -> str:
        """A JWT from ``POST /auth/token`` (cached per user when the password is the configured one)."""
        if password is None and user in self._tokens:
            return self._tokens[user]
        pw = password if password is not None else USERS[user][1]
        resp = httpx.post(f"{self.base_url}/auth/token", json={"username": user, "password": pw}, timeout=30)
        if resp.status_code != 201:
            raise ServersError(f"POST /auth/token for {user!r}: HTTP {resp.status_code} {resp.text}")
        token = str(resp.json()["access_token"])
        if password is None:
            self._tokens[user] = token
        return token

    def client(self, user: str | None = "admin", **kwargs: Any) -> httpx.Client:
        """An HTTP client on the API server, authenticated as ``user`` (``None``: anonymous)."""
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, user: str = "admin") -> httpx.Response:
        """``POST /api/v2/dags/{dag_id}/dagRuns`` with ``{"logical_date": null, "conf": conf}``."""
        with self.client(user) as c:
            return c.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        with self.client() as c:
            resp = c.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        resp.raise_for_status()
        return dict(resp.json())

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        with self.client() as c:
            resp = c.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
        resp.raise_for_status()
        return {ti["task_id"]: ti["state"] for ti in resp.json()["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log as text (the structured log lines' ``event`` fields joined)."""
        with self.client() as c:
            resp = c.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/logs/{try_number}",
                headers={"Accept": "application/json"},
            )
        resp.raise_for_status()
        content = resp.json().get("content", [])
        if isinstance(content, str):
            return content
        lines = []
        for line in content:
            if not isinstance(line, dict):
                lines.append(str(line))
                continue
            lines.append(str(line.get("event", "")))
            for error in line.get("error_detail") or []:  # the exception a failed task raised
                lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
        return "\n".join(lines)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll the DAG run until it is ``success`` or ``failed``; its JSON."""
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.dag_run(dag_id, run_id)
            if run["state"] in FINAL_STATES:
                return run
            self.check_alive()
            time.sleep(0.5)
        raise ServersError(
            f"{dag_id} run {run_id} still {run.get('state')!r} after {timeout:.0f} s; "
            f"tasks: {self.task_states(dag_id, run_id)}"
        )

    def dag_runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        with self.client() as c:
            resp = c.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 50, **params})
        resp.raise_for_status()
        return list(resp.json()["dag_runs"])

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 90.0, unpause: bool = True) -> None:
        """Wait until the dag-processor has serialized every DAG in ``dag_ids``; unpause the paused ones.

        DAGs are unpaused at creation, but a DAG first recorded by an earlier ``dag.test()`` in the
        same metadata database keeps its paused flag, hence the explicit unpause.
        """
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while True:
                resp = c.get("/api/v2/dags", params={"limit": 100})
                resp.raise_for_status()
                dags = {d["dag_id"]: d for d in resp.json()["dags"]}
                if wanted <= dags.keys():
                    break
                if time.monotonic() > deadline:
                    errors = c.get("/api/v2/importErrors").text
                    raise ServersError(
                        f"DAGs {sorted(wanted - dags.keys())} not loaded after {timeout:.0f} s; "
                        f"import errors: {errors}\n{self.log_tails()}"
                    )
                self.check_alive()
                time.sleep(0.5)
            for dag_id in wanted:
                if unpause and dags[dag_id]["is_paused"]:
                    c.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def wait_until_idle(self, dag_ids: Iterable[str], timeout: float = 120.0) -> None:
        """Wait until the scheduler has created every run already due and none is queued or running.

        Unpausing a DAG with a schedule and ``catchup=False`` makes the scheduler run its most
        recent interval at once; tests that check "latest" pointers wait for those runs first.
        """
        deadline = time.monotonic() + timeout
        with self.client() as c:
            for dag_id in dag_ids:
                while True:
                    dag = c.get(f"/api/v2/dags/{dag_id}").json()
                    due = dag.get("next_dagrun_run_after")
                    pending = due is not None and _parse_ts(due) <= time.time() - 1
                    active = c.get(
                        f"/api/v2/dags/{dag_id}/dagRuns", params={"state": ["queued", "running"], "limit": 1}
                    ).json()["total_entries"]
                    if not pending and not active:
                        break
                    if time.monotonic() > deadline:
                        raise ServersError(f"{dag_id} not idle after {timeout:.0f} s (due {due}, active {active})")
                    self.check_alive()
                    time.sleep(0.5)

    def end_unfinished_runs(self) -> None:
        """Mark every queued or running DAG run failed, so the next module's servers (same metadata
        database) do not wait for runs whose worker is gone (Airflow would only time them out)."""
        with self.client() as c:
            resp = c.get("/api/v2/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 100})
            if resp.status_code != 200:
                return
            for run in resp.json()["dag_runs"]:
                path = f"/api/v2/dags/{run['dag_id']}/dagRuns/{quote(run['dag_run_id'], safe='')}"
                c.patch(path, json={"state": "failed"})

    # --- lifecycle ------------------------------------------------------------------------------

    def log_path(self, server: str) -> Path:
        return self.folder / f"{server}.log"

    def log_tails(self, chars: int = 6000) -> str:
        parts = []
        for server in self.servers:
            path = self.log_path(server)
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            proc = self.processes.get(server)
            status = (
                "not started" if proc is None else ("running" if proc.poll() is None else f"exited {proc.returncode}")
            )
            parts.append(f"===== airflow {server} ({status}), {path} =====\n{text[-chars:]}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        for server, proc in self.processes.items():
            if proc.poll() is not None:
                raise ServersError(f"airflow {server} exited with {proc.returncode}\n{self.log_tails()}")

    @property
    def servers(self) -> tuple[str, ...]:
        return SERVERS + (("execution-api",) if self.execution_port else ())

    def argv(self, server: str) -> list[str]:
        """The command line of one component (``execution-api``: the second api-server)."""
        airflow = str(VENV_BIN / "airflow")
        if server not in ("api-server", "execution-api"):
            nice = ["nice", "-n", str(self.workload_nice)] if self.workload_nice else []
            return [*nice, airflow, server]
        port = self.execution_port if server == "execution-api" else self.env["AIRFLOW__API__PORT"]
        apps = ["--apps", "execution" if server == "execution-api" else "core"] if self.execution_port else []
        return [airflow, "api-server", *apps, "--port", str(port), "--host", "127.0.0.1", "--workers", "1"]

    def start(self) -> None:
        for server in self.servers:
            args = self.argv(server)
            with self.log_path(server).open("wb") as log:
                self.processes[server] = subprocess.Popen(  # noqa: S603 - argv fixed by the test, no untrusted input
                    args,
                    env=self.env,
                    cwd=self.folder,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT) -> dict[str, Any]:
        """Wait for ``/api/v2/monitor/health`` to report the scheduler and dag-processor healthy."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                last = resp.text
                if resp.status_code == 200:
                    health = resp.json()
                    parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
                    if all((health.get(p) or {}).get("status") == "healthy" for p in parts) and self._execution_up():
                        return dict(health)
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise ServersError(f"Airflow not healthy after {timeout:.0f} s (last answer: {last})\n{self.log_tails()}")

    def _execution_up(self) -> bool:
        """The separate execution API answers (always true when the core api-server serves it too)."""
        if not self.execution_port:
            return True
        return httpx.get(f"http://127.0.0.1:{self.execution_port}/execution/health", timeout=5).status_code == 200

    def stop(self) -> None:
        """SIGTERM each server's process group, then SIGKILL what is left."""
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.processes.values():  # the group may outlive its leader (task runners, workers)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def _parse_ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def auth_env(ldap_server: LdapServer) -> dict[str, str]:
    """The FAB auth manager with LDAP logins against ``ldap_server`` (``config/webserver_config.py``)."""
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__FAB__CONFIG_FILE": str(REPO / "config" / "webserver_config.py"),
        "NBREPORTS_LDAP_URL": ldap_server.url,
        "NBREPORTS_LDAP_PEOPLE_DN": ldap_server.people_dn,
    }


def ensure_roles(env: dict[str, str]) -> None:
    """``python -m operators.fab_roles``: the base role and every role the teams file names."""
    subprocess.run(  # noqa: S603 - argv fixed by the test, no untrusted input
        [str(VENV_BIN / "python"), "-m", "operators.fab_roles"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )


def server_env(base_env: dict[str, str], folder: Path, port: int) -> dict[str, str]:
    """The servers' environment on top of ``airflow_home``'s and the auth's: API address, unpaused DAGs."""
    base_url = f"http://127.0.0.1:{port}"
    return {
        **base_env,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__SECRET_KEY": "nbreports-test-api-secret",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "8",  # LocalExecutor worker processes; the tests share 2 CPUs
        # the scheduler may start the first (catch-up) runs before the API server answers
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        # the log servers of the scheduler and triggerer, off the default ports other Airflows use
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }


@contextlib.contextmanager
def running_airflow(base_env: dict[str, str], folder: Path) -> Iterator[AirflowServers]:
    """Start the four servers with ``base_env``; stop them (process groups) on exit, whatever happens."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = AirflowServers(base_url=f"http://127.0.0.1:{port}", env=server_env(base_env, folder, port), folder=folder)
    try:
        started = time.monotonic()
        ensure_roles(servers.env)  # before the dag-processor syncs access_control into them
        servers.timings["roles"] = time.monotonic() - started
        servers.start()
        servers.wait_healthy()
        servers.timings["healthy"] = time.monotonic() - started
        yield servers
        servers.end_unfinished_runs()
    finally:
        servers.stop()


def servers_env(
    airflow_home: dict[str, str], ldap_server: LdapServer, folder: Path, notebooks: Path, platform_url: str
) -> dict[str, str]:
    """The servers' environment: Airflow's home, directory logins, the reports of ``notebooks``, a platform DB."""
    env = {
        **os.environ,
        **airflow_home,
        **auth_env(ldap_server),
        "NBREPORTS_NOTEBOOKS_DIR": str(notebooks),
        "NBREPORTS_HOME": str(folder / "nbr-home"),
        "AIRFLOW_CONN_NBREPORTS_DB": platform_url,
    }
    for name in ("NBREPORTS_STORE_URL", "NBREPORTS_STORE_OPTIONS", "NBREPORTS_STORE_CONN_ID", "NBREPORTS_DATABASE_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def airflow_servers(
    airflow_home: dict[str, str], ldap_server: LdapServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowServers]:
    """Real Airflow servers for one test module (see the module docstring), with a platform
    database of their own, so modules never see each other's runs; the notify connections
    ``nbreports_smtp``, ``nbreports_slack`` and ``nbreports_webhook`` (``airflow_home``'s) reach the
    session's sinks (``notify_sinks``), and the links in notifications start with ``NBREPORTS_BASE_URL``."""
    folder = tmp_path_factory.mktemp("servers")
    platform_url = create_pg_database("nbr_servers")
    # a copy of the examples: the plugin's write paths (upload, restore, access edits) change it
    notebooks = folder / "notebooks"
    shutil.copytree(REPO / "notebooks", notebooks)
    env = servers_env(airflow_home, ldap_server, folder, notebooks, platform_url)
    env["NBREPORTS_BASE_URL"] = "http://airflow.nbreports.test"
    # Deployments migrate the platform database before starting Airflow; the tasks would migrate
    # it on first use, but concurrent first uses race on an empty database.
    PlatformDB(platform_url).engine.dispose()
    try:
        with running_airflow(env, folder) as servers:
            yield servers
    finally:
        # Close the pooled connections of this process's (cached) engine before the database goes:
        # dropping the engine from the cache instead would leave them to the garbage collector
        # (psycopg's ResourceWarning "deleted while still open", an error in this suite).
        PlatformDB(platform_url).engine.dispose()
        drop_pg_database(platform_url)
