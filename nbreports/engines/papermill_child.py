"""Child process of the local engine: run papermill, then write a small result file.

Run as ``python -m nbreports.engines.papermill_child job.json``. Papermill saves the output
notebook in a ``finally`` block, so it is on disk whatever happens below.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import nbformat


class _Terminated(Exception):
    """Raised in the main thread on SIGTERM (the run timeout), so papermill can save."""


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise _Terminated("stopped by the run timeout")


def failed_cell_index(output_path: str) -> int | None:
    """The index of the cell that failed or was still running, read from papermill's metadata."""
    try:
        nb = nbformat.read(output_path, as_version=4)
    except (OSError, ValueError):
        return None
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("exception") or meta.get("status") in ("running", "failed"):
            return index
    return None


def run(job: dict[str, Any]) -> dict[str, Any]:
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        papermill.execute_notebook(
            job["input_path"], job["output_path"], kernel_name=job["kernel"], cwd=job["cwd"],
            log_output=True, progress_bar=False, execution_timeout=job["cell_timeout"],
            request_save_on_cell_execute=True,
        )
        return {"status": "success"}
    except PapermillExecutionError as exc:
        return {"status": "failed", "error_type": "cell_error", "failed_cell": exc.cell_index,
                "error": f"cell {exc.cell_index} raised {exc.ename}: {exc.evalue}"}
    except CellTimeoutError as exc:
        cell = failed_cell_index(job["output_path"])
        return {"status": "failed", "error_type": "cell_timeout", "failed_cell": cell,
                "error": f"cell {cell} exceeded the cell timeout of {job['cell_timeout']}s ({exc})"}
    except DeadKernelError as exc:
        cell = failed_cell_index(job["output_path"])
        return {"status": "failed", "error_type": "kernel_died", "failed_cell": cell,
                "error": f"the kernel died while running cell {cell}: {exc}"}
    except _Terminated:
        return {"status": "failed", "error_type": "run_timeout",
                "failed_cell": failed_cell_index(job["output_path"]), "error": "stopped by the run timeout"}


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = run(job)
    except Exception as exc:  # anything else still leaves a result the parent can read
        result = {"status": "failed", "error_type": "engine_error", "error": f"{type(exc).__name__}: {exc}"}
    Path(job["result_path"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
