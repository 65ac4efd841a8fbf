"""Benchmark 1, per-run cost.

* bare ``papermill`` CLI (the floor) vs ``nbr run`` (execute + version + publish HTML + record),
  on the tiny and the realistic notebook;
* Airflow's ``PapermillOperator`` + an nbconvert HTML step vs the nbreports DAG, both through
  ``dag.test()`` in a fresh process (Airflow metadata on SQLite in the workspace).

Wall time and peak memory (whole tree, orchestrating processes, kernel) per run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench import workspace as wsmod
from bench.harness import (
    VENV_BIN,
    BenchResult,
    Goal,
    Mode,
    Sample,
    fmt_stat,
    interleave,
    measure_cmd,
    progress,
    series_summary,
    table,
)
from bench.workspace import Workspace

NOTEBOOKS = {"tiny": wsmod.TINY_PARAMS, "realistic": wsmod.REALISTIC_PARAMS}
GOALS = {"tiny": 1.10, "realistic": 1.05}
DAG_GOAL = 1.0


def _params(values: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in values.items():
        args += ["-p", key, str(value)]
    return args


def _stamped(ws: Workspace, name: str) -> tuple[Path | None, dict[str, str]]:
    """Where the tiny notebook's first cell writes when it started (start latency; others have
    none), and the environment that tells it so."""
    if name != "tiny":
        return None, ws.env()
    stamp = ws.tmp / f"stamp-{time.monotonic_ns()}.txt"
    return stamp, ws.env(NBR_BENCH_STAMP=str(stamp))


def _with_latency(sample: Sample, stamp: Path | None, started_at: float) -> Sample:
    if stamp is not None:
        sample["latency_s"] = round(first_stamp(stamp) - started_at, 4)
        stamp.unlink(missing_ok=True)
    return sample


def first_stamp(path: Path, timeout: float = 0.0) -> float:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return float(path.read_text().split()[0])
        except (OSError, IndexError, ValueError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the notebook left no stamp in {path}") from None
            time.sleep(0.05)


def papermill_run(ws: Workspace, name: str) -> Sample:
    folder, (stamp, env) = ws.notebooks / name, _stamped(ws, name)
    out = ws.tmp / f"pm-{name}-{time.monotonic_ns()}.ipynb"
    args = [
        str(VENV_BIN / "papermill"),
        str(folder / f"{name}.ipynb"),
        str(out),
        "-k",
        "python3",
        "--cwd",
        str(folder),
        *_params(NOTEBOOKS[name]),
    ]
    res = measure_cmd(args, env=env, cwd=ws.root, workdir=ws.tmp).require_ok(f"papermill {name}")
    out.unlink(missing_ok=True)
    return _with_latency({"wall_s": round(res.wall_s, 4), **res.memory}, stamp, res.started_at)


def nbr_run(ws: Workspace, name: str) -> Sample:
    stamp, env = _stamped(ws, name)
    args = [str(VENV_BIN / "nbr"), "run", name, "-q", *_params(NOTEBOOKS[name])]
    res = measure_cmd(args, env=env, cwd=ws.root, workdir=ws.tmp).require_ok(f"nbr run {name}")
    return _with_latency({"wall_s": round(res.wall_s, 4), **res.memory}, stamp, res.started_at)


def dag_test(ws: Workspace, dag_file: str, dag_id: str, conf: dict[str, Any]) -> Sample:
    args = [str(VENV_BIN / "python"), "-m", "bench.dagtest_child", str(ws.dags / dag_file), dag_id, json.dumps(conf)]
    res = measure_cmd(args, env=ws.airflow_env(), cwd=ws.notebooks / dag_id.removeprefix("pm_"), workdir=ws.tmp)
    res.require_ok(f"dag.test {dag_id}")
    line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
    child = json.loads(line[6:])
    if child["state"] != "success" and "success" not in child["state"]:
        raise RuntimeError(f"dag.test {dag_id} ended {child['state']}: {child['tasks']}\n{res.output[-3000:]}")
    return {
        "test_s": child["test_s"],
        "wall_s": round(res.wall_s, 4),
        "import_s": child["import_s"],
        "parse_s": child["parse_s"],
        **res.memory,
    }


def _rows(label: str, pair: dict[str, Any], key: str = "wall_s") -> list[list[str]]:
    rows = []
    for side in ("a", "b"):
        s = series_summary(pair[f"samples_{side}"])
        rows.append(
            [
                label,
                pair[side],
                fmt_stat(s[key], "s"),
                fmt_stat(s["peak_tree_mb"], "", 0),
                fmt_stat(s["peak_orchestrator_mb"], "", 0),
                fmt_stat(s["peak_kernel_mb"], "", 0),
                "1" if side == "a" else fmt_stat(pair["ratio"], "x"),
            ]
        )
    return rows


def run(
    ws: Workspace,
    mode: Mode,
    notebooks: tuple[str, ...] = ("tiny", "realistic"),
    dag_notebooks: tuple[str, ...] = ("tiny",),
    with_dags: bool = True,
) -> BenchResult:
    """``dag_notebooks``: the dag.test() pairs cost about 30 s each, so by default only the tiny
    notebook's (where the orchestration overhead shows most) runs; ``--dag-notebooks`` adds others."""
    data: dict[str, Any] = {"cli": {}, "dag_test": {}}
    rows: list[list[str]] = []
    goals: list[Goal] = []
    for name in notebooks:
        pair = interleave(
            f"per-run {name}: papermill vs nbr run",
            ("papermill", lambda n=name: papermill_run(ws, n)),
            ("nbr run", lambda n=name: nbr_run(ws, n)),
            mode,
        )
        data["cli"][name] = pair
        rows += _rows(name, pair)
        med = pair["ratio"]["median"]
        goals.append(
            Goal(
                f"nbr run / papermill ({name})",
                f"<= {GOALS[name]:.2f}x",
                f"{med:.3f}x median of pairs",
                med <= GOALS[name],
            )
        )
    tables = [
        table(
            "Per-run cost: bare papermill CLI vs nbr run (wall s and peak RSS MB: median [min-max])",
            ["notebook", "runner", "wall", "tree MB", "orchestrator MB", "kernel MB", "ratio vs A"],
            rows,
        )
    ]
    if with_dags:
        progress("per-run: airflow db migrate (SQLite, once)")
        ws.setup_airflow()
        rows = []
        for name in dag_notebooks:
            conf = NOTEBOOKS[name]
            pair = interleave(
                f"per-run {name}: PapermillOperator+nbconvert vs nbreports DAG (dag.test)",
                (
                    "PapermillOperator+nbconvert",
                    lambda n=name, c=conf: dag_test(ws, "papermill_baseline.py", f"pm_{n}", c),
                ),
                ("nbreports DAG", lambda n=name, c=conf: dag_test(ws, "nbreports_dags.py", n, c)),
                mode,
                key="test_s",
            )
            wall_ratios = [b["wall_s"] / a["wall_s"] for a, b in zip(pair["samples_a"], pair["samples_b"], strict=True)]
            pair["process_wall_ratio"] = series_summary([{"r": r} for r in wall_ratios])["r"]
            data["dag_test"][name] = pair
            for side in ("a", "b"):
                s = series_summary(pair[f"samples_{side}"])
                rows.append(
                    [
                        name,
                        pair[side],
                        fmt_stat(s["test_s"], "s"),
                        fmt_stat(s["wall_s"], "s"),
                        fmt_stat(s["peak_tree_mb"], "", 0),
                        fmt_stat(s["peak_kernel_mb"], "", 0),
                        "1" if side == "a" else fmt_stat(pair["ratio"], "x"),
                        "1" if side == "a" else fmt_stat(pair["process_wall_ratio"], "x"),
                    ]
                )
            med = pair["ratio"]["median"]
            goals.append(
                Goal(
                    f"nbreports DAG / PapermillOperator+nbconvert DAG, dag.test() ({name})",
                    f"<= {DAG_GOAL:.2f}x",
                    f"{med:.3f}x median of pairs",
                    med <= DAG_GOAL,
                )
            )
        tables.append(
            table(
                "Per-run cost in Airflow: dag.test() time, and the whole process (import+parse+test)",
                [
                    "notebook",
                    "DAG",
                    "dag.test()",
                    "process wall",
                    "tree MB",
                    "kernel MB",
                    "ratio dag.test",
                    "ratio process",
                ],
                rows,
            )
        )
    return BenchResult("per_run", "Per-run cost", data, tables, goals)
