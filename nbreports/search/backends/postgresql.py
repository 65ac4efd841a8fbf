"""PostgreSQL: the generated ``tsvector`` column ``tsv`` (GIN-indexed, migration 0007), ``ts_rank_cd``.

The query is compiled into ``to_tsquery`` syntax rather than handed to ``websearch_to_tsquery``:
that one has no prefix operator, and one parser for both backends keeps their answers alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from nbreports.search.backends.matching import Matching
from nbreports.search.query import Filters, Query, Term


def _phrase(term: Term) -> str:
    # words are letters and digits only (search.tokens): nothing in them is tsquery syntax
    return "(" + " <-> ".join(term.words) + (":*" if term.prefix else "") + ")"


def _any(terms: tuple[Term, ...]) -> str:
    return "(" + " | ".join(_phrase(t) for t in terms) + ")"


def tsquery_expression(groups: tuple[tuple[Term, ...], ...]) -> str:
    """A ``to_tsquery`` expression: every group, each any of its terms."""
    return " & ".join(_any(group) for group in groups)


def _tsquery(expression: str) -> sa.ColumnElement[object]:
    return sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), expression)


def facets_expression(filters: Filters) -> str | None:
    """``kind:`` and ``status:`` as the facet lexemes of ``tsv`` ('kind:code'), in tsquery syntax."""
    parts = [
        "(" + " | ".join(f"'{name}:{value}'" for value in sorted(values)) + ")"
        for name, values in (("kind", filters.kinds), ("status", filters.statuses))
        if values
    ]
    return " & ".join(parts) or None


class TsVector:
    """``tsv @@ to_tsquery(…)`` for the groups and facets, ``NOT tsv @@ …`` for the excluded terms."""

    def matching(self, query: Query, documents: sa.Table) -> Matching:
        """The rows whose ``tsv`` holds every group and facet and no excluded term, ranked by cover density."""
        found = Matching(documents, documents.c.id)
        tsv: sa.ColumnElement[object] = sa.literal_column("search_documents.tsv")
        if query.groups:
            wanted = _tsquery(tsquery_expression(query.groups))
            facets = facets_expression(query.filters)  # kinds and statuses are enum values: no quoting needed
            matched = wanted.op("&&")(sa.cast(facets, TSQUERY)) if facets else wanted
            found.conditions.append(tsv.op("@@")(matched))
            found.rank = -sa.func.ts_rank_cd(tsv, wanted)
        if query.excluded:
            found.conditions.append(sa.not_(tsv.op("@@")(_tsquery(_any(query.excluded)))))
        return found
