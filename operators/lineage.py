"""Which upstream runs triggered a report's DAG run, from the Asset events Airflow hands its tasks.

A report scheduled on other reports (``triggered_by`` in its spec: the upstream reports' Assets, see
``operators.factory``) runs when their Asset events arrive, and each event's ``extra`` names the
upstream run (``PublishReportOperator``). Prepare records, per upstream report, the run whose event
triggered this one (``RunPlan.upstream_runs``), and the kernel reads that run's scraps
(``nbreports.kernel.upstream``) rather than whatever the upstream's ``latest`` says by then — two
quick upstream runs can no longer mix.

When one DAG run consumed several events of the same upstream (they arrived before the scheduler
created it), the newest is the one recorded: the run stands for the upstream's newest state it was
told about. Events of other assets, or without a well-formed successful run, name no upstream run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nbreports.errors import UnsafePathError
from nbreports.identifiers import check_report_name, check_run_id

logger = logging.getLogger(__name__)

ASSET_PREFIX = "nbreports."  # report Assets are named nbreports.<report> (operators.report.report_asset)


def _events(context: Mapping[str, Any]) -> Mapping[Any, Any]:
    return context.get("triggering_asset_events") or {}


def upstream_events(context: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Asset events that triggered this run, as part of the run cache key (None when none did)."""
    found = {
        str(getattr(asset, "name", asset)): sorted(f"{e.source_dag_id}/{e.source_run_id}/{e.timestamp}" for e in evs)
        for asset, evs in _events(context).items()
    }
    return {"assets": found} if found else None


def _event_run(report: str, event: Any) -> tuple[datetime, str] | None:
    """(timestamp, run id) of a report event naming a successful run; None (logged) for anything else."""
    extra = getattr(event, "extra", None) or {}
    run_id: Any = extra.get("run_id")
    if extra.get("status") != "success":
        return None
    try:
        return event.timestamp, check_run_id(run_id)
    except UnsafePathError as exc:
        logger.warning("ignoring an Asset event of report %s: %s", report, exc)
        return None


def upstream_runs(context: Mapping[str, Any]) -> dict[str, str] | None:
    """Upstream report → the run whose Asset event triggered this DAG run; None for a run no report event triggered."""
    runs: dict[str, tuple[datetime, str]] = {}
    for asset, evs in _events(context).items():
        name = str(getattr(asset, "name", asset))
        if not name.startswith(ASSET_PREFIX):
            continue
        report = name.removeprefix(ASSET_PREFIX)
        try:
            check_report_name(report)
        except UnsafePathError:
            continue
        for event in evs:
            found = _event_run(report, event)
            if found and (report not in runs or found > runs[report]):
                runs[report] = found
    return {report: run_id for report, (_, run_id) in sorted(runs.items())} or None
