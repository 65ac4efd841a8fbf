"""Full-text backends by database dialect: each turns a ``Query`` into its own match and rank.

A registry, as engines and store schemes are: ``get_backend(engine)`` picks SQLite's FTS5 for the
embedded default and PostgreSQL's ``tsvector`` in production. Both read the same ``terms`` column
(``search.tokens``), so the same query finds the same documents on both; only the ranking differs.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from nbreports.errors import DatabaseError
from nbreports.search.backends import postgresql, sqlite
from nbreports.search.backends.matching import Matching
from nbreports.search.query import Query


class SearchBackend(Protocol):
    """What ``search.find`` needs of a database's full-text index."""

    def matching(self, query: Query, documents: sa.Table) -> Matching:
        """The rows of ``search_documents`` holding every group of ``query`` and no excluded term."""


_BACKENDS: dict[str, SearchBackend] = {"sqlite": sqlite.Fts5(), "postgresql": postgresql.TsVector()}


def get_backend(engine: sa.Engine) -> SearchBackend:
    """The backend of the platform database's dialect."""
    try:
        return _BACKENDS[engine.dialect.name]
    except KeyError:
        raise DatabaseError(f"search has no backend for the {engine.dialect.name!r} database") from None
