"""One report run in one process — prepare, execute, publish — as ``nbr run`` and ``NotebookReportOperator`` do it.

Each step takes and returns plain data (``RunPlan``, ``ExecutionResult``), so Airflow can also run
them as separate tasks passing XComs (see ``operators/report.py``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from nbreports.engines import LogSink, get_engine
from nbreports.reports.catalog import Report
from nbreports.runs.execute import execute
from nbreports.runs.failures import raise_for_result
from nbreports.runs.model import Platform
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.render import warm_html_renderer

logger = logging.getLogger(__name__)


def run_report(
    platform: Platform, report: Report, values: dict[str, Any], log: LogSink | None = None, **context: Any
) -> dict[str, Any]:
    """Prepare, execute and publish one run. Raises ``ExecutionError`` after publishing a failure.

    The engine is pre-started before prepare (unless the report is cached and may need no engine),
    and nbconvert warms up in a thread while the notebook runs, so their start-up overlaps real work.
    """
    log = log or logger.info
    engine = get_engine(report.spec.executor)
    if context.get("force") or not report.spec.cache.ttl:  # a cached report may need no engine at all
        engine.prestart()  # the engine boots while the run is prepared
    try:
        plan = prepare(platform, report, values, **context)
        if not plan.cached_from:  # nbconvert's import and templates load while the notebook runs
            threading.Thread(target=warm_html_renderer, args=(plan.hide_code,), daemon=True).start()
        result = execute(platform, plan, log, engine=engine, notebooks_dir=report.folder.parent)
    finally:
        engine.close()  # a pre-started engine that got no job (invalid parameters, a cache hit)
    record = publish(platform, plan, result)
    raise_for_result(record)
    return record
