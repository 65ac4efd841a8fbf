"""Full-text search over every report, notebook version and run, indexed as they are saved and published.

``query`` reads the search box's language; ``tokens`` splits text into the index's words the same
way for both backends; ``documents`` cuts versions, runs and reports into documents (pure);
``index`` writes them and ``sources`` records what is indexed or failed; ``hooks`` is where saves
and publishes call in (never raising); ``rebuild`` retries failures and rebuilds everything;
``backends`` holds SQLite FTS5 and PostgreSQL ``tsvector``; ``find`` answers a query for the
reports a person may view; ``snippets`` marks the words a hit matched.
"""

from nbreports.search.find import Hit, ReportFacts, SearchPage, search
from nbreports.search.index import index_report, index_run, index_version
from nbreports.search.query import Kind, Query, parse_query

__all__ = [
    "Hit",
    "Kind",
    "Query",
    "ReportFacts",
    "SearchPage",
    "index_report",
    "index_run",
    "index_version",
    "parse_query",
    "search",
]
