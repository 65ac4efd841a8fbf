"""Child process of the capacity plan's DAG-parse figures: ``build_dags`` over one notebooks folder.

Usage: python -m bench.capacity_parse_child NOTEBOOKS_DIR  (``NBREPORTS_HOME`` names the derived cache)

Prints one ``BENCH {json}`` line: the import of Airflow and the factory, ``build_dags`` (wall and
CPU), a second ``build_dags`` in the same process, and the serialized size of each report's DAG
(``DagSerialization.to_dict`` as JSON, what ``serialized_dag.data`` holds, and zlib-compressed, what
``[core] compress_serialized_dags`` would store).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import zlib
from pathlib import Path


def main() -> None:
    t0 = time.perf_counter()
    from airflow.serialization.serialized_objects import DagSerialization

    from nbreports.settings import Settings
    from operators.factory import build_dags

    t1, c1 = time.perf_counter(), time.process_time()
    dags = build_dags(Settings(notebooks_dir=Path(sys.argv[1])))
    t2, c2 = time.perf_counter(), time.process_time()
    again = build_dags(Settings(notebooks_dir=Path(sys.argv[1])))
    t3, c3 = time.perf_counter(), time.process_time()
    sizes, compressed = [], []
    for dag_id, dag in dags.items():
        if dag_id == "nbreports_invalid_reports":
            continue
        data = json.dumps(DagSerialization.to_dict(dag), sort_keys=True).encode()
        sizes.append(len(data))
        compressed.append(len(zlib.compress(data)))
    t4, c4 = time.perf_counter(), time.process_time()
    print(
        "\nBENCH "
        + json.dumps(
            {
                "import_s": round(t1 - t0, 4),
                "build_s": round(t2 - t1, 4),
                "build_cpu_s": round(c2 - c1, 4),
                "rebuild_same_process_s": round(t3 - t2, 4),
                "rebuild_same_process_cpu_s": round(c3 - c2, 4),
                "serialize_s": round(t4 - t3, 4),
                "serialize_cpu_s": round(c4 - c3, 4),
                "dags": len(dags),
                "same_again": len(again) == len(dags),
                "invalid": "nbreports_invalid_reports" in dags,
                "serialized_bytes_mean": round(statistics.mean(sizes)) if sizes else 0,
                "serialized_bytes_max": max(sizes, default=0),
                "serialized_zlib_bytes_mean": round(statistics.mean(compressed)) if compressed else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
