"""Benchmark load: N runs (200; quick 6) of a tiny report triggered together through the REST API.

Real Airflow started by the e2e tests' launcher (``tests/integration/servers.py``): api-server,
scheduler, dag-processor, triggerer; LocalExecutor with ``parallelism`` and the per-DAG limits at
Airflow's defaults; FAB logins against a real slapd; metadata and platform DBs on PostgreSQL; a local
store. The report ``load_tiny`` (own folder, one cell gluing ``2 * n``, no cache) is triggered N times
by a thread pool as the admin (JWT from ``/auth/token``). Meanwhile the history API and page are asked
every 0.5 s, open loop. Then what landed is checked: DAG runs, platform records (one per DAG run, the
right value), each run's files, ``latest.json``. Lost runs are counted, not asserted (``make bench``
measures; the tests assert); on a problem the logs are copied to ``.bench/load-logs/``.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.harness import RESULTS_DIR, VENV_BIN, BenchResult, Goal, Mode, loadavg, progress, table
from bench.workspace import Workspace

REPORT = "load_tiny"
GOAL_MS = 200.0
POLL_S, IDLE_S = 0.5, 5.0
STALL_S = 600.0  # no DAG run ended for this long: stuck
RUN_FILES = ("output.ipynb", "report.html", "run.json")
FULL_RUNS, QUICK_RUNS = 200, 6
UNCHECKED = {
    "dag_run_states": {},
    "record_statuses": {},
    "records": 0,
    "complete_runs": 0,
    "latest_ok": None,
    "all_ok": False,
}
#: the deployment measured: the UI's api-server apart from the task execution API's, and the report
#: workload (scheduler, its workers, tasks and kernels) at this niceness (see ``AirflowServers``)
WORKLOAD_NICE = 10
DEPLOYMENT = f"api-server --apps core (UI, REST) + api-server --apps execution; workload at nice {WORKLOAD_NICE}"
LIMITS = ("parallelism", "max_active_runs_per_dag", "max_active_tasks_per_dag")


def write_report(notebooks: Path) -> Path:
    from tests.helpers import make_report

    spec = {"title": "Load test", "description": "One glued value.", "owner": "bench"}
    return make_report(
        notebooks, REPORT, "n: int = 1  # Which run", "import scrapbook as sb\nsb.glue('value', 2 * n)", spec=spec
    )


def _run(env: dict[str, str], *argv: str) -> str:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-3000:]}")
    return proc.stdout


def airflow_limits(env: dict[str, str]) -> dict[str, int]:
    code = f"from airflow.configuration import conf\nfor k in {LIMITS}: print(k, conf.getint('core', k))"
    out = _run(env, str(VENV_BIN / "python"), "-c", code)
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


@contextlib.contextmanager
def servers_on_postgres(ws: Workspace, root: Path, notebooks: Path) -> Iterator[Any]:
    """The e2e tests' servers with Airflow's default ``parallelism``, the execution API apart, the workload niced."""
    from nbreports.storage.database import PlatformDB
    from tests.conftest import REPO, create_pg_database, drop_pg_database, free_port
    from tests.integration.ldap_server import running_slapd
    from tests.integration.servers import AirflowServers, auth_env, ensure_roles, server_env

    meta_url, platform_url = create_pg_database("nbr_load_meta"), create_pg_database("nbr_load_platform")
    try:
        with running_slapd(root / "slapd") as ldap:
            env = ws.env(
                AIRFLOW_HOME=str(root / "airflow"),
                AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta_url.replace("postgresql://", "postgresql+psycopg2://"),
                AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
                AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
                AIRFLOW__CORE__LOAD_EXAMPLES="False",
                AIRFLOW__CORE__EXECUTOR="LocalExecutor",
                AIRFLOW__API_AUTH__JWT_SECRET="nbreports-bench-jwt-secret-" + "x" * 48,
                NBREPORTS_NOTEBOOKS_DIR=str(notebooks),
                NBREPORTS_TEAMS_FILE=str(REPO / "config" / "teams.yaml"),
                NBREPORTS_HOME=str(root / "nbr-home"),
                AIRFLOW_CONN_NBREPORTS_DB=platform_url,
                **auth_env(ldap),
            )
            progress("load: airflow db migrate (PostgreSQL), platform DB migrated")
            _run(env, str(VENV_BIN / "airflow"), "db", "migrate")
            PlatformDB(platform_url).engine.dispose()
            port, folder = free_port(), root / "servers"
            env = server_env(env, folder, port)
            del env["AIRFLOW__CORE__PARALLELISM"]  # the tests lower it; this benchmark keeps the default
            execution_port = free_port()
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{execution_port}/execution/"
            folder.mkdir(parents=True, exist_ok=True)
            servers = AirflowServers(
                base_url=f"http://127.0.0.1:{port}",
                env=env,
                folder=folder,
                execution_port=execution_port,
                workload_nice=WORKLOAD_NICE,
            )
            try:
                ensure_roles(env)
                servers.start()
                servers.wait_healthy()
                yield servers
            finally:
                servers.stop()
    finally:
        PlatformDB(platform_url).engine.dispose()
        drop_pg_database(platform_url)
        drop_pg_database(meta_url)


class Poller:
    """A thread asking the history API and the history page every ``POLL_S``; latencies by phase."""

    PATHS = {"api": f"/nbreports/api/reports/{REPORT}/runs", "page": f"/nbreports/reports/{REPORT}"}

    def __init__(self, client: httpx.Client) -> None:
        self.client, self.phase, self._stop = client, "idle", threading.Event()
        self.samples: list[dict[str, Any]] = []  # {"phase", "what": api|page|load, "ms", "status", "at"}
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        """Open loop: a probe is sent every tick even while earlier ones hang, and its latency counts
        from when it was due (so a stalled server yields many slow samples, not one)."""
        with ThreadPoolExecutor(max_workers=32) as pool:
            due = time.perf_counter()
            while not self._stop.is_set():
                for what, path in self.PATHS.items():
                    pool.submit(self._probe, self.phase, what, path, due)
                self.samples.append({"phase": self.phase, "what": "load", "ms": loadavg()[0], "status": "-", "at": due})
                due += POLL_S
                self._stop.wait(max(0.0, due - time.perf_counter()))

    def _probe(self, phase: str, what: str, path: str, due: float) -> None:
        sample: dict[str, Any] = {"phase": phase, "what": what, "at": due}
        try:
            resp = self.client.get(path)
            sample["status"] = str(resp.status_code)
            if what == "api" and resp.status_code == 200:
                sample["total"] = resp.json().get("total")
        except httpx.HTTPError as exc:
            sample["status"] = type(exc).__name__
        self.samples.append({**sample, "ms": round((time.perf_counter() - due) * 1000, 2)})


def percentiles(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p95 / max of the rows' ``ms``, their count, and how many were not HTTP 200."""
    ms = sorted(s["ms"] for s in rows)
    if len(ms) < 2:
        return {"n": len(ms)}
    q = statistics.quantiles(ms, n=100, method="inclusive")
    errors = sum(1 for s in rows if str(s["status"]) != "200")
    return {"n": len(ms), "p50": round(q[49], 1), "p95": round(q[94], 1), "max": round(ms[-1], 1), "errors": errors}


def trigger_all(servers: Any, count: int, at_once: int) -> list[dict[str, Any]]:
    """``count`` POSTs of a DAG run released together, ``at_once`` in flight (one thread each): distinct
    run ids, dates and ``n``."""
    base, go = datetime(2024, 6, 1, tzinfo=UTC), threading.Event()
    headers = {"Authorization": f"Bearer {servers.token('admin')}"}  # the admin's JWT from /auth/token

    def post(i: int) -> dict[str, Any]:
        body = {"dag_run_id": f"load_{i:04d}", "logical_date": (base + timedelta(minutes=i)).isoformat()}
        go.wait()
        start, sample = time.perf_counter(), {"run_id": body["dag_run_id"], "n": i}
        try:
            resp = client.post(f"/api/v2/dags/{REPORT}/dagRuns", json={**body, "conf": {"n": i}})
            sample.update(status=resp.status_code, detail="" if resp.status_code == 200 else resp.text[:300])
        except httpx.HTTPError as exc:
            sample.update(status=0, detail=f"{type(exc).__name__}: {exc}")
        return {**sample, "ms": round((time.perf_counter() - start) * 1000, 1)}

    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    with (
        httpx.Client(base_url=servers.base_url, headers=headers, timeout=300, limits=limits) as client,
        ThreadPoolExecutor(max_workers=at_once) as pool,
    ):
        futures = [pool.submit(post, i) for i in range(count)]
        go.set()
        return [f.result() for f in futures]


def wait_finished(servers: Any, count: int, timeout: float) -> tuple[dict[str, int], str]:
    """Poll the DAG runs' states until ``count`` have ended; the counts, and why it stopped early."""
    deadline, changed, last, counts = time.monotonic() + timeout, time.monotonic(), -1, {}
    with servers.client() as c:
        while True:
            try:
                for state in ("queued", "running", "success", "failed"):
                    params = {"state": [state], "limit": 1}
                    counts[state] = c.get(f"/api/v2/dags/{REPORT}/dagRuns", params=params).json()["total_entries"]
                servers.check_alive()
            except httpx.HTTPError as exc:
                progress(f"load: polling the DAG runs: {type(exc).__name__}: {exc}")
            except AssertionError as exc:  # ServersError: a server exited
                return counts, str(exc)[:2000]
            done = counts.get("success", 0) + counts.get("failed", 0)
            if done != last:
                changed, last = time.monotonic(), done
                progress(f"load: DAG runs {counts}  load average {loadavg()[0]:.1f}")
            if done >= count:
                return counts, ""
            if time.monotonic() - changed > STALL_S:
                return counts, f"stuck: no DAG run ended for {STALL_S:.0f} s"
            if time.monotonic() > deadline:
                return counts, f"timeout after {timeout:.0f} s"
            time.sleep(3)


def cpu_now(pids: list[int]) -> tuple[float, float]:
    """CPU seconds so far of the servers' trees (live processes and what they reaped), and of the machine."""
    ours = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                    t = proc.cpu_times()
                    ours += t.user + t.system + t.children_user + t.children_system
    t = psutil.cpu_times()
    return ours, float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def verify(servers: Any, triggered: list[dict[str, Any]]) -> dict[str, Any]:
    """What landed: DAG run states, the platform records, the run folders, ``latest.json``."""
    from nbreports.browse.runs import recent_runs
    from nbreports.storage.store import Store
    from tests.integration.plugin_data import platform_for

    wanted = {t["run_id"]: t["n"] for t in triggered if t["status"] == 200}
    dag_runs: list[dict[str, Any]] = []
    with servers.client() as c:
        while batch := c.get(f"/api/v2/dags/{REPORT}/dagRuns", params={"limit": 100, "offset": len(dag_runs)}).json()[
            "dag_runs"
        ]:
            dag_runs.extend(batch)
    bad = [r["dag_run_id"] for r in dag_runs if r["state"] != "success"]
    platform = platform_for(servers)
    records = recent_runs(platform.db, REPORT, limit=10 * len(triggered) + 10)
    good = {
        r["dag_run_id"]
        for r in records
        if r["status"] == "success"
        and (r.get("scraps") or {}).get("value") == 2 * wanted.get(r["dag_run_id"], -1)
        and all(platform.store.exists(Store.run_key(REPORT, r["run_id"], name)) for name in RUN_FILES)
    }
    statuses, key = Counter(r["status"] for r in records), Store.latest_key(REPORT)
    latest = platform.store.read_json(key)["run_id"] if platform.store.exists(key) else None
    return dict(
        dag_runs=len(dag_runs),
        dag_run_states=dict(Counter(r["state"] for r in dag_runs)),
        not_success=bad[:20],
        task_states_of_first_bad=servers.task_states(REPORT, bad[0]) if bad else {},
        records=len(records),
        record_statuses=dict(statuses),
        duplicated=sorted(k for k, v in Counter(r["dag_run_id"] for r in records).items() if v > 1)[:20],
        complete_runs=len(good),
        lost=len(triggered) - len(good),
        latest_ok=latest in {r["run_id"] for r in records if r["status"] == "success"},
        all_ok=len(good) == len(triggered) == len(records) == len(dag_runs) and not bad,
    )


def keep_logs(root: Path) -> Path:
    dest = RESULTS_DIR / "load-logs" / time.strftime("%Y%m%d-%H%M%S")
    shutil.copytree(root / "servers", dest / "servers")
    if (root / "airflow" / "logs").exists():
        shutil.copytree(root / "airflow" / "logs", dest / "task-logs")
    return dest


def run(ws: Workspace, mode: Mode, count: int | None = None, at_once: int | None = None) -> BenchResult:
    """``at_once``: POSTs in flight together (default: all ``count``)."""
    count = count or (QUICK_RUNS if mode.quick else FULL_RUNS)
    at_once = min(at_once or count, count)
    root = ws.root / "load"
    write_report(root / "notebooks")
    data: dict[str, Any] = {"runs": count, "at_once": at_once, "report": REPORT}
    progress(f"load: starting slapd, PostgreSQL databases and Airflow for {count} runs of {REPORT}")
    with servers_on_postgres(ws, root, root / "notebooks") as servers:
        data["airflow_limits"] = airflow_limits(servers.env)
        servers.wait_for_dags([REPORT], timeout=180)
        pids = [p.pid for p in servers.processes.values()]
        with servers.client() as client, Poller(client) as poller:
            time.sleep(IDLE_S)
            (cpu0, busy0), data["load_before"] = cpu_now(pids), loadavg()
            poller.phase, start = "running", time.perf_counter()
            progress(f"load: {count} POST /api/v2/dags/{REPORT}/dagRuns, {at_once} at once")
            triggered = trigger_all(servers, count, at_once)
            posted = sum(1 for t in triggered if t["status"] == 200)
            progress(f"load: {posted}/{count} accepted in {time.perf_counter() - start:.1f} s")
            data["final_counts"], data["stopped"] = wait_finished(servers, posted, max(1800.0, 20.0 * count))
            data["wall_s"], (cpu1, busy1) = round(time.perf_counter() - start, 1), cpu_now(pids)
            poller.phase = "after"
        try:
            data["check"] = verify(servers, triggered)
        except Exception as exc:  # e.g. PostgreSQL gone: the latencies measured still count
            data["check"] = {**UNCHECKED, "lost": count, "error": f"{type(exc).__name__}: {exc}"[:2000]}
            progress(f"load: the outcome could not be checked: {data['check']['error']}")
        summarise(data, poller.samples, triggered, start, (cpu1 - cpu0, busy1 - busy0))
        if data["stopped"] or not data["check"]["all_ok"]:
            data["logs"] = str(keep_logs(root))
            progress(f"load: problems ({data['stopped'] or 'checks'}); logs kept in {data['logs']}")
    return result(data)


def summarise(
    data: dict[str, Any],
    samples: list[dict[str, Any]],
    posts: list[dict[str, Any]],
    start: float,
    cpu: tuple[float, float],
) -> None:
    """The figures of the samples, the POSTs and the CPU time (servers' trees, whole machine) into ``data``."""
    data["post_ms"], data["post_failures"] = percentiles(posts), [t for t in posts if t["status"] != 200][:10]
    loads = [s["ms"] for s in samples if s["what"] == "load" and s["phase"] == "running"]
    data["loadavg_running"] = {"mean": round(statistics.fmean(loads), 2), "max": max(loads)} if loads else {}
    data["cpu_s"] = {
        "servers_trees": round(cpu[0], 1),
        "machine_busy": round(cpu[1], 1),
        "others": round(cpu[1] - cpu[0], 1),
    }
    for what in ("api", "page"):
        data[f"{what}_ms"] = {
            p: percentiles([s for s in samples if s["phase"] == p and s["what"] == what])
            for p in ("idle", "running", "after")
        }
    probes = [s for s in samples if s["what"] != "load"]
    data["over_1s"] = sum(1 for s in probes if s["ms"] > 1000)
    data["slowest"] = [{**s, "at": round(s["at"] - start, 1)} for s in sorted(probes, key=lambda s: -s["ms"])[:5]]
    data["history_total_max"] = max((s.get("total") or 0 for s in samples), default=0)


def _slowest(data: dict[str, Any]) -> str:
    return ", ".join(f"{s['ms'] / 1000:.1f} s at {s['at']:.0f}" for s in data["slowest"][:3])


def fmt(s: dict[str, Any]) -> str:
    if "p95" not in s:
        return f"n={s['n']}"
    return f"{s['p50']:.0f} / {s['p95']:.0f} / {s['max']:.0f} ms (n={s['n']}, errors {s['errors']})"


def result(data: dict[str, Any]) -> BenchResult:
    """The table and the goals of one load run."""
    check, count, wall, cpu = data["check"], data["runs"], data["wall_s"], data["cpu_s"]
    api, page, load = data["api_ms"]["running"], data["page_ms"]["running"], data["loadavg_running"]
    met = {w: s.get("p95", GOAL_MS) < GOAL_MS and s.get("errors") == 0 for w, s in (("api", api), ("page", page))}
    verdict = {w: "met" if m else "not met" for w, m in met.items()}
    rows = [
        ("runs triggered (POSTs in flight)", f"{count} ({data['at_once']}); POST {fmt(data['post_ms'])}"),
        ("deployment", DEPLOYMENT),
        ("Airflow limits (defaults)", ", ".join(f"{k} {v}" for k, v in data["airflow_limits"].items())),
        ("wall time (first POST -> last DAG run ended)", f"{wall:.0f} s {data['stopped']}".strip()),
        ("runs/minute", f"{60 * check['complete_runs'] / wall:.1f}"),
        ("history API while running p50/p95/max", fmt(api)),
        ("history page while running p50/p95/max", fmt(page)),
        ("history API idle (before) p50/p95/max", fmt(data["api_ms"]["idle"])),
        ("history samples over 1 s (longest)", f"{data['over_1s']} ({_slowest(data)} s after the 1st POST)"),
        (f"goal p95 < {GOAL_MS:.0f} ms (API, page)", f"{verdict['api']}, {verdict['page']}"),
        ("DAG runs by state", str(check["dag_run_states"])),
        ("platform DB runs by status", f"{check['record_statuses']} ({check['records']} records)"),
        ("complete (success, value, 3 files)", f"{check['complete_runs']}/{count}; latest ok {check['latest_ok']}"),
        ("lost runs", str(check["lost"])),
        ("load average while running (mean, max)", f"{load.get('mean')}, {load.get('max')}"),
        ("CPU s: servers / machine / others+PG", f"{cpu['servers_trees']} / {cpu['machine_busy']} / {cpu['others']}"),
    ]
    complete, all_ok = (
        f"{check['complete_runs']}/{count}, lost {check['lost']}",
        check["all_ok"] and not data["stopped"],
    )
    goals = [
        Goal(f"load: {count} runs all complete", f"{count}/{count}, lost 0", complete, bool(all_ok)),
        Goal("load: history API p95 while running", f"< {GOAL_MS:.0f} ms", fmt(api), met["api"]),
        Goal("load: history page p95 while running", f"< {GOAL_MS:.0f} ms", fmt(page), met["page"]),
    ]
    title = f"Load: {count} runs of a tiny report triggered together through the REST API (LocalExecutor)"
    return BenchResult("load", "Load", data, [table(title, ["figure", "value"], rows)], goals)
