"""Benchmark 5, publish: version + render + record of an output notebook of 1 MB and 20 MB.

The notebooks look like executed reports: per section a chart (a PNG, incompressible like a real
one), an HTML table, a text stream and a scrap. Each measurement is a fresh process (as a publish
task is); the sizes are interleaved (1 MB, 20 MB, 1 MB, ...).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from bench.harness import (
    MB,
    VENV_BIN,
    BenchResult,
    Goal,
    Mode,
    Sample,
    fmt_stat,
    interleave,
    measure_cmd,
    series_summary,
    table,
)
from bench.workspace import Workspace, tiny_notebook

GOAL_S = 2.0
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def big_notebook(size_mb: float) -> nbformat.NotebookNode:
    nb = tiny_notebook()
    target = int(size_mb * MB)
    section = 0
    while len(nbformat.writes(nb)) < target:
        section += 1
        nb.cells.append(new_markdown_cell(f"## Section {section}\n\nRevenue by month and the top products."))
        png = base64.b64encode(PNG_HEADER + os.urandom(150_000)).decode()
        rows = "".join(f"<tr><td>product {i}</td><td>{i * 17.5:.2f}</td><td>{i * 3}</td></tr>" for i in range(400))
        cell = new_code_cell(f"chart({section})\ntable({section})", execution_count=section)
        cell.outputs = [
            new_output("stream", name="stdout", text="".join(f"row {i}: ok\n" for i in range(200))),
            new_output("display_data", data={"image/png": png, "text/plain": "<Figure size 800x350>"}),
            new_output(
                "execute_result",
                execution_count=section,
                data={
                    "text/html": f"<table><thead><tr><th>product</th><th>revenue</th><th>units</th>"
                    f"</tr></thead><tbody>{rows}</tbody></table>",
                    "text/plain": "product revenue units\n" * 50,
                },
            ),
            new_output(
                "display_data",
                metadata={"scrapbook": {"name": f"total_{section}", "data": True, "display": False}},
                data={
                    "application/scrapbook.scrap.json+json": {
                        "name": f"total_{section}",
                        "data": section * 1000.5,
                        "encoder": "json",
                        "version": 1,
                    }
                },
            ),
        ]
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    return nb


def publish_once(ws: Workspace, path: Path) -> Sample:
    res = measure_cmd(
        [str(VENV_BIN / "python"), "-m", "bench.publish_child", str(path)], env=ws.env(), cwd=ws.root, workdir=ws.tmp
    ).require_ok("publish")
    line = next(ln for ln in reversed(res.output.splitlines()) if ln.startswith("BENCH "))
    child: dict[str, Any] = json.loads(line[6:])
    return {**child, "process_wall_s": round(res.wall_s, 4), "peak_tree_mb": res.memory["peak_tree_mb"]}


def run(ws: Workspace, mode: Mode, sizes: tuple[float, float] | None = None) -> BenchResult:
    sizes = sizes or ((1, 2) if mode.quick else (1, 20))
    paths = {}
    for size in sizes:
        path = ws.tmp / f"output-{size:g}mb.ipynb"
        nbformat.write(big_notebook(size), path)
        paths[size] = path
    small, large = sizes
    pair = interleave(
        f"publish {small:g} MB vs {large:g} MB",
        (f"{small:g} MB", lambda: publish_once(ws, paths[small])),
        (f"{large:g} MB", lambda: publish_once(ws, paths[large])),
        mode,
        key="publish_s",
    )
    rows = []
    for side, size in (("a", small), ("b", large)):
        s = series_summary(pair[f"samples_{side}"])
        pair[f"summary_{side}"] = s
        actual = paths[size].stat().st_size / MB
        rows.append(
            [
                f"{actual:.1f} MB",
                fmt_stat(s["publish_s"], "s"),
                fmt_stat(s["publish_cpu_s"], "s"),
                fmt_stat(s["read_s"], "s"),
                fmt_stat(s["scraps_s"], "s"),
                fmt_stat(s["render_s"], "s"),
                fmt_stat(s["import_s"], "s"),
                fmt_stat(s["peak_tree_mb"], "", 0),
            ]
        )
    tables = [
        table(
            "Publish: keep output + publish() (HTML, scraps, run.json, latest, DB row), fresh process; "
            "then the steps alone (median [min-max])",
            [
                "notebook",
                "publish wall",
                "publish CPU",
                "nbformat read",
                "scraps",
                "render HTML",
                "imports (untimed)",
                "tree MB",
            ],
            rows,
        )
    ]
    med = pair["summary_b"]["publish_s"]["median"]
    cpu = pair["summary_b"]["publish_cpu_s"]["median"]
    goals = [
        Goal(
            f"publish of a {large:g} MB output notebook",
            f"<= {GOAL_S} s",
            f"{cpu:.2f} s CPU, {med:.2f} s wall (median; judged on CPU)",
            cpu <= GOAL_S if large >= 20 else None,
        )
    ]
    return BenchResult("publish", "Publish", {"sizes_mb": list(sizes), "pair": pair}, tables, goals)
