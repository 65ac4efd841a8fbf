"""Helpers a notebook calls inside its kernel (no Airflow needed): other reports' results, the query cache.

from nbreports.kernel import upstream_scraps
sales = upstream_scraps("sales_summary")  # the run that triggered this one, else the latest

``latest_run`` and ``latest_scraps`` are the same functions under the names notebooks already use.
"""

from nbreports.kernel.upstream import latest_run, latest_scraps, upstream_run, upstream_scraps

__all__ = ["latest_run", "latest_scraps", "upstream_run", "upstream_scraps"]
