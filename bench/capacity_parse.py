"""Capacity, part 3: what parsing costs per report: ``operators.factory.build_dags`` over N generated reports.

Each parse is a fresh process (``bench.capacity_parse_child``). *Cold*: ``NBREPORTS_HOME`` is new,
so the derived-facts cache is empty; *warm*: the next process, with that cache filled. Reports are
``bench.dag_parsing.generate``'s: N copies of the small tiny notebook under different names, in 7 teams.
"""

from __future__ import annotations

import itertools
import json
import statistics
from typing import Any

from bench.dag_parsing import generate, parse_env
from bench.harness import REPO, VENV_BIN, measure_cmd, progress
from bench.workspace import Workspace


def _child(ws: Workspace, root: Any, count: int, cold: bool) -> dict[str, Any]:
    env = parse_env(root, ws, cold)
    args = [str(VENV_BIN / "python"), "-m", "bench.capacity_parse_child", str(root / "notebooks")]
    res = measure_cmd(args, env=env, cwd=REPO, workdir=ws.tmp).require_ok("build_dags")
    line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
    child: dict[str, Any] = json.loads(line[6:])
    if child["dags"] != count or child["invalid"]:
        raise RuntimeError(f"expected {count} DAGs, got {child}\n{res.output[-3000:]}")
    return {**child, "process_wall_s": round(res.wall_s, 3), "peak_tree_mb": res.memory["peak_tree_mb"]}


def run(ws: Workspace, sizes: tuple[int, ...], repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for count in sizes:
        root = ws.root / f"capacity-parse-{count}"
        progress(f"capacity: parse: generating {count} reports")
        generate(root, count)
        cold, warm = [], []
        for _ in range(repeats):
            cold.append(_child(ws, root, count, cold=True))
            warm.append(_child(ws, root, count, cold=False))
        progress(
            f"capacity: parse {count}: cold {statistics.median(c['build_s'] for c in cold):.2f}s, "
            f"warm {statistics.median(w['build_s'] for w in warm):.2f}s"
        )

        def ms(samples: list[dict[str, Any]], key: str, n: int = count) -> float:
            return round(statistics.median(s[key] for s in samples) * 1000 / n, 3)

        out[str(count)] = {
            "reports": count,
            "repeats": repeats,
            "cold_ms_per_report": ms(cold, "build_s"),
            "cold_cpu_ms_per_report": ms(cold, "build_cpu_s"),
            "warm_ms_per_report": ms(warm, "build_s"),
            "warm_cpu_ms_per_report": ms(warm, "build_cpu_s"),
            "same_process_ms_per_report": ms(warm, "rebuild_same_process_s"),
            "serialize_ms_per_report": ms(warm, "serialize_s"),
            "serialize_cpu_ms_per_report": ms(warm, "serialize_cpu_s"),
            "cold_cpu_s": round(statistics.median(s["build_cpu_s"] for s in cold), 3),
            "warm_cpu_s": round(statistics.median(s["build_cpu_s"] for s in warm), 3),
            "import_s": round(statistics.median(s["import_s"] for s in cold + warm), 3),
            "process_wall_s_warm": round(statistics.median(s["process_wall_s"] for s in warm), 3),
            "peak_tree_mb_warm": statistics.median(s["peak_tree_mb"] for s in warm),
            "serialized_bytes_per_dag": warm[0]["serialized_bytes_mean"],
            "serialized_zlib_bytes_per_dag": warm[0]["serialized_zlib_bytes_mean"],
            "samples": {"cold": cold, "warm": warm},
        }
    counts = sorted(int(c) for c in out)
    for c1, c2 in itertools.pairwise(counts):  # marginal CPU per added report, fixed costs cancelled
        for kind in ("cold", "warm"):
            slope = (out[str(c2)][f"{kind}_cpu_s"] - out[str(c1)][f"{kind}_cpu_s"]) * 1000 / (c2 - c1)
            out[str(c2)][f"{kind}_marginal_cpu_ms_per_report"] = round(slope, 3)
    return out
