"""``nbr search``: hits for the operator, narrowed by ``--as``; reindex, retry and status for admins."""

from __future__ import annotations

import json

import pytest

from nbreports.cli import main
from nbreports.history.versions import save_version
from nbreports.runs.model import Platform
from tests.conftest import REPO


@pytest.fixture
def saved(home, monkeypatch):
    """The example reports' notebooks saved once each (and so indexed), as Jupyter or a run would."""
    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(REPO / "notebooks"))
    platform = Platform.from_settings()
    for name in ("hr_headcount", "sales_summary"):
        content = (REPO / "notebooks" / name / f"{name}.ipynb").read_bytes()
        save_version(platform.store, platform.db, name, content, kernel="python3", source="git")
    return platform


def test_search_prints_ranked_hits_with_the_matched_words_marked(saved, capsys):
    assert main(["search", '"median salary"', "kind:markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('1 hit(s) for "median salary" kind:markdown, 1-1')
    assert "hr_headcount  markdown  version" in out
    assert "*median* *salary*" in out


def test_search_as_a_person_finds_nothing_in_reports_they_may_not_view(saved, capsys):
    assert main(["--as", "bob", "search", "median"]) == 0  # bob may not view hr_headcount
    assert capsys.readouterr().out.startswith("0 hit(s)")
    assert main(["--as", "bob", "search", "revenue", "--json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["total"] > 0
    assert {h["report"] for h in page["hits"]} == {"sales_summary"}


def test_a_bad_query_is_a_clear_error_and_exit_code_2(saved, capsys):
    assert main(["search", "revenue", "kind:cells"]) == 2
    assert "kind:cells is not known: kind is one of code, markdown" in capsys.readouterr().err


def test_reindex_status_and_retry_are_for_admins(saved, capsys):
    assert main(["search", "reindex"]) == 0
    assert capsys.readouterr().out.strip() == "reindex: 2 indexed, 0 failed"
    assert main(["search", "status"]) == 0
    assert capsys.readouterr().out.strip() == "2 indexed"
    assert main(["search", "retry"]) == 0
    assert capsys.readouterr().out.strip() == "retry: 0 indexed, 0 failed"
    assert main(["--as", "alice", "search", "reindex"]) == 2
    assert "search (admins only)" in capsys.readouterr().err
    assert main(["search", '"median salary"', "kind:markdown"]) == 0  # still found after the rebuild
    assert capsys.readouterr().out.startswith("1 hit(s)")
