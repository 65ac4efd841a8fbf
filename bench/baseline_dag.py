"""The peer the nbreports DAGs are compared with: Airflow's own ``PapermillOperator`` followed by an
nbconvert HTML step (a ``BashOperator``), one airflow DAG per benchmark notebook.

Read by the per-run benchmark through ``dag.test()``; ``NBR_BENCH_NOTEBOOKS`` is the workspace's
notebooks folder and ``NBR_BENCH_OUT`` where the executed notebooks and HTML go.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from airflow.providers.papermill.operators.papermill import PapermillOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

NOTEBOOKS = Path(os.environ.get("NBR_BENCH_NOTEBOOKS", "notebooks"))
OUT = Path(os.environ.get("NBR_BENCH_OUT", tempfile.gettempdir()))
JUPYTER = Path(sys.executable).parent / "jupyter"

PARAMS = {
    "tiny": {"name": Param("world", type="string"), "count": Param(2, type="integer")},
    "realistic": {
        "region": Param("EU", type="string"),
        "start_date": Param("2024-01-01", type="string"),
        "end_date": Param("2024-03-31", type="string"),
    },
}

for name, params in PARAMS.items():
    with DAG(
        dag_id=f"pm_{name}",
        schedule=None,
        start_date=datetime(2024, 1, 1),
        params=params,
        render_template_as_native_obj=True,
        tags=["bench"],
    ) as dag:
        output = str(OUT / f"{name}-{{{{ run_id | replace(':', '_') | replace('+', '_') }}}}.ipynb")
        run = PapermillOperator(
            task_id="run",
            input_nb=str(NOTEBOOKS / name / f"{name}.ipynb"),
            output_nb=output,
            parameters={key: f"{{{{ params.{key} }}}}" for key in params},
            kernel_name="python3",
            log_output=True,
        )
        html = BashOperator(
            task_id="html", bash_command=f"{JUPYTER} nbconvert --to html --log-level WARN --output-dir {OUT} '{output}'"
        )
        run >> html
    globals()[dag.dag_id] = dag
