"""What changed between two runs or two notebook versions: parameters, scraps and notebooks (nbdime).

Airflow-free, so the UI, the CLI and tests share it. nbdime is imported only when a notebook diff
is asked for (kernel images do not need it).
"""

from __future__ import annotations

import io
from typing import Any

import nbformat

_MISSING = object()


def dict_diff(base: dict[str, Any] | None, other: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per key of either side: ``added``, ``removed``, ``changed`` or ``same``."""
    base, other = base or {}, other or {}
    rows = []
    for key in sorted(base.keys() | other.keys()):
        a, b = base.get(key, _MISSING), other.get(key, _MISSING)
        if a is _MISSING:
            change = "added"
        elif b is _MISSING:
            change = "removed"
        else:
            change = "same" if a == b else "changed"
        rows.append(
            {"key": key, "change": change, "base": None if a is _MISSING else a, "other": None if b is _MISSING else b}
        )
    return rows


def notebook_diff(base: bytes, other: bytes) -> dict[str, Any]:
    """The structural diff nbdime makes of two notebooks, and its git-style text rendering.

    Outputs are compared too (they are what a report shows); rich outputs appear as their
    MIME bundles' text, never as live HTML.
    """
    import nbdime
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    a = nbformat.reads(base.decode("utf-8"), as_version=4)
    b = nbformat.reads(other.decode("utf-8"), as_version=4)
    diff = nbdime.diff_notebooks(a, b)
    out = io.StringIO()
    pretty_print_diff(a, diff, "", PrettyPrintConfig(out=out, use_git=False, use_color=False))
    return {"identical": not diff, "text": out.getvalue(), "cells": (len(a.cells), len(b.cells))}


def summarize(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many of ``dict_diff``'s rows were added, removed, changed or the same."""
    counts = {"added": 0, "removed": 0, "changed": 0, "same": 0}
    for row in rows:
        counts[row["change"]] += 1
    return counts
