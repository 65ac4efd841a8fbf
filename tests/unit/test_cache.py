"""The run cache: identical runs are served from an earlier execution, anything changed runs again."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from nbreports.browse.runs import recent_runs
from nbreports.errors import SpecError
from nbreports.reports.catalog import load_report
from nbreports.reports.spec import parse_spec
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store
from nbreports.storage.tables import RunRow
from tests.helpers import make_report

CELLS = (
    "import scrapbook as sb, pathlib, time\n"
    "sb.glue('data', pathlib.Path('data.txt').read_text())\nsb.glue('n', n)\nsb.glue('at', time.time())",
)


def cached_report(notebooks, cache=None, cells=CELLS):
    folder = make_report(
        notebooks,
        "cached",
        "n: int = 1",
        *cells,
        spec={"cache": cache if cache is not None else {"ttl": "1h", "inputs": ["data.txt"]}},
    )
    if not (folder / "data.txt").exists():
        (folder / "data.txt").write_text("v1")
    return load_report(folder)


def test_identical_run_is_a_cache_hit_that_reuses_outputs(platform, notebooks):
    rep = cached_report(notebooks)
    first = run_report(platform, rep, {"n": 2})
    second = run_report(platform, rep, {"n": 2})
    assert second["cache_hit_of"] == first["run_id"]
    assert second["run_id"] != first["run_id"]
    assert second["scraps"] == first["scraps"]
    assert second["html_uri"] == first["html_uri"]
    assert second["execution_s"] == 0.0
    assert not platform.store.exists(Store.run_key("cached", second["run_id"], "output.ipynb"))
    assert platform.store.read_json(Store.run_key("cached", second["run_id"], "run.json"))["cache_hit_of"]
    assert platform.store.read_json(Store.latest_key("cached"))["run_id"] == second["run_id"]
    rows = {r["run_id"]: r for r in recent_runs(platform.db, "cached")}
    assert rows[second["run_id"]]["cache_hit_of"] == first["run_id"]
    assert rows[second["run_id"]]["status"] == "success"


def test_changed_parameters_input_or_notebook_run_again(platform, notebooks):
    rep = cached_report(notebooks)
    first = run_report(platform, rep, {"n": 2})
    assert "cache_hit_of" not in run_report(platform, rep, {"n": 3})
    (rep.folder / "data.txt").write_text("v2")
    changed_input = run_report(platform, rep, {"n": 2})
    assert "cache_hit_of" not in changed_input
    assert changed_input["scraps"]["data"] == "v2"
    edited = cached_report(notebooks, cells=(CELLS[0] + "\nsb.glue('edited', True)",))
    assert "cache_hit_of" not in run_report(platform, edited, {"n": 2})
    assert first["scraps"]["data"] == "v1"


def test_force_bypasses_the_cache(platform, notebooks):
    rep = cached_report(notebooks)
    first = run_report(platform, rep, {})
    forced = run_report(platform, rep, {}, force=True)
    assert "cache_hit_of" not in forced
    assert forced["scraps"]["at"] != first["scraps"]["at"]
    assert run_report(platform, rep, {})["cache_hit_of"] == forced["run_id"]  # the newest execution


def test_expired_runs_are_not_served(platform, notebooks):
    rep = cached_report(notebooks, {"ttl": 60, "inputs": ["data.txt"]})
    first = run_report(platform, rep, {})
    with platform.db.engine.begin() as conn:  # age the run past its TTL
        conn.execute(
            sa.update(RunRow)
            .where(RunRow.run_id == first["run_id"])
            .values(started_at=datetime.now(UTC) - timedelta(seconds=61))
        )
    assert "cache_hit_of" not in run_report(platform, rep, {})


def test_a_source_run_with_missing_outputs_is_not_served(platform, notebooks):
    rep = cached_report(notebooks)
    first = run_report(platform, rep, {})
    platform.store.fs.rm(platform.store._path(Store.run_key("cached", first["run_id"], "report.html")))
    again = run_report(platform, rep, {})
    assert "cache_hit_of" not in again


def test_failed_runs_are_never_served(platform, notebooks):
    rep = cached_report(notebooks, cells=("raise RuntimeError('no')",))
    with pytest.raises(Exception, match="no"):
        run_report(platform, rep, {})
    with pytest.raises(Exception, match="no"):
        run_report(platform, rep, {})
    assert [r["cache_hit_of"] for r in recent_runs(platform.db, "cached")] == [None, None]


def test_caching_is_off_unless_the_spec_sets_a_ttl(platform, notebooks):
    rep = cached_report(notebooks, cache={})
    run_report(platform, rep, {})
    assert "cache_hit_of" not in run_report(platform, rep, {})


def test_bad_cache_settings_are_spec_errors(notebooks, platform):
    with pytest.raises(SpecError, match=r"cache\.ttl"):
        parse_spec({"title": "t", "cache": {"ttl": "soon"}}, "report.yaml")
    with pytest.raises(SpecError, match="matches no file"):  # refused when the report loads
        cached_report(notebooks, {"ttl": 60, "inputs": ["missing/*.csv"]})


def test_a_hit_starts_no_kernel(platform, notebooks, monkeypatch):
    rep = cached_report(notebooks)
    run_report(platform, rep, {})
    import nbreports.engines.local

    monkeypatch.setattr(nbreports.engines.local, "_spawn", lambda: pytest.fail("a cache hit started papermill"))
    assert run_report(platform, rep, {})["cache_hit_of"]
