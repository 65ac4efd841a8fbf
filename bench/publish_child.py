"""Child process of the publish benchmark: version + render + record one big output notebook.

Usage: python -m bench.publish_child OUTPUT_NOTEBOOK   (NBREPORTS_* in the environment)

A run of the ``tiny`` report is prepared (untimed); then the timed part does what a run does after
the kernel has finished: keep the output notebook in the store (the run's immutable version of it),
then ``runner.publish`` (read it back, scraps, HTML, run.json, latest, the database row). The
modules are imported before the clock starts (``import_s`` says how long that took). Afterwards
the steps are timed one by one, for where the time goes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    t0 = time.perf_counter()
    import nbconvert  # noqa: F401
    import nbformat
    import scrapbook  # noqa: F401

    from nbreports.engines import ExecutionResult
    from nbreports.reports.catalog import find_report
    from nbreports.runs.model import Platform
    from nbreports.runs.prepare import prepare
    from nbreports.runs.publish import publish
    from nbreports.runs.render import render_html
    from nbreports.runs.scraps import read_scraps
    from nbreports.settings import Settings
    from nbreports.storage.store import Store

    import_s = time.perf_counter() - t0
    data = Path(sys.argv[1]).read_bytes()
    settings = Settings()
    platform = Platform.from_settings(settings)
    report = find_report(settings.notebooks_dir, "tiny", settings.derived_cache_dir)
    plan = prepare(platform, report, {}, source="bench")

    def key(name: str) -> str:
        return Store.run_key(plan.report, plan.run_id, name)

    t1, c1 = time.perf_counter(), time.process_time()
    platform.store.write_bytes(key("output.ipynb"), data)
    result = ExecutionResult(status="success", duration_s=1.0)
    platform.store.write_json(key("execution.json"), result.to_dict())
    record = publish(platform, plan, result)
    t2, c2 = time.perf_counter(), time.process_time()
    if record["status"] != "success":  # a check that holds under python -O as well
        raise AssertionError(record)

    steps: dict[str, float] = {}
    s = time.perf_counter()
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    steps["read_s"] = time.perf_counter() - s
    s = time.perf_counter()
    read_scraps(nb)
    steps["scraps_s"] = time.perf_counter() - s
    s = time.perf_counter()
    html = render_html(nb, hide_code=plan.hide_code, title=plan.title)
    steps["render_s"] = time.perf_counter() - s
    s = time.perf_counter()
    platform.store.write_bytes(key("report-again.html"), html.encode())
    steps["write_html_s"] = time.perf_counter() - s
    print(
        "\nBENCH "
        + json.dumps(
            {
                "publish_s": round(t2 - t1, 4),
                "publish_cpu_s": round(c2 - c1, 4),
                "import_s": round(import_s, 4),
                "html_mb": round(len(html) / 2**20, 2),
                **{k: round(v, 4) for k, v in steps.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
