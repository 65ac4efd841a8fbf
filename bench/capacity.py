"""``make capacity``: the measured inputs of the capacity plan (docs/capacity.md), and the plan derived from them.

.venv/bin/python -m bench.capacity                       # all three parts (13 minutes on a loaded 2-core machine)
.venv/bin/python -m bench.capacity --only platform,parse --runs 20 --hello-runs 40 --sizes 10,100,1000
.venv/bin/python -m bench.capacity --quick               # smoke: 3 runs each, 10 and 100 reports, 1 Airflow run

1. ``platform``: per report run on PostgreSQL + moto's HTTP S3 server (bench/capacity_platform.py)
2. ``airflow``: per ``dag.test()`` run, the rows in a PostgreSQL Airflow metadata DB (bench/capacity_airflow.py)
3. ``parse``: ``build_dags`` cost per report at N reports, cold and warm; serialized DAG bytes (bench/capacity_parse.py)

Tables on stdout, progress on stderr, everything in ``.bench/capacity.json`` (with the plan's
derived figures, each with its formula). Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from bench import workspace
from bench.capacity_plan import plan, plan_table
from bench.harness import RESULTS_DIR, loadavg, machine, progress, table

PARTS = ("platform", "airflow", "parse")
KB = 1024


def _kb(n: float) -> str:
    return f"{n / KB:,.1f} KiB"


def platform_tables(data: dict[str, Any]) -> list[str]:
    out = []
    for d in data.values():
        per = d["per_run"]
        rows = [
            [
                t,
                v["rows_per_run"],
                _kb(v["bytes_per_run"]),
                _kb(v["index_bytes_per_run"]),
                _kb(v["data_bytes_per_run"]),
                v["rows_total"],
                _kb(v["bytes_total"]),
            ]
            for t, v in sorted(per["db"]["tables"].items())
        ]
        rows.append(["pg_database_size", "", _kb(per["db"]["database_bytes_per_run"]), "", "", "", ""])
        s = per["search"]
        rows.append(
            [
                f"search share ({s['share_bytes']:.0%} of pages, {s['share_data_bytes']:.0%} of row bytes)",
                "",
                _kb(s["search_bytes_per_run"]),
                "",
                _kb(s["search_data_bytes_per_run"]),
                "",
                "",
            ]
        )
        out.append(
            table(
                f"Platform DB per run of {d['report']} ({d['runs']} runs after the first; PostgreSQL; bytes: "
                f"pg_total_relation_size (8 KiB pages, with TOAST and indexes); row bytes: sum(pg_column_size))",
                ["table", "rows/run", "bytes/run", "of it indexes", "row bytes/run", "rows (all)", "bytes (all)"],
                rows,
            )
        )
        srows = [[f, _kb(b)] for f, b in per["run_files_mean_bytes"].items()]
        srows.append(
            [f"runs/{d['report']}/<run_id>/ ({per['run_objects']['median']} objects)", _kb(per["run_bytes"]["mean"])]
        )
        for top, g in sorted(per["store"].items()):
            srows.append([f"{top}/ growth per run ({g['objects']} objects)", _kb(g["bytes"])])
        for top, g in sorted(d["after_edit"]["store"].items()):
            srows.append([f"{top}/ after one edit ({g['objects']} objects)", _kb(g["bytes"])])
        srows.append(["run wall (run_report), median", f"{per['wall_s']['median']:.2f} s"])
        out.append(table(f"Store (S3) per run of {d['report']} (mean bytes)", ["object", "bytes"], srows))
    return out


def airflow_tables(d: dict[str, Any]) -> list[str]:
    per = d["per_run"]
    rows = [
        [t, v["rows_per_run"], _kb(v["bytes_per_run"]), _kb(v["data_bytes_per_run"]), v["rows_total"]]
        for t, v in sorted(per["db"]["tables"].items())
    ]
    rows.append(["pg_database_size", "", _kb(per["db"]["database_bytes_per_run"]), "", ""])
    logs = "task log files ($AIRFLOW_HOME/logs)" + (
        "" if per["task_log_files"] else ": none, dag.test() logs to stdout"
    )
    rows.append([logs, per["task_log_files"], _kb(per["task_log_bytes"]), "", ""])
    first = [[t, v["rows_total"], _kb(v["bytes_total"])] for t, v in sorted(d["first_run"]["db"]["tables"].items())]
    return [
        table(
            f"Airflow metadata DB per dag.test() run of {d['dag_id']} ({d['runs']} runs after the first; "
            f"dag.test {per['test_s']['median']:.1f} s median)",
            ["table", "rows/run", "bytes/run", "row bytes/run", "rows (all)"],
            rows,
        ),
        table(
            "Airflow metadata DB: the first run (the DAG's version and serialization, once)",
            ["table", "rows", "bytes"],
            first,
        ),
    ]


def parse_tables(data: dict[str, Any]) -> list[str]:
    rows = [
        [
            d["reports"],
            f"{d['cold_ms_per_report']:.2f} ({d['cold_cpu_ms_per_report']:.2f})",
            f"{d['warm_ms_per_report']:.2f} ({d['warm_cpu_ms_per_report']:.2f})",
            f"{d['same_process_ms_per_report']:.2f}",
            f"{d['serialize_ms_per_report']:.2f} ({d.get('serialize_cpu_ms_per_report', 0):.2f})",
            f"{d.get('cold_marginal_cpu_ms_per_report', '-')} / {d.get('warm_marginal_cpu_ms_per_report', '-')}",
            f"{d['import_s']:.2f}",
            _kb(d["serialized_bytes_per_dag"]),
            _kb(d["serialized_zlib_bytes_per_dag"]),
        ]
        for d in data.values()
    ]
    return [
        table(
            "DAG parse: build_dags(Settings(notebooks_dir=X)) per report, fresh process (median; wall (CPU))",
            [
                "reports",
                "cold ms",
                "warm ms",
                "same-process ms",
                "serialize ms",
                "marginal CPU ms cold / warm",
                "import s",
                "DAG JSON",
                "zlib",
            ],
            rows,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {', '.join(PARTS)}")
    parser.add_argument("--runs", type=int, default=20, help="counted runs of the sales_summary copy after the first")
    parser.add_argument("--hello-runs", type=int, default=40, help="counted runs of hello after the first (40)")
    parser.add_argument("--airflow-runs", type=int, default=3, help="counted dag.test() runs after the first (3)")
    parser.add_argument("--sizes", default="10,100,1000", help="generated reports per parse size")
    parser.add_argument("--repeats", type=int, default=2, help="cold/warm parse pairs per size (2)")
    parser.add_argument("--quick", action="store_true", help="3 runs, sizes 10,100, 1 Airflow run, 1 repeat")
    parser.add_argument("--out", default=str(RESULTS_DIR / "capacity.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.hello_runs, args.airflow_runs, args.sizes, args.repeats = 3, 3, 1, "10,100", 1
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if set(parts) - set(PARTS):
        parser.error(f"unknown part(s) {sorted(set(parts) - set(PARTS))}; choose from {', '.join(PARTS)}")
    started, load_before = time.time(), loadavg()
    ws = workspace.create("nbr-capacity-")
    workspace.write_tiny(ws.notebooks, "hello")
    for key in [k for k in os.environ if k.startswith(("NBREPORTS_", "AIRFLOW_"))]:
        del os.environ[key]
    os.environ.update(ws.env())
    doc: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "command": "python -m bench.capacity " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": vars(args),
    }
    tables: list[str] = []
    from bench.capacity_db import moto_endpoint

    try:
        with moto_endpoint() as endpoint:
            if "platform" in parts:
                from bench import capacity_platform

                kinds = {
                    "hello": (ws.notebooks / "hello", args.hello_runs),
                    "sales_summary": (ws.notebooks / "realistic", args.runs),  # a copy, its run cache off
                }
                doc["platform"] = capacity_platform.run(ws, endpoint, kinds)
                tables += platform_tables(doc["platform"])
            if "airflow" in parts:
                from bench import capacity_airflow

                doc["airflow"] = capacity_airflow.run(
                    ws, endpoint, "hello", {"name": "af", "count": 2}, args.airflow_runs
                )
                tables += airflow_tables(doc["airflow"])
        if "parse" in parts:
            from bench import capacity_parse

            sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
            doc["parse"] = capacity_parse.run(ws, sizes, args.repeats)
            tables += parse_tables(doc["parse"])
    finally:
        ws.cleanup()
    doc["plan"] = plan(doc)
    tables.append(plan_table(doc["plan"]))
    doc["machine"] = {**machine(), "loadavg_before": load_before, "loadavg_after": loadavg()}
    doc["duration_s"] = round(time.time() - started, 1)
    for text in tables:
        print("\n" + text, flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2, default=str)
    progress(f"capacity: {doc['duration_s']:.0f} s, load {load_before} -> {loadavg()}; results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
