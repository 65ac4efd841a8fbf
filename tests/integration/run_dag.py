"""Child process: ``dag.test()`` one report DAG and print what happened as JSON on the last line.

Usage: python run_dag.py DAG_ID '{"conf": "json"}'

``RUN_DAG_RUN_AFTER`` (ISO) fixes when the run may start, so its run id (``manual__<date>``) is known beforehand.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

from airflow.dag_processing.dagbag import DagBag
from airflow.models.asset import AssetEvent
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select


def main() -> None:
    dag_id, conf = sys.argv[1], json.loads(sys.argv[2])
    bag = DagBag()
    dag = bag.dags[dag_id]
    run_after = os.environ.get("RUN_DAG_RUN_AFTER")
    dr = dag.test(run_conf=conf, **({"run_after": datetime.fromisoformat(run_after)} if run_after else {}))
    out: dict = {
        "state": str(dr.state),
        "run_id": dr.run_id,
        "import_errors": bag.import_errors,
        "tasks": {ti.task_id: str(ti.state) for ti in dr.get_task_instances()},
        "xcom": {},
        "asset_events": [],
    }
    with create_session() as session:
        for task_id in out["tasks"]:
            row = session.scalars(
                XComModel.get_many(run_id=dr.run_id, dag_ids=dag_id, task_ids=task_id, key="return_value")
            ).first()
            out["xcom"][task_id] = XComModel.deserialize_value(row) if row else None
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == dr.run_id))
        out["asset_events"] = [{"extra": e.extra, "source_dag_id": e.source_dag_id} for e in events]
    print("\n" + json.dumps(out, default=str))


if __name__ == "__main__":
    main()
