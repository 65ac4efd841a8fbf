"""The part of a document a hit shows, with the query's words marked: plain text segments, never HTML.

The same on every backend (the backends only find and rank): the window around the first word a
positive term matches, cut at word boundaries; ``{"text": …, "hit": true}`` segments are the marks.
"""

from __future__ import annotations

from nbreports.search.query import Query
from nbreports.search.tokens import spans

WIDTH = 200


def _wanted(query: Query) -> tuple[set[str], tuple[str, ...]]:
    exact: set[str] = set()
    prefixes: list[str] = []
    for term in query.positive_terms():
        exact.update(term.words[:-1] if term.prefix else term.words)
        if term.prefix:
            prefixes.append(term.words[-1])
    return exact, tuple(prefixes)


def snippet(body: str, query: Query, width: int = WIDTH) -> list[dict[str, object]]:
    """Segments of ``body`` around its first match, the matched words as ``hit`` segments."""
    exact, prefixes = _wanted(query)
    marks = [(s, e) for word, s, e in spans(body) if word in exact or (prefixes and word.startswith(prefixes))]
    start = 0
    if marks and marks[0][0] > width // 3:
        start = body.rfind(" ", 0, marks[0][0] - width // 3) + 1
    end = min(len(body), start + width)
    if end < len(body):
        end = max(body.rfind(" ", start, end), marks[0][1] if marks and marks[0][1] <= end else start + width)
    segments: list[dict[str, object]] = []
    if start > 0:
        segments.append({"text": "…", "hit": False})
    at = start
    for s, e in marks:
        if s < start or e > end:
            continue
        if s > at:
            segments.append({"text": body[at:s], "hit": False})
        segments.append({"text": body[s:e], "hit": True})
        at = e
    if end > at:
        segments.append({"text": body[at:end], "hit": False})
    if end < len(body):
        segments.append({"text": "…", "hit": False})
    return segments
