"""Capacity, part 2: the rows one Airflow DAG run of a report writes to Airflow's metadata database.

A fresh PostgreSQL metadata database (``airflow db migrate``), the nbreports DAG file over the
workspace's notebooks, the platform on its own PostgreSQL database and the S3 endpoint. Each run is
``dag.test()`` of the report's DAG in a fresh process (``bench.dagtest_child``): the first also
writes the DAG's serialized version; then ``runs`` more are counted, per table rows and
``pg_total_relation_size`` before and after, and the task log files under ``$AIRFLOW_HOME/logs``.

``dag.test()`` runs the tasks in its own process: no scheduler, no executor, no worker. A run
scheduled by a real scheduler also writes scheduler-side rows (job heartbeats, ``log`` audit rows
of state changes, ...): those are not in these figures.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.capacity_db import create_database, delta, drop_database, snapshot
from bench.harness import REPO, VENV_BIN, measure_cmd, progress
from bench.workspace import Workspace


def _dir_bytes(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def run(ws: Workspace, endpoint: str, dag_id: str, conf: dict[str, Any], runs: int) -> dict[str, Any]:
    meta_url = create_database("airflow")
    platform_url = create_database("afplatform")
    home = ws.root / "airflow-capacity"
    dags = ws.root / "dags-capacity"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / "nbreports_dags.py").unlink(missing_ok=True)
    (dags / "nbreports_dags.py").symlink_to(REPO / "dags" / "nbreports_dags.py")
    env = ws.env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=meta_url.replace("postgresql://", "postgresql+psycopg2://"),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        NBREPORTS_STORE_URL=f"s3://reports/cap-airflow-{uuid.uuid4().hex[:8]}",
        NBREPORTS_STORE_OPTIONS=json.dumps({"endpoint_url": endpoint}),
        NBREPORTS_DATABASE_URL=platform_url,
        NBREPORTS_TEAMS_FILE=str(ws.root / "config" / "teams.yaml"),
    )
    try:
        progress("capacity: airflow db migrate on a fresh PostgreSQL metadata database")
        t0 = time.perf_counter()
        migrate = [str(VENV_BIN / "airflow"), "db", "migrate"]
        measure_cmd(migrate, env=env, cwd=ws.root, workdir=ws.tmp, timeout=600).require_ok("airflow db migrate")
        migrate_s = time.perf_counter() - t0
        migrated = snapshot(meta_url)

        def one() -> dict[str, Any]:
            args = [str(VENV_BIN / "python"), "-m", "bench.dagtest_child", str(dags / "nbreports_dags.py"), dag_id]
            res = measure_cmd([*args, json.dumps(conf)], env=env, cwd=REPO, workdir=ws.tmp, timeout=600)
            res.require_ok(f"dag.test {dag_id}")
            line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
            child: dict[str, Any] = json.loads(line[6:])
            if "success" not in child["state"]:
                raise RuntimeError(f"dag.test {dag_id} ended {child['state']}: {child['tasks']}\n{res.output[-3000:]}")
            return {"wall_s": round(res.wall_s, 3), "test_s": child["test_s"], "parse_s": child["parse_s"]}

        progress(f"capacity: airflow: first dag.test() of {dag_id} (writes the DAG's version)")
        first = one()
        after_first, logs_first = snapshot(meta_url), _dir_bytes(home / "logs")
        samples = []
        for i in range(runs):
            samples.append(one())
            progress(f"capacity: airflow: dag.test() {i + 1}/{runs}: {samples[-1]['test_s']:.1f}s")
        after, logs_after = snapshot(meta_url), _dir_bytes(home / "logs")
    finally:
        drop_database(meta_url)
        drop_database(platform_url)
    return {
        "dag_id": dag_id,
        "runs": runs,
        "migrate_s": round(migrate_s, 1),
        "migrated_database_bytes": migrated["database_bytes"],
        "first_run": {**first, "db": delta(migrated, after_first, 1)},
        "per_run": {
            "test_s": {"median": round(statistics.median(s["test_s"] for s in samples), 3)},
            "wall_s": {"median": round(statistics.median(s["wall_s"] for s in samples), 3)},
            "db": delta(after_first, after, runs),
            "task_log_files": round((logs_after[0] - logs_first[0]) / runs, 2),
            "task_log_bytes": round((logs_after[1] - logs_first[1]) / runs),
        },
    }
