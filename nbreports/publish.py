"""Turning an executed notebook into what people read: HTML (nbconvert) and scraps (scrapbook)."""

from __future__ import annotations

import json
import math
from typing import Any

import nbformat


def render_html(nb: nbformat.NotebookNode, *, hide_code: bool = False, title: str | None = None) -> str:
    """The notebook as one self-contained HTML page; code cells hidden when ``hide_code``."""
    import warnings

    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=hide_code, exclude_input_prompt=hide_code,
                            exclude_output_prompt=hide_code)
    resources = {"metadata": {"name": title}} if title else None
    with warnings.catch_warnings():  # scrap outputs have no visual form: that is expected
        warnings.filterwarnings("ignore", message=".*is not able to be represented", category=UserWarning)
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    return str(body)


def _jsonable(value: Any) -> Any:
    """Scrap data as plain JSON: NaN and infinities become None, unknown objects their repr."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def read_scraps(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Scraps glued with ``scrapbook.glue`` (JSON-encodable ones), by name."""
    from scrapbook.models import Notebook

    scraps = Notebook(nb).scraps
    return {name: _jsonable(scrap.data) for name, scrap in scraps.items() if scrap.data is not None}


def small_scraps(scraps: dict[str, Any], limit: int) -> dict[str, Any]:
    """The scraps whose JSON fits in ``limit`` bytes together, for XCom and Asset events."""
    kept, size = {}, 2
    for name, data in scraps.items():
        item = len(json.dumps({name: data}))
        if size + item <= limit:
            kept[name] = data
            size += item
    return kept
