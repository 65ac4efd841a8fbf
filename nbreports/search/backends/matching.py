"""What a backend hands the query builder: where the rows come from, the conditions, the rank."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass
class Matching:
    """``SELECT … FROM source WHERE conditions ORDER BY rank`` (the smaller the rank, the better the match).

    ``newest`` orders the candidates newest first in the order the index keeps them, so the database
    stops after the first ones instead of ranking every match (``search.find.MAX_CANDIDATES``).
    """

    source: sa.FromClause
    newest: sa.ColumnElement[int]
    conditions: list[sa.ColumnElement[bool] | sa.TextClause] = field(default_factory=list)
    rank: sa.ColumnElement[float] = field(default_factory=lambda: sa.literal(0.0))
