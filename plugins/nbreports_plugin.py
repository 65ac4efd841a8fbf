"""Registers nbreports in Airflow: its app at ``/nbreports``, "Reports" and "Search reports" menu entries, and tabs.

The tabs are on every DAG page and DAG-run page (they show the report and the run when the DAG is a report).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from nbreports_ui.app import app

PREFIX = "/nbreports"


class NbreportsPlugin(AirflowPlugin):
    name = "nbreports"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "nbreports"}]
    external_views = [
        {"name": "Reports", "href": f"{PREFIX}/", "destination": "nav", "url_route": "nbreports", "category": "browse"},
        {
            "name": "Search reports",
            "href": f"{PREFIX}/search",
            "destination": "nav",
            "url_route": "nbreports-search",
            "category": "browse",
        },
        {
            "name": "Report",
            "href": f"{PREFIX}/reports/{{DAG_ID}}",
            "destination": "dag",
            "url_route": "nbreports-report",
        },
        {
            "name": "Report run",
            "href": f"{PREFIX}/reports/{{DAG_ID}}/dag-runs/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "nbreports-run",
        },
    ]
