"""Answer a query: the reports the caller may view and the filters narrow the rows first, then rank, count, page.

The caller hands ``facts``: the reports the person may *view*, each with what the filters ask of
it (team, owner, tags, title), from the catalog the caller already narrowed by the policy.
Documents of any other report never take part in ranking, counting or paging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from nbreports.errors import BadQuery, DatabaseError
from nbreports.search.backends import get_backend
from nbreports.search.index import DOCUMENTS
from nbreports.search.query import Filters, Kind, Query, parse_query
from nbreports.search.snippets import snippet
from nbreports.storage.database import PlatformDB

MAX_PER_PAGE = 100
# A match in a report's own description, or in prose, says more than one in an output or a log line.
KIND_WEIGHTS = {Kind.REPORT: 3.0, Kind.MARKDOWN: 1.5, Kind.SCRAP: 1.3, Kind.CODE: 1.2, Kind.ERROR: 1.2}
# A word in more documents than this: the newest ones are ranked and counted ("1,000+"), not all of
# them, so a common word costs what a rare one does; filters narrow it to what is wanted.
MAX_CANDIDATES = 1_000


@dataclass(frozen=True)
class ReportFacts:
    """What filters and hits need to know of a report the caller may view."""

    name: str
    title: str
    team: str
    owner: str
    tags: tuple[str, ...] = ()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> ReportFacts:
        """From a catalog entry (``browse.catalog.report_entries``)."""
        return cls(entry["name"], entry["title"], entry["team"], entry["owner"], tuple(entry["tags"]))


@dataclass(frozen=True)
class Hit:
    """One document that matched, with the snippet to show and where it belongs."""

    report: str
    title: str
    kind: str
    at: str
    snippet: list[dict[str, object]]
    version: str | None = None
    versions: int | None = None
    cell: int | None = None
    cell_id: str | None = None
    run_id: str | None = None
    status: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON."""
        return dict(self.__dict__)


@dataclass
class SearchPage:
    """One page of hits, best first, and how many there are in all."""

    total: int
    page: int
    per_page: int
    query: str
    hits: list[Hit] = field(default_factory=list)
    total_exact: bool = True  # False: more than MAX_CANDIDATES match, and ``total`` is that many

    def to_dict(self) -> dict[str, Any]:
        """The page as JSON."""
        return {
            "total": self.total,
            "total_exact": self.total_exact,
            "page": self.page,
            "per_page": self.per_page,
            "query": self.query,
            "hits": [h.to_dict() for h in self.hits],
        }


def _reports(filters: Filters, facts: Mapping[str, ReportFacts]) -> list[str]:
    """The viewable reports the report:, team:, owner: and tag: filters leave."""
    return sorted(
        name
        for name, fact in facts.items()
        if (not filters.reports or name in filters.reports)
        and (not filters.teams or fact.team.lower() in filters.teams)
        and (not filters.owners or fact.owner.lower() in filters.owners)
        and (not filters.tags or filters.tags & {t.lower() for t in fact.tags})
    )


def _conditions(filters: Filters, reports: list[str]) -> list[sa.ColumnElement[bool]]:
    """The filters the documents' own columns answer: kind, status, dates; and the reports left."""
    docs = DOCUMENTS.c
    found: list[sa.ColumnElement[bool]] = [docs.report.in_(reports)]
    if filters.kinds:
        found.append(docs.kind.in_(sorted(filters.kinds)))
    if filters.statuses:
        found.append(docs.status.in_(sorted(filters.statuses)))
    if filters.after:  # a cell last seen after, a run started after
        found.append(docs.at >= filters.after)
    if filters.before:  # a cell first seen before, a run started before
        found.append(docs.first_at < filters.before)
    return found


def _check_page(page: int, per_page: int) -> None:
    if per_page < 1 or per_page > MAX_PER_PAGE:
        raise BadQuery(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    if page < 1 or (page - 1) * per_page >= MAX_CANDIDATES:
        raise BadQuery(f"page must be at least 1 and start within the first {MAX_CANDIDATES} hits, not page {page}")


def _iso(value: datetime) -> str:
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def search(
    db: PlatformDB, text: str, facts: Mapping[str, ReportFacts], *, page: int = 1, per_page: int = 20
) -> SearchPage:
    """The hits of ``text`` among the documents of the reports in ``facts``, best first.

    ``SearchQueryError`` (a ``BadQuery``) when the query cannot be read; ``BadQuery`` for a page out of range.
    """
    query: Query = parse_query(text)
    _check_page(page, per_page)
    result = SearchPage(0, page, per_page, query.text)
    reports = _reports(query.filters, facts)
    if not reports:
        return result
    found = get_backend(db.engine).matching(query, DOCUMENTS)
    where = [*_conditions(query.filters, reports), *found.conditions]
    weight = sa.case(*((DOCUMENTS.c.kind == str(kind), w) for kind, w in KIND_WEIGHTS.items()), else_=sa.literal(1.0))
    rank = (found.rank * weight).label("rank")  # both backends' ranks are negative: the smaller, the better
    candidates = (
        sa.select(DOCUMENTS.c.id.label("id"), rank)
        .select_from(found.source)
        .where(*where)
        .order_by(found.newest.desc())
        .limit(MAX_CANDIDATES)
        .subquery("candidates")
    )
    ranked = (  # the page's ids and, in the same pass over the candidates, how many there are
        sa.select(candidates.c.id, sa.func.count().over().label("total"))
        .order_by(candidates.c.rank, candidates.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    try:
        with db.engine.connect() as conn:
            page_rows = conn.execute(ranked).all()
            ids = [row.id for row in page_rows]
            if page_rows:
                result.total = int(page_rows[0].total)
            elif page > 1:  # past the last hit: the count alone
                result.total = int(conn.execute(sa.select(sa.func.count()).select_from(candidates)).scalar_one())
            rows = {r.id: r._mapping for r in conn.execute(sa.select(DOCUMENTS).where(DOCUMENTS.c.id.in_(ids)))}
    except SQLAlchemyError as exc:
        raise DatabaseError(f"search failed: {exc}") from exc
    result.total_exact = result.total < MAX_CANDIDATES
    rows_found = [rows[i] for i in ids if i in rows]
    result.hits = [
        Hit(
            report=r["report"],
            title=facts[r["report"]].title,
            kind=r["kind"],
            at=_iso(r["at"]),
            snippet=snippet(r["body"], query),
            version=r["version"],
            versions=r["versions"],
            cell=r["cell"],
            cell_id=r["cell_id"],
            run_id=r["run_id"],
            status=r["status"],
            name=r["name"],
        )
        for r in rows_found
    ]
    return result
