"""What gets indexed, cut into documents: a version's cells, a run's parameters, scraps, outputs and error.

Pure functions of a notebook and a run's record (no I/O), so what a search can find is tested
without a database. Every document's text is cut at ``max_chars`` (``search_max_chars``): a cell
printing a megabyte of log is found by its first part only. A run is indexed from its published
(masked) output notebook, so no secret reaches the index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nbreports.search.query import Kind

_CELL_KINDS = {"code": Kind.CODE, "markdown": Kind.MARKDOWN, "raw": Kind.RAW}
_TEXT_MIME = ("text/plain", "text/markdown")


@dataclass(frozen=True)
class Document:
    """One searchable piece: ``key`` is unique within its version or run, and says what it is."""

    kind: Kind
    key: str
    body: str
    cell: int | None = None
    cell_id: str | None = None
    name: str | None = None


def _text(value: Any) -> str:
    """Text as nbformat keeps it: multi-line text either as a string or as a list of lines."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _cut(parts: Iterable[str], max_chars: int) -> str:
    return "\n".join(p for p in parts if p)[:max_chars]


def cell_key(kind: Kind, source: str) -> str:
    """A cell's content key: the same cell in many versions of a report is indexed once."""
    return "cell:" + hashlib.sha256(f"{kind}\0{source}".encode()).hexdigest()[:32]


def version_documents(notebook: Mapping[str, Any], max_chars: int) -> list[Document]:
    """A notebook version's cells that have text, each keyed by its content."""
    docs: dict[str, Document] = {}
    for index, cell in enumerate(notebook.get("cells", [])):
        kind = _CELL_KINDS.get(cell.get("cell_type", ""))
        source = _text(cell.get("source"))
        if kind is None or not source.strip():
            continue
        key = cell_key(kind, source)
        # a cell repeated within one version is found once, at its first place
        docs.setdefault(key, Document(kind, key, source[:max_chars], index, cell.get("id")))
    return list(docs.values())


def _output_text(output: Mapping[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text"))
    if kind == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data") or {}
    return "\n".join(_text(data[mime]) for mime in _TEXT_MIME if mime in data)


def _scrap_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def run_documents(
    record: Mapping[str, Any], notebook: Mapping[str, Any] | None, scraps: Mapping[str, Any], max_chars: int
) -> list[Document]:
    """A run's parameters, scraps, each cell's text outputs and, for a failed run, its error."""
    docs: list[Document] = []
    parameters = record.get("parameters") or {}
    if parameters:
        lines = (f"{name} = {_scrap_text(value)}" for name, value in sorted(parameters.items()))
        docs.append(Document(Kind.PARAMETER, "parameters", _cut(lines, max_chars)))
    for name, value in sorted(scraps.items()):
        docs.append(Document(Kind.SCRAP, f"scrap:{name}", _cut((name, _scrap_text(value)), max_chars), name=name))
    for index, cell in enumerate((notebook or {}).get("cells", [])):
        text = _cut((_output_text(o) for o in cell.get("outputs", [])), max_chars)
        if text.strip():
            docs.append(Document(Kind.OUTPUT, f"output:{index}", text, index, cell.get("id")))
    if record.get("status") == "failed":
        parts = (record.get("failure_kind") or "", record.get("error") or "")
        cell = record.get("failed_cell")
        docs.append(Document(Kind.ERROR, "error", _cut(parts, max_chars), cell if isinstance(cell, int) else None))
    return docs


def report_document(record: Mapping[str, Any], max_chars: int) -> Document:
    """A report's name, title, description, owner, team and tags (from its ``reports`` row)."""
    spec = record.get("spec") or {}
    parts = (
        record.get("name", ""),
        record.get("title", ""),
        spec.get("description") or "",
        record.get("owner", ""),
        record.get("team", ""),
        " ".join(spec.get("tags") or []),
    )
    return Document(Kind.REPORT, "report", _cut(parts, max_chars))
