"""Builders for throw-away reports used across the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def make_notebook(parameters: str | None, *cells: str, title: str = "A test report") -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    nb.cells.append(new_markdown_cell(f"# {title}"))
    if parameters is not None:
        cell = new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(new_code_cell(source) for source in cells)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index}"
    return nb


def make_report(
    notebooks: Path, name: str, parameters: str | None, *cells: str, spec: dict[str, Any] | None = None
) -> Path:
    folder = notebooks / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_notebook(parameters, *cells), folder / f"{name}.ipynb")
    (folder / "report.yaml").write_text(yaml.safe_dump({"title": name.replace("_", " "), **(spec or {})}))
    return folder
