"""Child process of the per-run benchmark: parse one DAG file, ``dag.test()`` one DAG, print JSON.

Usage: python -m bench.dagtest_child DAG_FILE DAG_ID '{"conf": "json"}'
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    t0 = time.perf_counter()
    dag_file, dag_id, conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    from airflow.dag_processing.dagbag import DagBag

    t1 = time.perf_counter()
    bag = DagBag(dag_folder=dag_file)
    if dag_id not in bag.dags:
        raise SystemExit(f"{dag_id} not in {dag_file}: {bag.import_errors}")
    t2 = time.perf_counter()
    dr = bag.dags[dag_id].test(run_conf=conf)
    t3 = time.perf_counter()
    states = {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}
    print(
        "\nBENCH "
        + json.dumps(
            {
                "state": str(dr.state),
                "tasks": states,
                "import_s": round(t1 - t0, 3),
                "parse_s": round(t2 - t1, 3),
                "test_s": round(t3 - t2, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
