"""Helpers a notebook calls inside its kernel (no Airflow needed): other reports' results, the query cache.

from nbreports.kernel import latest_scraps
sales = latest_scraps("sales_summary")
"""

from nbreports.kernel.upstream import latest_run, latest_scraps

__all__ = ["latest_run", "latest_scraps"]
