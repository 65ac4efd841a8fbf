"""The name notebooks import the query cache by: ``from nbreports.querycache import cached_query``.

It lives in ``nbreports.kernel.querycache``; this module keeps the documented import path working.
"""

from nbreports.kernel.querycache import QueryCache, cached, cached_query

__all__ = ["QueryCache", "cached", "cached_query"]
