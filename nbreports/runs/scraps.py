"""Reading what a notebook glued: scraps (scrapbook), and the small ones that travel in XCom."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import nbformat


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


_GLUE_PREFIX = "application/scrapbook.scrap."  # scrapbook's payload mime type: <prefix><encoder>+json
_PLAIN_ENCODERS = ("json", "text")


def _plain_scraps(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The scraps when all of them are plain JSON or text payloads, read without scrapbook.

    Plain payloads are what ``sb.glue`` writes for numbers, strings, lists and dicts. Importing
    scrapbook imports pandas: about 1 s of CPU per publish. ``None`` when anything else is there:
    scrapbook decodes it.
    """
    scraps: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime, payload in output.get("data", {}).items():
                if mime.startswith("application/papermill.record"):
                    return None
                if not mime.startswith(_GLUE_PREFIX):
                    continue
                encoder = mime[len(_GLUE_PREFIX) :].removesuffix("+json")
                if (
                    encoder not in _PLAIN_ENCODERS
                    or not isinstance(payload, dict)
                    or payload.get("version") != 1
                    or payload.get("encoder") != encoder
                    or not isinstance(payload.get("name"), str)
                ):
                    return None
                data = payload.get("data")
                if encoder == "json" and isinstance(data, str):
                    with contextlib.suppress(ValueError):
                        data = json.loads(data)
                elif encoder == "text" and data is not None and not isinstance(data, str):
                    data = str(data)
                scraps[payload["name"]] = data
    return scraps


def read_scraps(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Scraps glued with ``scrapbook.glue`` (JSON-encodable ones), by name."""
    plain = _plain_scraps(nb)
    if plain is not None:
        return {name: _jsonable(data) for name, data in plain.items() if data is not None}
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
