"""Real runs for the plugin tests, made with the core runner into the servers' database and store.

The probe report's notebook prints an HTML output whose script tries everything a hostile
notebook would: read the cookie and local storage, reach into the framing page, call the
nbreports and Airflow APIs with the user's session. It writes what it got into ``#probe``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbreports.reports.catalog import load_report
from nbreports.runs.model import Platform
from nbreports.runs.runner import run_report
from nbreports.settings import Settings
from tests.helpers import make_report
from tests.integration.servers import AirflowServers

PROBE = "nbr_ui_probe"

PROBE_SCRIPT = r'''
from IPython.display import HTML, display
display(HTML("""<h2>probe</h2><pre id="probe">pending</pre><script>
(async () => {
  const out = {origin: String(self.origin)};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = "blocked: " + e.name; }
  try { out.storage = JSON.stringify(Object.assign({}, window.localStorage)); }
  catch (e) { out.storage = "blocked: " + e.name; }
  try { out.parent = String(window.parent.document.cookie) + "|" + window.parent.location.href; }
  catch (e) { out.parent = "blocked: " + e.name; }
  for (const [name, url] of [["api", "/nbreports/api/reports"], ["airflow", "/api/v2/dags"]]) {
    try {
      const r = await fetch(url, {credentials: "include"});
      out[name] = r.status + " " + (await r.text()).slice(0, 300);
    } catch (e) { out[name] = "blocked: " + e.name; }
  }
  document.getElementById("probe").textContent = JSON.stringify(out);
})();
</script>"""))
'''


def make_probe_report(notebooks: Path) -> Path:
    return make_report(
        notebooks,
        PROBE,
        'label: str = "first"  # What to call the run\nn: int = 2  # How many items',
        "import scrapbook as sb\nsb.glue('total', n * 10)\nsb.glue('label', label)\nprint('items', n)",
        PROBE_SCRIPT,
        spec={
            "title": "UI probe",
            "description": "A report for the plugin tests.",
            "owner": "tester",  # no team: the teams file's catch-all team owns it, so only the admins see it
            "tags": ["probe", "ui"],
            "cache": {"ttl": 3600},
        },
    )


def platform_for(servers: AirflowServers) -> Platform:
    """The same database and store the servers' tasks and the plugin use."""
    return Platform.from_settings(Settings(home=servers.nbreports_home), database_url=servers.platform_db_url)


def seed_probe_runs(servers: AirflowServers, notebooks: Path) -> list[dict[str, Any]]:
    """Three real runs of the probe report: two with different parameters, then a cache hit of the first."""
    platform = platform_for(servers)
    report = load_report(make_probe_report(notebooks))
    return [
        run_report(
            platform,
            report,
            {"label": "first", "n": 2},
            dag_id=PROBE,
            dag_run_id="manual__probe1",
            triggered_by="tester",
        ),
        run_report(platform, report, {"label": "second", "n": 3}, triggered_by="tester"),
        run_report(platform, report, {"label": "first", "n": 2}, triggered_by="tester"),
    ]
