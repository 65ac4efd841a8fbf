"""A throw-away workspace for the benchmarks: the two notebooks, an nbreports home, the environment.

* ``tiny``: two parameters, one print; its first code cell stamps ``time.time()`` into
  ``$NBR_BENCH_STAMP`` when set (the start-latency benchmark reads it).
* ``realistic``: ``notebooks/sales_summary`` (pandas, a matplotlib chart, scraps), copied with its
  data and its run cache switched off, so every run executes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from bench.harness import REPO, VENV_BIN
from nbreports.reports.yaml_keys import load_yaml

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
STAMP_CELL = (
    "import os, time\n"
    'if os.environ.get("NBR_BENCH_STAMP"):\n'
    '    with open(os.environ["NBR_BENCH_STAMP"], "a") as f:\n'
    '        f.write(f"{time.time()}\\n")'
)
TINY_PARAMS = {"name": "bench", "count": 3}
REALISTIC_PARAMS = {"region": "US", "start_date": "2024-01-01", "end_date": "2024-06-30"}


def tiny_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    params = new_code_cell('name = "world"  # Who to greet\ncount: int = 2  # How many times')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        new_markdown_cell("# Tiny\n\nTwo parameters and a print."),
        new_code_cell(STAMP_CELL),
        params,
        new_code_cell('print(", ".join([f"hello {name}"] * count))'),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    return nb


def write_tiny(notebooks: Path, name: str = "tiny") -> Path:
    folder = notebooks / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(tiny_notebook(), folder / f"{name}.ipynb")
    (folder / "report.yaml").write_text(yaml.safe_dump({"title": f"Tiny {name}", "owner": "bench", "team": "bench"}))
    return folder


def write_realistic(notebooks: Path, name: str = "realistic") -> Path:
    source = REPO / "notebooks" / "sales_summary"
    folder = notebooks / name
    shutil.copytree(source / "data", folder / "data", dirs_exist_ok=True)
    shutil.copy(source / "sales_summary.ipynb", folder / f"{name}.ipynb")
    spec = load_yaml((source / "report.yaml").read_text())  # as specs are read: `on:` stays a key
    spec.pop("cache", None)  # every run must execute
    spec.pop("schedule", None)
    spec["title"] = "Realistic (sales summary)"
    (folder / "report.yaml").write_text(yaml.safe_dump(spec))
    return folder


@dataclass
class Workspace:
    root: Path

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def home(self) -> Path:
        return self.root / "nbreports-home"

    @property
    def tmp(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(exist_ok=True)
        return path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NBREPORTS_", "AIRFLOW_", "AIRFLOW__"))}
        env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",  # the kernelspec runs `python`
                "NBREPORTS_HOME": str(self.home),
                "NBREPORTS_NOTEBOOKS_DIR": str(self.notebooks),
                "PYTHONPATH": str(REPO),
                "MPLBACKEND": "Agg",
                "TMPDIR": str(self.tmp),
            }
        )
        env.update(extra)
        return env

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def dags(self) -> Path:
        return self.root / "dags"

    def airflow_env(self, **extra: str) -> dict[str, str]:
        """Airflow on a SQLite metadata DB in this workspace, the nbreports DAG file and the peer's."""
        return self.env(
            **{
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.airflow_home / 'airflow.db'}",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                "NBR_BENCH_NOTEBOOKS": str(self.notebooks),
                "NBR_BENCH_OUT": str(self.root / "peer-out"),
                **extra,
            }
        )

    def setup_airflow(self) -> None:
        """``airflow db migrate`` once, and a DAGs folder with the nbreports DAG file and the peer's."""
        if (self.airflow_home / "airflow.db").exists():
            return
        self.airflow_home.mkdir(exist_ok=True)
        self.dags.mkdir(exist_ok=True)
        (self.root / "peer-out").mkdir(exist_ok=True)
        (self.dags / "nbreports_dags.py").symlink_to(REPO / "dags" / "nbreports_dags.py")
        (self.dags / "papermill_baseline.py").symlink_to(REPO / "bench" / "baseline_dag.py")
        subprocess.run(
            [str(VENV_BIN / "airflow"), "db", "migrate"],
            env=self.airflow_env(),
            check=True,
            capture_output=True,
            timeout=600,
            cwd=self.root,
        )

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


#: The teams file beside the workspace's notebooks (config/teams.yaml): tiny is the bench team's,
#: realistic keeps sales_summary's team and grants.
TEAMS = {
    "users": {"carol": {}},
    "teams": {"bench": {"folders": ["*"]}, "analytics": {"folders": ["realistic"]}, "data-eng": {"folders": []}},
}


def create(prefix: str = "nbr-bench-") -> Workspace:
    ws = Workspace(Path(tempfile.mkdtemp(prefix=prefix)))
    ws.notebooks.mkdir()
    ws.home.mkdir()
    (ws.root / "config").mkdir()
    (ws.root / "config" / "teams.yaml").write_text(yaml.safe_dump(TEAMS))
    write_tiny(ws.notebooks)
    write_realistic(ws.notebooks)
    return ws
