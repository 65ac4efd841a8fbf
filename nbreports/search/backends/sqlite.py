"""SQLite's FTS5: the ``search_fts`` table (migration 0007) over ``terms`` and ``facets``, bm25 ranking."""

from __future__ import annotations

import sqlalchemy as sa

from nbreports.search.backends.matching import Matching
from nbreports.search.query import Filters, Query, Term

_FTS = sa.table("search_fts", sa.column("rowid"))


def _phrase(term: Term) -> str:
    # words are letters and digits only (search.tokens), so quoting them is all FTS5 needs
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def _any(terms: tuple[Term, ...]) -> str:
    return "(" + " OR ".join(_phrase(t) for t in terms) + ")"


def _facets(filters: Filters) -> list[str]:
    """``kind:`` and ``status:`` as tokens of the facets column (``kind:code`` is one: ':' is a token character)."""
    return [
        "facets : (" + " OR ".join(f'"{name}:{value}"' for value in sorted(values)) + ")"
        for name, values in (("kind", filters.kinds), ("status", filters.statuses))
        if values
    ]


def fts5_expression(query: Query) -> str:
    """An FTS5 MATCH expression: every group (each any of its terms) in the words, and the facets asked for."""
    return " AND ".join([*(f"terms : {_any(group)}" for group in query.groups), *_facets(query.filters)])


class Fts5:
    """The FTS table joined by rowid, ranked by bm25; excluded terms leave out the rowids they find."""

    def matching(self, query: Query, documents: sa.Table) -> Matching:
        """The rows FTS5 finds for every group and facet and not for the excluded terms, ranked by bm25."""
        found = Matching(documents, documents.c.id)
        if query.groups:
            found.source = documents.join(_FTS, _FTS.c.rowid == documents.c.id)
            found.newest = _FTS.c.rowid  # FTS5 walks its doclists in rowid order: no sort, stops at the limit
            found.conditions.append(
                sa.text("search_fts MATCH :expression").bindparams(expression=fts5_expression(query))
            )
            found.rank = sa.func.bm25(sa.literal_column("search_fts"))  # negative: the smaller, the better
        if query.excluded:
            left_out = (
                sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :left_out")
                .bindparams(left_out=f"terms : {_any(query.excluded)}")
                .columns(sa.column("rowid", sa.Integer))
            )
            found.conditions.append(documents.c.id.not_in(left_out))
        return found
