"""Capacity, part 1: what one report run writes on the production pairing (PostgreSQL + an S3 endpoint).

Per report kind, a fresh platform database and a fresh store prefix on moto's HTTP S3 server; runs go
through the core's ``run_report`` (prepare, execute in a real kernel, publish, index for search):

1. the first run (it also stores the notebook version and the report folder's bundle, once per content),
2. ``runs`` more runs with varying parameters: per table rows and ``pg_total_relation_size`` before and
   after, ``pg_database_size``, every object under ``runs/<report>/<run_id>/`` and the store's growth,
3. one run after an edit of the notebook: what a new version costs (a new version and a new bundle).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_markdown_cell

from bench.capacity_db import create_database, delta, drop_database, list_objects, snapshot
from bench.harness import progress
from bench.workspace import REALISTIC_PARAMS, Workspace

SEARCH_TABLES = ("search_documents", "search_sources")
REGIONS = ("EU", "US", "APAC", "ALL")


def params(kind: str, i: int) -> dict[str, Any]:
    if kind == "hello":
        return {"name": f"run{i}", "count": 1 + i % 5}
    return {**REALISTIC_PARAMS, "region": REGIONS[i % len(REGIONS)]}


def _store_growth(before: dict[str, int], after: dict[str, int], root: str) -> dict[str, dict[str, int]]:
    """Objects and bytes added per top-level folder of the store (runs, versions, bundles, reports)."""
    out: dict[str, dict[str, int]] = {}
    for key, size in after.items():
        top = key[len(root) :].split("/", 1)[0]
        entry = out.setdefault(top, {"objects": 0, "bytes": 0})
        if key not in before:
            entry["objects"] += 1
            entry["bytes"] += size
        elif before[key] != size:  # rewritten in place (reports/<report>/latest.json)
            entry["bytes"] += size - before[key]
    return out


def _search_share(d: dict[str, Any]) -> dict[str, float]:
    """The search tables' part of the tables' growth, in pages (``bytes``) and in row bytes (``data``)."""
    out: dict[str, float] = {}
    for key in ("bytes", "data_bytes"):
        search = sum(d["tables"].get(t, {}).get(f"{key}_per_run", 0) for t in SEARCH_TABLES)
        total = sum(t[f"{key}_per_run"] for t in d["tables"].values())
        out[f"search_{key}_per_run"] = search
        out[f"tables_{key}_per_run"] = total
        out[f"share_{key}"] = round(search / total, 3) if total else 0.0
    return out


def measure_kind(ws: Workspace, endpoint: str, kind: str, folder: Path, runs: int) -> dict[str, Any]:
    from nbreports.reports.catalog import load_report
    from nbreports.runs.model import Platform
    from nbreports.runs.runner import run_report
    from nbreports.settings import get_settings

    db_url = create_database(f"platform_{kind}")
    root = f"cap-{kind}-{uuid.uuid4().hex[:8]}/"
    os.environ.update(
        {
            "NBREPORTS_STORE_URL": f"s3://reports/{root.rstrip('/')}",
            "NBREPORTS_STORE_OPTIONS": f'{{"endpoint_url": "{endpoint}"}}',
            "NBREPORTS_DATABASE_URL": db_url,
        }
    )
    get_settings.cache_clear()
    platform = Platform.from_settings()
    name = folder.name
    try:
        report = load_report(folder)
        empty = snapshot(db_url)
        first_store0 = list_objects(endpoint, root)
        t0 = time.perf_counter()
        run_report(platform, report, params(kind, 0))
        first_wall = time.perf_counter() - t0
        after_first, first_store1 = snapshot(db_url), list_objects(endpoint, root)
        progress(f"capacity: {kind}: first run {first_wall:.1f}s; {runs} more")

        walls, durations, per_run_objects, per_run_bytes = [], [], [], []
        by_file: dict[str, list[int]] = {}
        for i in range(1, runs + 1):
            t0 = time.perf_counter()
            record = run_report(platform, report, params(kind, i))
            walls.append(time.perf_counter() - t0)
            durations.append(float(record["duration_s"]))
            objs = list_objects(endpoint, f"{root}runs/{name}/{record['run_id']}/")
            per_run_objects.append(len(objs))
            per_run_bytes.append(sum(objs.values()))
            for key, size in objs.items():
                by_file.setdefault(key.rsplit("/", 1)[1], []).append(size)
        after_runs, runs_store = snapshot(db_url), list_objects(endpoint, root)

        nb_path = next(folder.glob("*.ipynb"))  # an edit: one more markdown cell, so a new version
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells.append(new_markdown_cell(f"Edited for the capacity plan ({uuid.uuid4().hex[:6]})."))
        nbformat.write(nb, nb_path)
        edited = load_report(folder)
        run_report(platform, edited, params(kind, runs + 1))
        after_edit, edit_store = snapshot(db_url), list_objects(endpoint, root)
    finally:
        platform.db.engine.dispose()
        drop_database(db_url)
    per_run = delta(after_first, after_runs, runs)
    return {
        "report": name,
        "runs": runs,
        "first_run": {
            "wall_s": round(first_wall, 3),
            "db": delta(empty, after_first, 1),
            "store": _store_growth(first_store0, first_store1, root),
        },
        "per_run": {
            "wall_s": {"median": round(statistics.median(walls), 3), "min": round(min(walls), 3)},
            "duration_s": {"median": round(statistics.median(durations), 3)},
            "db": per_run,
            "search": _search_share(per_run),
            "run_objects": {"median": statistics.median(per_run_objects), "max": max(per_run_objects)},
            "run_bytes": {
                "median": round(statistics.median(per_run_bytes)),
                "mean": round(statistics.mean(per_run_bytes)),
            },
            "run_files_mean_bytes": {k: round(statistics.mean(v)) for k, v in sorted(by_file.items())},
            "store": {
                k: {f: round(x / runs, 2) for f, x in v.items()}
                for k, v in _store_growth(first_store1, runs_store, root).items()
            },
        },
        "after_edit": {"db": delta(after_runs, after_edit, 1), "store": _store_growth(runs_store, edit_store, root)},
        "database_bytes_after": after_edit["database_bytes"],
    }


def run(ws: Workspace, endpoint: str, kinds: dict[str, tuple[Path, int]]) -> dict[str, Any]:
    """``kinds``: name -> (report folder, counted runs)."""
    out: dict[str, Any] = {}
    for kind, (folder, runs) in kinds.items():
        progress(f"capacity: platform per run, {kind} ({folder.name}), {runs} runs on PostgreSQL + S3")
        out[kind] = measure_kind(ws, endpoint, kind, folder, runs)
    return out
