"""Child process: parse the DAGs folder like the dag-processor and print DAGs, params and import errors."""

from __future__ import annotations

import json

from airflow.dag_processing.dagbag import DagBag


def main() -> None:
    bag = DagBag()
    dags = {}
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "params": {name: dag.params.get_param(name).schema for name in dag.params},
            "defaults": {name: dag.params.get_param(name).value for name in dag.params},
            "descriptions": {name: dag.params.get_param(name).description for name in dag.params},
            "tasks": [t.task_id for t in dag.tasks],
            "doc_md": dag.doc_md,
            "tags": sorted(dag.tags),
            "schedule": str(getattr(dag, "timetable", None).__class__.__name__),
            "catchup": dag.catchup,
        }
    print("\n" + json.dumps({"dags": dags, "import_errors": bag.import_errors}, default=str))


if __name__ == "__main__":
    main()
