"""Benchmark 4, start latency: from the moment a run is asked for to its first cell executing.

The tiny notebook's first code cell appends ``time.time()`` to ``$NBR_BENCH_STAMP``; the latency is
that stamp minus the moment the command was started (kernel start included). Bare ``papermill``
(the floor) and ``nbr run`` are interleaved. With ``--scheduler`` (default in full mode) the same is
measured for a run triggered through the REST API of real Airflow servers (api-server, scheduler,
dag-processor, triggerer; LocalExecutor; the workspace's SQLite metadata DB): from the
``POST /api/v2/dags/tiny/dagRuns`` to the first cell.
"""

from __future__ import annotations

import time
from typing import Any

from bench import per_run
from bench import workspace as wsmod
from bench.harness import (
    BenchResult,
    Mode,
    Sample,
    fmt_stat,
    interleave,
    loadavg,
    progress,
    series_summary,
    summary,
    table,
)
from bench.workspace import Workspace


def scheduler_latency(ws: Workspace, mode: Mode) -> dict[str, Any]:
    from tests.integration.servers import running_airflow

    ws.setup_airflow()
    stamp_file = ws.tmp / "scheduler-stamp.txt"
    env = ws.airflow_env(
        NBR_BENCH_STAMP=str(stamp_file), AIRFLOW__CORE__EXECUTOR="LocalExecutor", AIRFLOW__LOGGING__LOGGING_LEVEL="INFO"
    )
    progress("latency: starting Airflow servers (api-server, scheduler, dag-processor, triggerer)")
    t0 = time.monotonic()
    samples: list[Sample] = []
    with running_airflow(env, ws.root / "servers") as servers:
        servers.wait_for_dags(["tiny"], timeout=180)
        startup = time.monotonic() - t0
        for i in range(mode.warmups + mode.runs):
            stamp_file.unlink(missing_ok=True)
            asked = time.time()
            resp = servers.trigger("tiny", dict(wsmod.TINY_PARAMS))
            if resp.status_code not in (200, 201):
                raise RuntimeError(f"trigger: HTTP {resp.status_code} {resp.text}")
            run_id = resp.json()["dag_run_id"]
            first_cell = per_run.first_stamp(stamp_file, timeout=300)
            run = servers.wait_for_run("tiny", run_id, timeout=300)
            done = time.time()
            if run["state"] != "success":
                raise RuntimeError(f"tiny run {run_id} ended {run['state']}: {servers.task_states('tiny', run_id)}")
            sample = {"latency_s": round(first_cell - asked, 4), "total_s": round(done - asked, 4)}
            if i >= mode.warmups:
                samples.append(sample)
            progress(
                f"latency: API-triggered run {i + 1}/{mode.warmups + mode.runs}"
                f"{' (warm-up)' if i < mode.warmups else ''}: first cell after {sample['latency_s']:.2f}s, "
                f"done after {sample['total_s']:.2f}s  load {loadavg()[0]:.1f}"
            )
    return {"servers_startup_s": round(startup, 1), "samples": samples, "summary": series_summary(samples)}


def run(ws: Workspace, mode: Mode, with_scheduler: bool = False, cli_pair: dict[str, Any] | None = None) -> BenchResult:
    """``cli_pair``: the per-run benchmark's tiny pairs, which stamp their first cell too; reused
    when given (with their own ratio on latency), so the same runs are not timed twice."""
    if cli_pair is None:
        pair = interleave(
            "start latency: papermill vs nbr run (tiny)",
            ("papermill", lambda: per_run.papermill_run(ws, "tiny")),
            ("nbr run", lambda: per_run.nbr_run(ws, "tiny")),
            mode,
            key="latency_s",
        )
    else:
        progress("start latency: reusing the per-run benchmark's tiny runs")
        ratios = [
            b["latency_s"] / a["latency_s"] for a, b in zip(cli_pair["samples_a"], cli_pair["samples_b"], strict=True)
        ]
        pair = {**cli_pair, "key": "latency_s", "ratios": [round(r, 4) for r in ratios], "ratio": summary(ratios, 4)}
    data: dict[str, Any] = {"cli": pair}
    rows = []
    for side in ("a", "b"):
        s = series_summary(pair[f"samples_{side}"])
        rows.append(
            [
                pair[side],
                fmt_stat(s["latency_s"], "s"),
                fmt_stat(s["wall_s"], "s"),
                "1" if side == "a" else fmt_stat(pair["ratio"], "x"),
            ]
        )
    extra = [
        summary([b["latency_s"] - a["latency_s"] for a, b in zip(pair["samples_a"], pair["samples_b"], strict=True)])
    ]
    data["cli"]["extra_latency_s"] = extra[0]
    if with_scheduler:
        try:
            sched = scheduler_latency(ws, mode)
            data["scheduler"] = sched
            s = sched["summary"]
            rows.append(
                [
                    "API trigger -> scheduler -> LocalExecutor",
                    fmt_stat(s["latency_s"], "s"),
                    fmt_stat(s["total_s"], "s") + " (to success)",
                    "-",
                ]
            )
        except Exception as exc:  # the CLI figures stand on their own
            data["scheduler"] = {"error": f"{type(exc).__name__}: {exc}"}
            progress(f"latency: scheduler part failed: {exc}")
    tables = [
        table(
            f"Start latency: request -> first cell executing (median [min-max]); nbr run minus "
            f"papermill, pair by pair: {fmt_stat(extra[0], 's')}",
            ["path", "to first cell", "whole run", "ratio vs papermill"],
            rows,
        )
    ]
    return BenchResult("latency", "Start latency", data, tables, [])
