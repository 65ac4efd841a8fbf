#!/usr/bin/env python
"""Benchmark: the run-history endpoint with 100,000 runs in the platform database.

Fills a fresh PostgreSQL platform database with synthetic runs of a few reports (most of them in
one report, the worst case for its history), starts a real ``airflow api-server`` with the
nbreports plugin on it, and times ``GET /nbreports/api/reports/<report>/runs`` for first pages,
deep pages (keyset cursors), status and version filters. Prints p50/p95/max per scenario and
overall; exits 1 when the overall p95 exceeds ``--budget-ms`` (50 ms by default, the issue's goal).

    .venv/bin/python bench/bench_history.py            # 100,000 runs, ~1-2 min
    .venv/bin/python bench/bench_history.py --quick    # 10,000 runs, fewer requests
    .venv/bin/python bench/bench_history.py --direct   # the query only, no HTTP/Airflow
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from nbreports.browse import runs as run_queries  # noqa: E402
from nbreports.storage.database import PlatformDB, RunRow  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database, free_port  # noqa: E402
from tests.integration.servers import USERS, server_env  # noqa: E402

HOT = "bench_hot"
STATUSES = ("success",) * 17 + ("failed",) * 2 + ("running",)


def fill(db: PlatformDB, runs: int, reports: int, seed: int = 7) -> dict[str, Any]:
    """Insert ``runs`` runs: 80% in ``bench_hot``, the rest spread over ``reports - 1`` others."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible synthetic history, nothing secret
    names = [HOT] + [f"bench_{i:02d}" for i in range(1, reports)]
    versions = [hashlib.sha256(f"v{i}".encode()).hexdigest() for i in range(12)]
    for name in names:
        db.upsert_report(name, name.replace("_", " ").title(), "bench", "perf", {"tags": ["bench"]}, [])
        for sha in versions:
            db.add_version(name, sha, 1000, "python3", "bench")
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    table = RunRow.__table__
    batch: list[dict[str, Any]] = []
    with db.engine.begin() as conn:
        for i in range(runs):
            report = HOT if rng.random() < 0.8 or reports == 1 else rng.choice(names[1:])
            started = t0 + timedelta(minutes=15 * i, seconds=rng.randint(0, 600))
            status = rng.choice(STATUSES)
            duration = round(rng.uniform(2, 120), 3)
            batch.append(
                {
                    "run_id": f"{started:%Y%m%dT%H%M%S}Z-{i:08x}",
                    "report": report,
                    "status": status,
                    "parameters": {"region": rng.choice(["EU", "US", "APAC"]), "top_n": rng.randint(1, 4)},
                    "notebook_version": versions[min(i * len(versions) // runs, len(versions) - 1)],
                    "executor": "local",
                    "kernel": "python3",
                    "dag_id": report,
                    "dag_run_id": f"scheduled__{started.isoformat()}",
                    "triggered_by": "scheduler",
                    "started_at": started,
                    "ended_at": None if status == "running" else started + timedelta(seconds=duration),
                    "duration_s": None if status == "running" else duration,
                    "html_uri": f"file:///store/runs/{report}/{i}/report.html",
                    "scraps": {"rows": i},
                }
            )
            if len(batch) == 5000:
                conn.execute(sa.insert(table), batch)
                batch.clear()
        if batch:
            conn.execute(sa.insert(table), batch)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE runs"))
    return {"versions": versions}


def scenarios(versions: list[str]) -> dict[str, Callable[[Callable[..., Any]], Any]]:
    """Each scenario issues one or more page requests through ``get(**params) -> page dict``."""

    def deep(get: Callable[..., Any]) -> Any:  # walk 5 pages down, timing each
        cursor = None
        for _ in range(5):
            page = get(limit=50, cursor=cursor)
            cursor = page["next_cursor"]
        return page

    return {
        "first page": lambda get: get(limit=50),
        "first page (25)": lambda get: get(limit=25),
        "status=failed": lambda get: get(limit=50, status="failed"),
        "status=running": lambda get: get(limit=50, status="running"),
        "version prefix": lambda get: get(limit=50, notebook_version=versions[3][:12]),
        "5 pages deep": deep,
    }


def summarize(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    row = {"n": len(ordered), "p50_ms": statistics.median(ordered), "p95_ms": p95, "max_ms": ordered[-1]}
    print(
        f"  {name:<18} n={row['n']:<5} p50={row['p50_ms']:7.2f} ms  p95={row['p95_ms']:7.2f} ms  "
        f"max={row['max_ms']:7.2f} ms"
    )
    return row


def measure(get_page: Callable[..., Any], versions: list[str], rounds: int) -> dict[str, Any]:
    timings: dict[str, list[float]] = {}

    def timed(label: str) -> Callable[..., Any]:
        def get(**params: Any) -> Any:
            start = time.perf_counter()
            page = get_page(**params)
            timings.setdefault(label, []).append((time.perf_counter() - start) * 1000)
            return page

        return get

    cases = scenarios(versions)
    for case in cases.values():  # warm up caches and connections
        case(lambda **p: get_page(**p))
    for _ in range(rounds):
        for label, case in cases.items():
            case(timed(label))
    results = {label: summarize(label, samples) for label, samples in timings.items()}
    results["overall"] = summarize("overall", [s for samples in timings.values() for s in samples])
    return results


@contextlib.contextmanager
def api_server(platform_url: str, folder: Path) -> Iterator[str]:
    """A real ``airflow api-server`` with the plugin, on a fresh metadata database."""
    meta_url = create_pg_database("nbr_bench_airflow")
    port = free_port()
    env = server_env(
        {
            **os.environ,
            "AIRFLOW_HOME": str(folder / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url.replace("postgresql://", "postgresql+psycopg2://"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder / "no-dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__API_AUTH__JWT_SECRET": "nbreports-bench-" + "x" * 56,
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "NBREPORTS_HOME": str(folder / "nbreports"),
            "NBREPORTS_NOTEBOOKS_DIR": str(folder / "no-notebooks"),
            "AIRFLOW_CONN_NBREPORTS_DB": platform_url,
        },
        folder,
        port,
    )
    airflow = str(REPO / ".venv" / "bin" / "airflow")
    proc = None
    try:
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
        with (folder / "api-server.log").open("wb") as log:
            args = [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"]
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"api-server did not start; see {folder / 'api-server.log'}")
            time.sleep(0.5)
        yield base
    finally:
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        drop_pg_database(meta_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 runs and fewer rounds")
    parser.add_argument("--runs", type=int, default=None, help="runs to insert (default 100,000)")
    parser.add_argument("--reports", type=int, default=5, help="reports the runs belong to")
    parser.add_argument("--rounds", type=int, default=None, help="requests per scenario")
    parser.add_argument("--direct", action="store_true", help="time nbreports.browse.runs.history, no HTTP")
    parser.add_argument("--budget-ms", type=float, default=50.0, help="p95 goal; exit 1 above it")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    runs = args.runs or (10_000 if args.quick else 100_000)
    rounds = args.rounds or (20 if args.quick else 60)

    platform_url = create_pg_database("nbr_bench_platform")
    try:
        db = PlatformDB(platform_url)
        start = time.perf_counter()
        info = fill(db, runs, args.reports)
        with db.engine.connect() as conn:
            hot_runs = int(conn.scalar(sa.select(sa.func.count()).select_from(RunRow).where(RunRow.report == HOT)) or 0)
        print(f"filled {runs:,} runs ({hot_runs:,} in {HOT}) in {time.perf_counter() - start:.1f} s")
        if args.direct:
            print(f"nbreports.browse.runs.history on {HOT}:")

            def get_direct(**params: Any) -> dict[str, Any]:
                cursor = params.pop("cursor", None)
                limit = params.pop("limit", 50)
                page = run_queries.history(db, HOT, run_queries.HistoryFilter(**params), limit=limit, cursor=cursor)
                return {"next_cursor": page.next_cursor, "items": page.items}

            results = measure(get_direct, info["versions"], rounds)
        else:
            with tempfile.TemporaryDirectory(prefix="nbr-bench-") as tmp, api_server(platform_url, Path(tmp)) as base:
                token = httpx.post(
                    f"{base}/auth/token", json={"username": "admin", "password": USERS["admin"][1]}, timeout=30
                ).json()["access_token"]
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:

                    def get_http(**params: Any) -> dict[str, Any]:
                        resp = client.get(
                            f"/nbreports/api/reports/{HOT}/runs",
                            params={k: v for k, v in params.items() if v is not None},
                        )
                        resp.raise_for_status()
                        return dict(resp.json())

                    print(f"GET /nbreports/api/reports/{HOT}/runs through the api-server:")
                    results = measure(get_http, info["versions"], rounds)
        db.engine.dispose()
    finally:
        drop_pg_database(platform_url)
    p95 = results["overall"]["p95_ms"]
    verdict = "OK" if p95 <= args.budget_ms else "OVER BUDGET"
    print(f"overall p95 {p95:.2f} ms (budget {args.budget_ms:.0f} ms): {verdict}")
    if args.json:
        args.json.write_text(
            json.dumps({"runs": runs, "hot_runs": hot_runs, "direct": args.direct, "results": results}, indent=2)
        )
    return 0 if p95 <= args.budget_ms else 1


if __name__ == "__main__":
    sys.exit(main())
