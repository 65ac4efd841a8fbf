"""The capacity plan's derived figures: 10,000 reports and 100,000 runs a day, from the measured inputs.

Every figure is ``derived`` and carries its formula; an input missing from this invocation leaves
its figures out. Byte figures are decimal (GB = 1e9) so the formulas are easy to check by hand.
"""

from __future__ import annotations

from typing import Any

from bench.harness import table

REPORTS = 10_000
RUNS_PER_DAY = 100_000
DAY_S = 86_400
TASKS_PER_RUN = 3  # prepare, execute, publish (operators/factory.py)
NOTEBOOK_S = 60.0
# Airflow 3.3.2 defaults (airflow/config_templates/config.yml)
DAGBAG_IMPORT_TIMEOUT_S = 30.0  # [core] dagbag_import_timeout
FILE_PROCESSOR_TIMEOUT_S = 50.0  # [dag_processor] dag_file_processor_timeout
MIN_FILE_PROCESS_INTERVAL_S = 30.0  # [dag_processor] min_file_process_interval


def plan(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, value: float, unit: str, formula: str) -> None:
        out.append({"name": name, "value": round(value, 3), "unit": unit, "formula": formula, "derived": True})

    d, y = RUNS_PER_DAY, 365
    for kind, p in doc.get("platform", {}).items():
        per = p["per_run"]
        db, s = per["db"]["database_bytes_per_run"], per["search"]
        tables, search = s["tables_bytes_per_run"], s["search_bytes_per_run"]
        data, sdata = s["tables_data_bytes_per_run"], s["search_data_bytes_per_run"]
        add(f"platform DB growth/day, {kind}", db * d / 1e9, "GB", f"pg_database_size/run {db} B x {d:,}")
        add(f"platform DB growth/year, {kind}", db * d * y / 1e9, "GB", f"{db} B x {d:,} x {y}")
        add(
            f"platform tables growth/day, {kind}, with search",
            tables * d / 1e9,
            "GB",
            f"sum tables/run {tables} B x {d:,}",
        )
        add(
            f"platform tables growth/day, {kind}, without search",
            (tables - search) * d / 1e9,
            "GB",
            f"({tables} - search {search}) B x {d:,}",
        )
        add(
            f"platform tables growth/year, {kind}, without search",
            (tables - search) * d * y / 1e9,
            "GB",
            f"({tables} - {search}) B x {d:,} x {y}",
        )
        add(f"platform row bytes/day, {kind}, with search", data * d / 1e9, "GB", f"row bytes/run {data} B x {d:,}")
        add(
            f"platform row bytes/day, {kind}, without search",
            (data - sdata) * d / 1e9,
            "GB",
            f"({data} - search {sdata}) B x {d:,}",
        )
        runs_rows = per["db"]["tables"].get("runs", {}).get("rows_per_run", 0)
        add(f"runs rows/year, {kind}", runs_rows * d * y / 1e6, "million", f"{runs_rows} x {d:,} x {y}")
        sb = per["run_bytes"]["mean"]
        add(f"store growth/day, {kind}", sb * d / 1e9, "GB", f"runs/<report>/<run_id>/ {sb} B x {d:,}")
        add(f"store growth/year, {kind}", sb * d * y / 1e12, "TB", f"{sb} B x {d:,} x {y}")
        add(
            f"store objects/day, {kind}",
            per["run_objects"]["median"] * d / 1e6,
            "million",
            f"{per['run_objects']['median']} x {d:,}",
        )
        edit = sum(g["bytes"] for top, g in p["after_edit"]["store"].items() if top != "runs")  # not the run itself
        add(
            f"store per 1,000 notebook edits, {kind}",
            edit * 1000 / 1e6,
            "MB",
            f"versions/ + bundles/ + reports/ saves {edit} B x 1,000",
        )
    af = doc.get("airflow")
    if af:
        per = af["per_run"]
        db = per["db"]["database_bytes_per_run"]
        add("Airflow metadata DB growth/day", db * d / 1e9, "GB", f"pg_database_size/run {db} B x {d:,}")
        add("Airflow metadata DB growth/year (no db clean)", db * d * y / 1e9, "GB", f"{db} B x {d:,} x {y}")
        rb = sum(t["data_bytes_per_run"] for t in per["db"]["tables"].values())
        add("Airflow metadata row bytes/day", rb * d / 1e9, "GB", f"sum(pg_column_size)/run {rb} B x {d:,}")
        add("Airflow metadata row bytes/year (no db clean)", rb * d * y / 1e9, "GB", f"{rb} B x {d:,} x {y}")
        rows = sum(t["rows_per_run"] for t in per["db"]["tables"].values())
        add("Airflow metadata rows/day", rows * d / 1e6, "million", f"{rows} rows/run x {d:,}")
        lb = per["task_log_bytes"]
        if lb:
            add("Airflow task logs/day", lb * d / 1e9, "GB", f"{lb} B/run x {d:,}")
    prs = doc.get("parse")
    if prs:
        big = prs[str(max(int(k) for k in prs))]
        n = big["reports"]
        # CPU time: a loaded machine inflates wall time, not CPU; a dedicated dag-processor core gets wall ~ CPU
        warm, cold = big["warm_cpu_ms_per_report"], big["cold_cpu_ms_per_report"]
        warm_s = warm * REPORTS / 1000
        add(
            f"DAG file parse at {REPORTS:,} reports, warm (CPU)",
            warm_s,
            "s",
            f"{warm} CPU ms/report (at {n}) x {REPORTS:,}",
        )
        add(
            f"DAG file parse at {REPORTS:,} reports, cold (CPU)",
            cold * REPORTS / 1000,
            "s",
            f"{cold} CPU ms/report x {REPORTS:,}",
        )
        ww = big["warm_ms_per_report"]
        add(
            f"DAG file parse at {REPORTS:,} reports, warm (wall, this machine)",
            ww * REPORTS / 1000,
            "s",
            f"{ww} ms x {REPORTS:,}",
        )
        ser = big.get("serialize_cpu_ms_per_report", big["serialize_ms_per_report"])
        ser_s = ser * REPORTS / 1000
        add(f"serialize {REPORTS:,} DAGs (CPU)", ser_s, "s", f"{ser} ms/report x {REPORTS:,}")
        add(
            "warm parse / [core] dagbag_import_timeout",
            warm_s / DAGBAG_IMPORT_TIMEOUT_S,
            "x",
            f"{warm_s:.1f} s / {DAGBAG_IMPORT_TIMEOUT_S:.0f} s (> 1: the file's import times out at the default)",
        )
        add(
            "warm parse + serialize / [dag_processor] dag_file_processor_timeout",
            (warm_s + ser_s) / FILE_PROCESSOR_TIMEOUT_S,
            "x",
            f"({warm_s:.1f} + {ser_s:.1f}) s / {FILE_PROCESSOR_TIMEOUT_S:.0f} s (> 1: the processor is killed)",
        )
        loop = warm_s + ser_s
        interval = max(MIN_FILE_PROCESS_INTERVAL_S, loop)
        add(
            "dag-processor CPU on the one DAG file",
            loop / interval,
            "cores",
            f"{loop:.1f} s every max(min_file_process_interval {MIN_FILE_PROCESS_INTERVAL_S:.0f} s, {loop:.1f} s)",
        )
        js = big["serialized_bytes_per_dag"]
        add(
            f"serialized_dag data for {REPORTS:,} DAGs (one version each)",
            js * REPORTS / 1e6,
            "MB",
            f"{js} B x {REPORTS:,}",
        )
        z = big["serialized_zlib_bytes_per_dag"]
        add("... with [core] compress_serialized_dags", z * REPORTS / 1e6, "MB", f"{z} B x {REPORTS:,}")
    rps = d / DAY_S
    add("scheduler: DAG runs per second (average)", rps, "runs/s", f"{d:,} / {DAY_S:,}")
    add("scheduler: task instances per second (average)", rps * TASKS_PER_RUN, "TI/s", f"{rps:.3f} x {TASKS_PER_RUN}")
    walls: list[tuple[str, float]] = []
    if "hello" in doc.get("platform", {}):
        walls.append(("hello run_report wall", doc["platform"]["hello"]["per_run"]["wall_s"]["median"]))
    if af:
        walls.append(("hello dag.test() 3 tasks", af["per_run"]["test_s"]["median"]))
    for label, wall in walls:
        add(
            f"worker slots busy (average), {label} {wall:.2f} s",
            d * wall / DAY_S,
            "slots",
            f"{d:,} x {wall:.2f} s / {DAY_S:,}",
        )
        w60 = wall + NOTEBOOK_S
        add(
            f"worker slots busy (average), 60 s notebook + {label}",
            d * w60 / DAY_S,
            "slots",
            f"{d:,} x ({NOTEBOOK_S:.0f} + {wall:.2f}) s / {DAY_S:,}",
        )
    return out


def plan_table(rows: list[dict[str, Any]]) -> str:
    body = [[r["name"], f"{r['value']:,.3f} {r['unit']}", r["formula"]] for r in rows]
    return table(
        f"Capacity plan (all derived): {REPORTS:,} reports, {RUNS_PER_DAY:,} runs/day",
        ["figure", "value", "formula"],
        body,
    )
