"""Child process: ``dag.test()`` one DAG as if the scheduler had started it for some Asset events.

Usage: python run_dag_triggered.py DAG_ID '{"conf": "json"}' '["source dag run id", ...]'

The scheduler creates an Asset-triggered DAG run with the queued events as its
``consumed_asset_events``; ``dag.test()`` creates a manual run. This wraps the helper ``dag.test()``
creates its run with, and gives that run the (real, stored) events of the given source DAG runs,
so the tasks see them as ``triggering_asset_events``, exactly as in a scheduled run. The rest —
and the JSON printed on the last line — is ``run_dag.py``'s.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import airflow.models.dagrun as dagrun_module
import run_dag  # the sibling script: a script's folder is on its sys.path
from airflow.models.asset import AssetEvent
from sqlalchemy import select


def _with_events(source_run_ids: list[str]) -> Any:
    original = dagrun_module.get_or_create_dagrun

    def get_or_create_dagrun(**kwargs: Any) -> Any:
        dr = original(**kwargs)
        session = kwargs["session"]
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id.in_(source_run_ids))).all()
        assert len(events) == len(source_run_ids), f"expected one event per source run, found {len(events)}"
        dr.consumed_asset_events.extend(events)
        session.commit()
        return dr

    return get_or_create_dagrun


def main() -> None:
    dag_id, conf, sources = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    dagrun_module.get_or_create_dagrun = _with_events(sources)
    sys.argv = [sys.argv[0], dag_id, conf]
    run_dag.main()


if __name__ == "__main__":
    main()
