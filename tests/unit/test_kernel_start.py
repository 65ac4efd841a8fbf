"""A kernel that dies before answering kernel_info (two kernels started at once took one port) is started again.

Only the papermill call is replaced here, by one that fails like jupyter_client does; no cell
has run at that point, which is what makes starting again safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import papermill
import pytest

from nbreports.engines import papermill_child


def job(tmp_path: Path) -> dict[str, Any]:
    return {
        "env": {},
        "input_path": str(tmp_path / "in.ipynb"),
        "output_path": str(tmp_path / "out.ipynb"),
        "kernel": "python3",
        "cwd": str(tmp_path),
        "cell_timeout": 10,
    }


def failing(times: int, message: str = papermill_child.KERNEL_START_FAILED) -> Any:
    calls: list[int] = []

    def execute_notebook(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError(message)

    execute_notebook.calls = calls  # type: ignore[attr-defined]
    return execute_notebook


def test_a_kernel_that_dies_while_starting_is_started_again(tmp_path, monkeypatch):
    fake = failing(times=2)
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    assert papermill_child.run(job(tmp_path))["status"] == "success"
    assert len(fake.calls) == 3


def test_it_is_started_at_most_three_times(tmp_path, monkeypatch):
    fake = failing(times=5)
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    with pytest.raises(RuntimeError, match="kernel_info"):
        papermill_child.run(job(tmp_path))
    assert len(fake.calls) == papermill_child.KERNEL_STARTS


def test_another_error_is_not_retried(tmp_path, monkeypatch):
    fake = failing(times=1, message="something else")
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    with pytest.raises(RuntimeError, match="something else"):
        papermill_child.run(job(tmp_path))
    assert len(fake.calls) == 1
