"""Benchmark 3, concurrency: 1, 2, 4 and 8 ``nbr run`` of the tiny report started at once (local engine).

Total wall time until the last one ends, throughput, CPU time and peak memory of all the process
trees together. The levels are interleaved round by round (1, 2, 4, 8, 1, 2, ...).
"""

from __future__ import annotations

from typing import Any

from bench import workspace as wsmod
from bench.harness import (
    VENV_BIN,
    BenchResult,
    Mode,
    Sample,
    fmt_stat,
    loadavg,
    measure_cmds,
    progress,
    series_summary,
    table,
)
from bench.per_run import _params
from bench.workspace import Workspace


def burst(ws: Workspace, count: int) -> Sample:
    cmd = [str(VENV_BIN / "nbr"), "run", "tiny", "-q", *_params(wsmod.TINY_PARAMS)]
    total, results, memory = measure_cmds([cmd] * count, env=ws.env(), cwd=ws.root, workdir=ws.tmp)
    failures = [r.output[-1500:] for r in results if r.returncode != 0]
    return {
        "wall_s": round(total, 4),
        "runs_per_min": round(60 * count / total, 2),
        "mean_run_s": round(sum(r.wall_s for r in results) / count, 4),
        "failures": len(failures),
        "failure_tail": failures[:1],
        **memory,
    }


def run(ws: Workspace, mode: Mode, levels: tuple[int, ...] | None = None) -> BenchResult:
    levels = levels or ((1, 2) if mode.quick else (1, 2, 4, 8))
    progress(f"concurrency: warm-up ({levels[1]} at once)")
    burst(ws, levels[1])
    samples: dict[int, list[Sample]] = {n: [] for n in levels}
    for i in range(mode.runs):
        for n in levels:
            s = burst(ws, n)
            samples[n].append(s)
            progress(
                f"concurrency: round {i + 1}/{mode.runs}  {n} at once: {s['wall_s']:.2f}s  "
                f"{s['runs_per_min']:.1f} runs/min  {s['peak_tree_mb']:.0f} MB  failures {s['failures']}  "
                f"load {loadavg()[0]:.1f}"
            )
    data: dict[str, Any] = {"levels": {}}
    rows = []
    base = series_summary(samples[levels[0]])["wall_s"]["median"]
    for n in levels:
        s = series_summary(samples[n])
        data["levels"][str(n)] = {"samples": samples[n], "summary": s}
        rows.append(
            [
                n,
                fmt_stat(s["wall_s"], "s"),
                fmt_stat(s["runs_per_min"], "", 1),
                fmt_stat(s["mean_run_s"], "s"),
                fmt_stat(s["cpu_s"], "s", 1),
                fmt_stat(s["peak_tree_mb"], "", 0),
                f"{s['wall_s']['median'] / base:.2f}x",
                sum(x["failures"] for x in samples[n]),
            ]
        )
    tables = [
        table(
            "Concurrency: N nbr run of the tiny report at once (median [min-max])",
            ["at once", "total wall", "runs/min", "mean run", "CPU (tree)", "peak tree MB", "wall vs 1", "failed runs"],
            rows,
        )
    ]
    return BenchResult("concurrency", "Concurrency", data, tables, [])
