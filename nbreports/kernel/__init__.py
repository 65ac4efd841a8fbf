"""Helpers a notebook calls inside its kernel (no Airflow needed): other reports' results, the query cache.

from nbreports.kernel import upstream_scraps
sales = upstream_scraps("sales_summary")  # the run that triggered this one, else the latest

``latest_run`` and ``latest_scraps`` are the same functions under the names notebooks already use.
``connection_uri`` and ``variable`` read the Airflow connections and variables ``report.yaml`` lists.
"""

from nbreports.kernel.airflow_values import connection_uri, variable
from nbreports.kernel.upstream import latest_run, latest_scraps, upstream_run, upstream_scraps

__all__ = ["connection_uri", "latest_run", "latest_scraps", "upstream_run", "upstream_scraps", "variable"]
