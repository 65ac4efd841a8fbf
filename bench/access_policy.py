"""Benchmark 6, access: the catalog and history APIs at 1,000 reports, with the policy on and off.

A workspace with 1,000 report folders owned by 10 teams (one restricted; every tenth report shared
for view with the next team), a teams file with a viewer role, and a platform database holding
5,000 runs of one report and 2 of each other. ``bench/access_child.py`` calls the plugin's own
FastAPI app in-process as three people — a team member, a holder of the viewer role, an admin —
interleaving each request with the policy on and off. The goal (at most +10 % at p95) is judged
where both sides return the same rows: the history for everyone, the catalog for the admin; the
other catalog pairs list fewer reports with the policy on and are shown for information.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bench.harness import VENV_BIN, BenchResult, Goal, Mode, measure_cmd, progress, table
from bench.workspace import Workspace, write_tiny

REPORTS = 1000
TEAMS = 10
HOT = "t03_report_0003"
HOT_RUNS = 5000
GOAL_RATIO = 1.10
PEOPLE = {"member of t03": ["T03"], "viewer role": ["Auditor"], "admin": ["Admin"]}


def _name(i: int) -> str:
    return f"t{i % TEAMS:02d}_report_{i:04d}"


def build(root: Path) -> Path:
    """The 1,000 report folders and the teams file; returns the teams file."""
    notebooks = root / "notebooks"
    template = write_tiny(notebooks, "template")
    nb = (template / "template.ipynb").read_bytes()
    for i in range(REPORTS):
        folder = notebooks / _name(i)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{_name(i)}.ipynb").write_bytes(nb)
        spec: dict[str, Any] = {"title": f"Report {i}", "owner": "bench"}
        if i % 10 == 0 and i % TEAMS != TEAMS - 1:  # shared for view with the next team (never the restricted one)
            spec["access"] = {"view": {"teams": [f"t{(i + 1) % TEAMS:02d}"]}}
        (folder / "report.yaml").write_text(yaml.safe_dump(spec))
    for path in sorted(template.iterdir()):
        path.unlink()
    template.rmdir()
    teams = {
        f"t{t:02d}": {"roles": [f"T{t:02d}"], "folders": [f"t{t:02d}_*"], "restricted": t == TEAMS - 1}
        for t in range(TEAMS)
    }
    teams_file = root / "teams.yaml"
    teams_file.write_text(yaml.safe_dump({"viewer_roles": ["Auditor"], "teams": teams}))
    return teams_file


def fill(db_url: str) -> None:
    """The report rows and runs: 5,000 of the hot report, 2 of each other."""
    from nbreports.storage.database import PlatformDB
    from nbreports.storage.tables import RunRow

    db = PlatformDB(db_url)
    sha = hashlib.sha256(b"bench").hexdigest()
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(REPORTS):
        db.upsert_report(_name(i), f"Report {i}", "bench", f"t{i % TEAMS:02d}", {"title": f"Report {i}"}, [])
        for j in range(HOT_RUNS if _name(i) == HOT else 2):
            started = t0 + timedelta(minutes=j, seconds=i)
            rows.append(
                {
                    "run_id": f"{started:%Y%m%dT%H%M%S}Z-{i:04x}{j:05x}",
                    "report": _name(i),
                    "status": "success" if j % 10 else "failed",
                    "parameters": {"name": "bench", "count": j % 5},
                    "notebook_version": sha,
                    "executor": "local",
                    "kernel": "python3",
                    "started_at": started,
                    "ended_at": started + timedelta(seconds=3),
                    "duration_s": 3.0,
                    "scraps": {},
                }
            )
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(RunRow.__table__), rows[start : start + 5000])
    db.engine.dispose()


def run(ws: Workspace, mode: Mode) -> BenchResult:
    root = ws.tmp / "access"
    progress(f"access: {REPORTS} report folders, {HOT_RUNS + 2 * (REPORTS - 1)} runs")
    teams_file = build(root)
    db_url = f"sqlite:///{root / 'platform.db'}"
    fill(db_url)
    env = ws.airflow_env(
        NBREPORTS_NOTEBOOKS_DIR=str(root / "notebooks"),
        NBREPORTS_TEAMS_FILE=str(teams_file),
        NBREPORTS_DATABASE_URL=db_url,
        AIRFLOW_CONN_NBREPORTS_DB=db_url,
    )
    rounds = {"catalog": 10, "history": 100} if mode.quick else {"catalog": 40, "history": 400}
    spec = {"people": PEOPLE, "hot": HOT, "warmups": 3, "rounds": rounds}
    progress(f"access: {rounds} interleaved rounds (policy on, off) x 3 people")
    res = measure_cmd(
        [str(VENV_BIN / "python"), "-m", "bench.access_child", json.dumps(spec)],
        env=env,
        cwd=ws.root,
        workdir=ws.tmp,
        timeout=1800,
    ).require_ok("access")
    line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
    stats: dict[str, dict[str, float]] = json.loads(line[6:])
    rows, judged = [], []
    for api in ("catalog", "history"):
        for person in PEOPLE:
            on, off = stats[f"{api}|{person}|on"], stats[f"{api}|{person}|off"]
            ratio = on["p95_ms"] / off["p95_ms"]
            same = on["total"] == off["total"]
            if same:
                judged.append((f"{api}, {person}", ratio))
            rows.append(
                [
                    api,
                    person,
                    f"{on['total']:.0f} / {off['total']:.0f}",
                    f"{on['p50_ms']:.1f}",
                    f"{off['p50_ms']:.1f}",
                    f"{on['p95_ms']:.1f}",
                    f"{off['p95_ms']:.1f}",
                    f"{ratio:.3f}" + ("" if same else " (fewer rows on)"),
                ]
            )
    worst = max(judged, key=lambda item: item[1])
    tables = [
        table(
            f"Access policy on vs off: plugin APIs in-process, {REPORTS} reports, rounds {rounds} (ms)",
            ["API", "person", "rows on / off", "p50 on", "p50 off", "p95 on", "p95 off", "p95 on/off"],
            rows,
        )
    ]
    goals = [
        Goal(
            "the access policy's cost on the catalog and history APIs",
            f"<= +{(GOAL_RATIO - 1) * 100:.0f} % at p95",
            f"worst p95 ratio {worst[1]:.3f} ({worst[0]}; same rows on both sides)",
            worst[1] <= GOAL_RATIO,
        )
    ]
    return BenchResult("access", "Access policy", {"stats": stats, "rounds": rounds}, tables, goals)
