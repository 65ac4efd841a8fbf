"""Words as the index sees them: lowercase runs of letters and digits, the same on every backend.

The text is split here, in Python, and stored as space-separated terms that SQLite's FTS5 and
PostgreSQL's ``to_tsvector('simple', …)`` both read as the same words. Neither backend's own
parser decides, so ``revenue_total``, ``df.revenue`` and ``3.5`` match alike on both: as the words
``revenue total``, ``df revenue``, ``3 5`` (a query splits the same way and matches them as a phrase).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_WORD = re.compile(r"[^\W_]+")  # letters and digits; underscores and punctuation separate words
MAX_WORD = 64  # longer runs (hashes, base64) are not words anyone searches for


def words(text: str) -> list[str]:
    """The words of ``text``, lowercased, in order."""
    return [w for w, _, _ in spans(text)]


def spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Each word of ``text`` with where it starts and ends (for snippets)."""
    for match in _WORD.finditer(text):
        if match.end() - match.start() <= MAX_WORD:
            yield match.group().casefold(), match.start(), match.end()


def terms(text: str) -> str:
    """What the index stores for ``text``: its words, one space apart."""
    return " ".join(words(text))
