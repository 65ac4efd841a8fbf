"""Benchmark 2, DAG parsing: the DAG factory over 10, 100 and 1,000 generated reports.

Each parse is a fresh process that builds a ``DagBag`` of ``dags/nbreports_dags.py`` (what the
dag-processor does per file), then serializes the DAGs. *Cold*: the derived-facts cache is empty
(first parse); *warm*: re-parse with nothing changed. Cold and warm are interleaved.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat

from bench.harness import (
    REPO,
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
from bench.workspace import Workspace, tiny_notebook

DAG_FILE = REPO / "dags" / "nbreports_dags.py"
WARM_GOAL_MS, COLD_GOAL_MS, LINEAR_TOLERANCE = 2.0, 20.0, 1.5


def generate(root: Path, count: int) -> Path:
    """``count`` report folders, each a distinct tiny notebook with its spec."""
    notebooks = root / "notebooks"
    if notebooks.is_dir():
        return notebooks
    notebooks.mkdir(parents=True)
    template = tiny_notebook()
    teams = {f"team{t}": {"roles": [f"Team{t}"], "folders": [f"team{t}_*"]} for t in range(7)}
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "teams.yaml").write_text(json.dumps({"teams": teams}))  # JSON is YAML
    for i in range(count):
        name = f"team{i % 7}_report_{i:04d}"
        folder = notebooks / name
        folder.mkdir()
        template.cells[0].source = f"# Report {i}\n\nGenerated for the parsing benchmark."
        nbformat.write(template, folder / f"{name}.ipynb")
        (folder / "report.yaml").write_text(
            f'title: Report {i}\nowner: bench\nteam: team{i % 7}\nschedule: "{i % 60} 6 * * *"\n'
            f"timezone: Europe/Berlin\ntags: [generated]\n"
        )
    return notebooks


def parse_env(root: Path, ws: Workspace, cold: bool) -> dict[str, str]:
    """The environment of a parse child over ``root/notebooks``; ``cold`` empties the derived-facts cache first."""
    home = root / "home"
    if cold:
        shutil.rmtree(home, ignore_errors=True)
    return ws.env(
        NBREPORTS_HOME=str(home),
        NBREPORTS_NOTEBOOKS_DIR=str(root / "notebooks"),
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{root / 'airflow' / 'unused.db'}",
    )


def parse(root: Path, ws: Workspace, cold: bool, count: int) -> Sample:
    env = parse_env(root, ws, cold)
    res = measure_cmd(
        [str(VENV_BIN / "python"), "-m", "bench.parse_child", str(DAG_FILE)], env=env, cwd=REPO, workdir=ws.tmp
    ).require_ok("parse")
    line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
    child: dict[str, Any] = json.loads(line[6:])
    if child["dags"] != count or child["import_errors"]:
        raise RuntimeError(f"expected {count} DAGs, got {child}\n{res.output[-3000:]}")
    return {
        "parse_s": child["parse_s"],
        "parse_cpu_s": child["parse_cpu_s"],
        "per_report_ms": round(child["parse_s"] * 1000 / count, 3),
        "per_report_cpu_ms": round(child["parse_cpu_s"] * 1000 / count, 3),
        "serialize_s": child["serialize_s"],
        "import_s": child["import_s"],
        "wall_s": round(res.wall_s, 4),
        "peak_tree_mb": res.memory["peak_tree_mb"],
    }


def run(ws: Workspace, mode: Mode, sizes: tuple[int, ...] | None = None) -> BenchResult:
    sizes = sizes or ((10,) if mode.quick else (10, 100, 1000))
    data: dict[str, Any] = {"sizes": {}}
    rows = []
    for count in sizes:
        root = ws.root / f"parse-{count}"
        progress(f"parse: generating {count} reports")
        generate(root, count)
        pair = interleave(
            f"parse {count} reports: cold vs warm",
            ("cold", lambda r=root, c=count: parse(r, ws, True, c)),
            ("warm", lambda r=root, c=count: parse(r, ws, False, c)),
            mode,
            key="parse_cpu_s",
        )
        data["sizes"][str(count)] = pair
        for side in ("a", "b"):
            s = series_summary(pair[f"samples_{side}"])
            pair[f"summary_{side}"] = s
            rows.append(
                [
                    count,
                    pair[side],
                    fmt_stat(s["parse_s"], "s"),
                    fmt_stat(s["parse_cpu_s"], "s"),
                    fmt_stat(s["per_report_cpu_ms"], "", 2),
                    fmt_stat(s["serialize_s"], "s"),
                    fmt_stat(s["import_s"], "s"),
                    fmt_stat(s["peak_tree_mb"], "", 0),
                    "1" if side == "a" else fmt_stat(pair["ratio"], "x"),
                ]
            )
    tables = [
        table(
            "DAG parsing: DagBag of dags/nbreports_dags.py in a fresh process (median [min-max]; "
            "goals judged on CPU time, which a loaded machine does not inflate)",
            [
                "reports",
                "cache",
                "parse wall",
                "parse CPU",
                "CPU ms/report",
                "serialize",
                "airflow import",
                "tree MB",
                "warm/cold",
            ],
            rows,
        )
    ]
    # growth: marginal cost per added report between consecutive sizes (median parse times)
    growth = []
    for kind, side in (("cold", "a"), ("warm", "b")):
        meds = [(c, data["sizes"][str(c)][f"summary_{side}"]["parse_cpu_s"]["median"]) for c in sizes]
        slopes = [((t2 - t1) * 1000 / (c2 - c1)) for (c1, t1), (c2, t2) in itertools.pairwise(meds)]
        data[f"growth_ms_per_report_{kind}"] = [round(s, 3) for s in slopes]
        growth.append(
            [
                kind,
                ", ".join(
                    f"{c1}->{c2}: {s:.2f} ms" for (c1, _), (c2, _), s in zip(meds, meds[1:], slopes, strict=False)
                )
                or "-",
            ]
        )
    tables.append(table("DAG parsing: growth per added report (CPU, from medians)", ["cache", "marginal cost"], growth))
    big = str(max(sizes))
    warm_ms = data["sizes"][big]["summary_b"]["per_report_cpu_ms"]["median"]
    cold_ms = data["sizes"][big]["summary_a"]["per_report_cpu_ms"]["median"]
    slopes = data["growth_ms_per_report_warm"]
    linear = len(slopes) < 2 or max(slopes) <= LINEAR_TOLERANCE * max(min(slopes), 0.05)
    full = int(big) >= 1000
    goals = [
        Goal(
            "DAG factory warm re-parse per report at 1,000 reports, growing linearly",
            f"<= {WARM_GOAL_MS} ms/report, marginal slopes within {LINEAR_TOLERANCE}x",
            f"{warm_ms:.2f} ms/report at {big}; slopes {slopes} ms",
            (warm_ms <= WARM_GOAL_MS and linear) if full else None,
        ),
        Goal(
            "DAG factory cold parse per report at 1,000 reports",
            f"<= {COLD_GOAL_MS} ms/report",
            f"{cold_ms:.2f} ms/report at {big}",
            cold_ms <= COLD_GOAL_MS if full else None,
        ),
    ]
    return BenchResult("parse", "DAG parsing", data, tables, goals)
