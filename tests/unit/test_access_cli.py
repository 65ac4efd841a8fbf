"""``nbr access`` and ``nbr --as USER``: the policy as the operator's tool shows and applies it."""

from __future__ import annotations

import json
import shutil

import pytest

from nbreports.cli import main
from tests.conftest import REPO


@pytest.fixture
def examples(home, monkeypatch):
    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(REPO / "notebooks"))
    return REPO / "notebooks"


def test_check_says_allowed_or_denied_with_the_exit_code(examples, capsys):
    assert main(["access", "check", "carol", "sales_summary", "view"]) == 0
    assert capsys.readouterr().out == "allowed: carol (no roles) may view on sales_summary\n"
    assert main(["access", "check", "carol", "sales_summary", "execute"]) == 1
    assert capsys.readouterr().out.startswith("denied: carol")
    assert main(["access", "check", "eve", "hr_headcount", "view", "--role", "People"]) == 0
    assert "eve (People) may change, execute, view on hr_headcount" in capsys.readouterr().out


def test_matrix_prints_every_subject_against_every_report(examples, capsys):
    assert main(["access", "matrix", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["team people"] == {"data_quality": [], "hr_headcount": ["change", "execute", "view"],
                                    "sales_digest": [], "sales_summary": []}  # fmt: skip
    assert table["user carol"]["sales_summary"] == ["view"]
    assert all(not actions for actions in table["anyone else"].values())
    assert main(["access", "matrix"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["data_quality", "hr_headcount", "sales_digest", "sales_summary"]
    assert lines[lines.index(next(x for x in lines if x.startswith("team data-eng")))].split()[2:] == [
        "vec", "---", "---", "v--"
    ]  # fmt: skip


def test_as_user_refuses_what_the_person_may_not_do(examples, capsys):
    assert main(["--as", "bob", "history", "hr_headcount"]) == 2
    assert "error: 'bob' may not view report 'hr_headcount'" in capsys.readouterr().err
    assert main(["--as", "carol", "run", "sales_summary"]) == 2
    assert "may not execute report 'sales_summary'" in capsys.readouterr().err
    assert main(["--as", "alice", "backup"]) == 2
    assert "backup (admins only)" in capsys.readouterr().err


def test_as_user_lists_only_the_reports_the_person_may_view(examples, capsys):
    assert main(["--as", "bob", "reports", "--names"]) == 0
    assert capsys.readouterr().out.split() == ["data_quality", "sales_summary"]
    assert main(["--as", "nora", "--role", "Admin", "reports", "--names"]) == 0
    assert len(capsys.readouterr().out.split()) == 4


def test_as_user_lets_an_allowed_person_through(examples, capsys):
    assert main(["--as", "bob", "history", "sales_summary"]) == 0
    assert "no runs of sales_summary yet" in capsys.readouterr().out


def test_validate_names_each_bad_report(home, tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", notebooks)
    spec = notebooks / "sales_summary" / "report.yaml"
    spec.write_text(spec.read_text().replace("users: [carol]", "users: [zed]"))
    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(notebooks))
    assert main(["access", "validate"]) == 2
    captured = capsys.readouterr()
    assert f"{spec}: access.view.users: unknown user 'zed'" in captured.err
    assert "3 reports valid, 1 invalid; 4 teams" in captured.out
