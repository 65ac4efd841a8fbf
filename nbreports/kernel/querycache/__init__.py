"""The query cache notebooks call: a warehouse query (or any function call) computed once a week, not once a run."""

from nbreports.kernel.querycache.cache import QueryCache, cached, cached_query

__all__ = ["QueryCache", "cached", "cached_query"]
