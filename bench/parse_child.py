"""Child process of the DAG-parsing benchmark: parse the nbreports DAG file as the dag-processor does.

Usage: python -m bench.parse_child DAG_FILE  (the environment names the notebooks folder and home)

Prints one ``BENCH {json}`` line: Airflow's import time, the DagBag parse of the file, the number of
DAGs and import errors, and the time to serialize every DAG (the dag-processor's next step).
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    t0 = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    t1, c1 = time.perf_counter(), time.process_time()
    bag = DagBag(dag_folder=sys.argv[1])
    t2, c2 = time.perf_counter(), time.process_time()
    for dag in bag.dags.values():
        DagSerialization.to_dict(dag)
    t3 = time.perf_counter()
    print(
        "\nBENCH "
        + json.dumps(
            {
                "import_s": round(t1 - t0, 4),
                "parse_s": round(t2 - t1, 4),
                "parse_cpu_s": round(c2 - c1, 4),
                "serialize_s": round(t3 - t2, 4),
                "dags": len(bag.dags),
                "import_errors": len(bag.import_errors),
            }
        )
    )


if __name__ == "__main__":
    main()
