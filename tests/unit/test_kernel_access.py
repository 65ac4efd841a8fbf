"""The kernel side of access control, in real kernels: upstream scraps only for the reader's team,
no way to the platform database, and what the kernel reports reaching the run record through publish."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from nbreports.access.kernel import (
    check_listed,
    check_read,
    decode_readable,
    encode_readable,
    readable_reports,
    reading_report,
    report_principal,
)
from nbreports.access.teams import load_teams
from nbreports.browse.runs import recent_runs
from nbreports.errors import AccessDenied, CellExecutionError, ConfigError
from nbreports.kernel.report import checked_sections
from nbreports.reports.catalog import load_report, load_reports
from nbreports.runs.model import Platform
from nbreports.runs.runner import run_report
from nbreports.storage.store import Store
from tests.conftest import REPO
from tests.helpers import make_report

TEAMS = load_teams(REPO / "config" / "teams.yaml")
REPORTS = {r.name: r for r in load_reports(REPO / "notebooks")[0]}


# -- the decision (pure) --------------------------------------------------------------------------


def test_a_report_acts_as_its_owning_team():
    digest = report_principal("sales_digest", TEAMS)
    assert digest.name == "report:sales_digest"
    assert digest.roles == {"Analytics"}
    assert report_principal("anything_else", TEAMS).roles == frozenset()  # the default team has no members


@pytest.mark.parametrize(
    ("reader", "upstream", "ok"),
    [
        ("sales_digest", "sales_summary", True),  # same team
        ("data_quality", "sales_summary", True),  # sales_summary shares view with data-eng
        ("sales_digest", "data_quality", True),  # data_quality lets analytics execute (so view)
        ("data_quality", "sales_digest", False),  # not shared
        ("sales_digest", "hr_headcount", False),  # restricted: the People team's alone
        ("hr_headcount", "sales_summary", False),
        ("unowned_report", "sales_summary", False),
    ],
)
def test_upstream_reads_follow_the_policy(reader, upstream, ok):
    principal = report_principal(reader, TEAMS)
    rules = REPORTS[upstream].rules
    if ok:
        check_read(principal, rules)
        assert upstream in readable_reports(principal, [r.rules for r in REPORTS.values()])
        return
    with pytest.raises(AccessDenied) as info:
        check_read(principal, rules)
    assert f"report:{reader}" in str(info.value)
    assert upstream in str(info.value)
    assert upstream not in readable_reports(principal, [r.rules for r in REPORTS.values()])


def test_outside_a_run_and_any_report_folder_nothing_is_read():
    assert reading_report(None, None) is None
    assert reading_report(None, "sales_digest") == "sales_digest"
    assert reading_report("data_quality", "sales_digest") == "data_quality"  # the run's name wins
    with pytest.raises(AccessDenied, match="NBREPORTS_REPORT"):
        check_read(None, REPORTS["sales_summary"].rules)


def test_a_pods_list_of_readable_reports():
    value = encode_readable(["b", "a"])
    assert decode_readable(value) == {"a", "b"}
    check_listed("x", "a", decode_readable(value))
    with pytest.raises(AccessDenied, match="'report:x' may not view report 'c'"):
        check_listed("x", "c", decode_readable(value))
    for bad in ("{", '{"a": 1}', "[1]"):
        with pytest.raises(ConfigError):
            decode_readable(bad)


def test_publish_keeps_only_well_formed_kernel_sections():
    raw = {
        "query_cache": {"hits": 2, "misses": -1, "bytes_read": "9", "corrupt": True, "evil": 1},
        "upstream": {"sales": "20240101T000000Z-abc", "../x": "r1", "ok": "../../etc"},
        "status": "success",
    }
    assert checked_sections(raw) == {"query_cache": {"hits": 2}, "upstream": {"sales": "20240101T000000Z-abc"}}
    assert checked_sections(["not", "a", "dict"]) == {}


# -- real kernels ---------------------------------------------------------------------------------

SECRET_URL = "postgresql://nbr:s3cret@127.0.0.1:5432/nbreports_platform"  # noqa: S105 - a marker to look for
PROBE = """
import os, scrapbook as sb
from nbreports.querycache import cached
leaks = sorted(k for k, v in os.environ.items() if k.startswith("AIRFLOW") or "DATABASE" in k or "s3cret" in v)
with open(f"/proc/{os.getppid()}/environ", "rb") as fh:  # the papermill process that started this kernel
    parent = fh.read()
parent_leaks = b"s3cret" in parent or b"NBREPORTS_DATABASE_URL" in parent
from nbreports.settings import get_settings
home_db = os.path.exists(get_settings().resolved_database_url.removeprefix("sqlite:///"))
for _ in range(3):
    total = cached(sum, [1, 2, 3])
sb.glue("leaks", leaks)
sb.glue("parent_leaks", parent_leaks)
sb.glue("home_db", home_db)
"""


@pytest.fixture
def team_notebooks(notebooks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two teams and a restricted one, each owning report folders of ``notebooks``."""
    teams = {
        "teams": {
            "red": {"roles": ["Red"], "folders": ["red_*"]},
            "blue": {"roles": ["Blue"], "folders": ["blue_*"]},
            "hr": {"roles": ["HR"], "folders": ["hr_*"], "restricted": True},
        }
    }
    path = tmp_path / "teams.yaml"
    path.write_text(yaml.safe_dump(teams))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(path))
    make_report(notebooks, "red_source", None, "import scrapbook as sb\nsb.glue('answer', 42)")
    make_report(notebooks, "hr_source", None, "import scrapbook as sb\nsb.glue('salaries', [1, 2])")
    reader = (
        "import scrapbook as sb\nfrom nbreports.kernel import latest_scraps\nsb.glue('got', latest_scraps(upstream))"
    )
    for name in ("red_reader", "blue_reader", "red_nosy"):
        make_report(notebooks, name, "upstream = 'red_source'", reader)
    return notebooks


def _error_of(platform: Platform, report: str) -> str:
    run = recent_runs(platform.db, report)[0]
    nb = nbformat.reads(platform.store.read_bytes(Store.run_key(report, run["run_id"], "output.ipynb")).decode(), 4)
    errors = [
        f"{o.ename}: {o.evalue}"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    return errors[0]


def test_a_kernel_reads_upstream_scraps_only_when_its_team_may_view_them(home, team_notebooks):
    platform = Platform.from_settings()
    source = run_report(platform, load_report(team_notebooks / "red_source"), {})
    run_report(platform, load_report(team_notebooks / "hr_source"), {})
    same_team = run_report(platform, load_report(team_notebooks / "red_reader"), {})
    assert same_team["scraps"]["got"] == {"answer": 42}
    assert same_team["metrics"]["upstream"] == {"red_source": source["run_id"]}  # lineage, recorded by publish
    with pytest.raises(CellExecutionError):
        run_report(platform, load_report(team_notebooks / "blue_reader"), {})
    assert _error_of(platform, "blue_reader") == "AccessDenied: 'report:blue_reader' may not view report 'red_source'"
    with pytest.raises(CellExecutionError):  # a restricted team's report: not even by name
        run_report(platform, load_report(team_notebooks / "red_nosy"), {"upstream": "hr_source"})
    assert _error_of(platform, "red_nosy") == "AccessDenied: 'report:red_nosy' may not view report 'hr_source'"


def test_the_kernel_cannot_reach_the_platform_database_and_its_counts_still_reach_the_run_record(
    home, notebooks, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_CONN_NBREPORTS_DB", SECRET_URL)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", SECRET_URL)
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    platform = Platform.from_settings(kernel_env={"NBREPORTS_DATABASE_URL": SECRET_URL})
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("NBREPORTS_DATABASE_URL", platform.db.url)  # the worker has the real one
    assert Path(platform.db.url.removeprefix("sqlite:///")).is_file()
    record = run_report(platform, load_report(make_report(notebooks, "probe", None, PROBE)), {})
    assert record["status"] == "success"
    assert record["scraps"]["leaks"] == []
    assert record["scraps"]["parent_leaks"] is False
    assert record["scraps"]["home_db"] is False  # the kernel's NBREPORTS_HOME is its own, not the worker's
    counts = {"hits": 2, "misses": 1, "expired": 0, "corrupt": 0}
    row = recent_runs(platform.db, "probe")[0]
    assert {k: row["metrics"]["query_cache"][k] for k in counts} == counts
    assert {k: record["metrics"]["query_cache"][k] for k in counts} == counts
    kernel = json.loads(platform.store.read_bytes(Store.run_key("probe", record["run_id"], "kernel.json")))
    assert kernel["query_cache"]["hits"] == 2
