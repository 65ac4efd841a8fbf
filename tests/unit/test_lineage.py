"""Lineage: a downstream run reads the upstream run whose Asset event triggered it, not the upstream's latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest
import sqlalchemy as sa
import yaml

from nbreports.errors import CellExecutionError, ConfigError, UnsafePathError
from nbreports.kernel import upstream
from nbreports.reports.catalog import load_report
from nbreports.runs.runner import run_report
from nbreports.settings import get_settings
from nbreports.storage.store import Store
from nbreports.storage.tables import RunRow
from operators.lineage import upstream_events, upstream_runs
from tests.helpers import make_report

T0 = datetime(2024, 1, 1, tzinfo=UTC)
READER = (
    "import scrapbook as sb\nfrom nbreports.kernel import latest_run, latest_scraps\n"
    "source = latest_run('lin_up')['run_id']\nsb.glue('n', latest_scraps('lin_up')['n'])\nsb.glue('source', source)"
)


class AssetKey(NamedTuple):
    """What the accessor yields as keys: something with a name."""

    name: str


def event(run_id, minutes=0, status="success", dag="lin_up"):
    extra = {"run_id": run_id, "notebook_version": "0" * 64, "status": status}
    return SimpleNamespace(
        extra=extra, source_dag_id=dag, source_run_id=f"dr-{run_id}", timestamp=T0 + timedelta(minutes=minutes)
    )


def test_the_upstream_runs_come_from_the_triggering_report_events():
    asset = AssetKey("nbreports.lin_up")
    context = {
        "triggering_asset_events": {
            asset: [event("r1", 1), event("r2", 2), event("r3", 3, status="failed"), event("../x", 4)],
            AssetKey("nbreports.other"): [event("o1")],
            AssetKey("warehouse.orders"): [event("w1")],  # not a report's Asset
            AssetKey("nbreports.../etc"): [event("e1")],
        }
    }
    assert upstream_runs(context) == {"lin_up": "r2", "other": "o1"}  # the newest good event per report
    assert upstream_runs({"triggering_asset_events": {}}) is None
    assert upstream_runs({}) is None
    assert f"lin_up/dr-r1/{T0 + timedelta(minutes=1)}" in upstream_events(context)["assets"]["nbreports.lin_up"]
    assert upstream_events({}) is None


@pytest.fixture
def lineage(notebooks, tmp_path, monkeypatch):
    """An upstream report (cached) and a downstream one reading it, both of one team."""
    teams = tmp_path / "teams.yaml"
    teams.write_text(yaml.safe_dump({"teams": {"lin": {"roles": ["Lin"], "folders": ["lin_*"]}}}))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(teams))
    up = make_report(
        notebooks, "lin_up", "n: int = 1", "import scrapbook as sb\nsb.glue('n', n)", spec={"cache": {"ttl": 3600}}
    )
    down = make_report(notebooks, "lin_down", None, READER)
    return load_report(up), load_report(down)


def test_a_downstream_run_reads_the_run_that_triggered_it(platform, lineage):
    up, down = lineage
    first = run_report(platform, up, {"n": 1})
    second = run_report(platform, up, {"n": 2})
    assert platform.store.read_json(Store.latest_key("lin_up"))["run_id"] == second["run_id"]

    triggered = run_report(platform, down, {}, upstream_runs={"lin_up": first["run_id"]})
    assert triggered["scraps"] == {"n": 1, "source": first["run_id"]}  # not the latest (n=2)
    assert triggered["upstream_runs"] == {"lin_up": first["run_id"]}
    assert triggered["metrics"]["upstream"] == {"lin_up": first["run_id"]}
    with platform.db.engine.connect() as conn:
        recorded = conn.execute(sa.select(RunRow.upstream_runs).where(RunRow.run_id == triggered["run_id"])).scalar()
    assert recorded == {"lin_up": first["run_id"]}

    manual = run_report(platform, down, {})
    assert manual["scraps"] == {"n": 2, "source": second["run_id"]}  # a manual run reads the latest

    hit = run_report(platform, up, {"n": 1})  # a cache hit of the first run: its event names the hit
    assert hit["cache_hit_of"] == first["run_id"]
    via_hit = run_report(platform, down, {}, upstream_runs={"lin_up": hit["run_id"]})
    assert via_hit["scraps"] == {"n": 1, "source": hit["run_id"]}


def test_a_triggering_run_that_is_not_a_successful_run_of_the_upstream_fails_the_reader(platform, lineage):
    up, down = lineage
    run_report(platform, up, {"n": 1})
    with pytest.raises(CellExecutionError, match="which triggered this run, has no run record"):
        run_report(platform, down, {}, upstream_runs={"lin_up": "20240101T000000Z-nosuch"})
    with pytest.raises(UnsafePathError):
        run_report(platform, down, {}, upstream_runs={"lin_up": "../../etc"})


def test_the_kernel_takes_the_triggering_runs_from_its_environment(platform, lineage, monkeypatch):
    up, down = lineage
    first = run_report(platform, up, {"n": 1})
    run_report(platform, up, {"n": 2})
    monkeypatch.chdir(down.folder)  # a kernel runs in its report's folder
    get_settings.cache_clear()  # read as a kernel would: the teams file set after the platform was made
    monkeypatch.setenv(upstream.UPSTREAM_ENV, f'{{"lin_up": "{first["run_id"]}"}}')
    assert upstream.upstream_scraps("lin_up") == {"n": 1}
    monkeypatch.setenv(upstream.UPSTREAM_ENV, "")
    assert upstream.upstream_scraps("lin_up") == {"n": 2}
    for bad, message in [("[1]", "JSON object"), ("{", "not JSON"), ('{"../x": "r1"}', "NBREPORTS_UPSTREAM_RUNS: ")]:
        monkeypatch.setenv(upstream.UPSTREAM_ENV, bad)
        with pytest.raises(ConfigError, match=message):
            upstream.upstream_scraps("lin_up")
