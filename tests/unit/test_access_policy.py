"""The access policy: the teams file, report grants and the one decision, as tables (no service)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from nbreports.access.grants import AccessGrants
from nbreports.access.policy import ALL_ACTIONS, Action, Principal, actions_for, role_actions
from nbreports.access.rules import resolve_rules
from nbreports.access.teams import BUILT_IN, TeamsConfig, load_teams, user_role
from nbreports.errors import ConfigError, SpecError
from nbreports.reports.catalog import load_report, load_reports
from tests.conftest import REPO

TEAMS = load_teams(REPO / "config" / "teams.yaml")
REPORTS = {r.name: r for r in load_reports(REPO / "notebooks")[0]}
V, E, C = Action.VIEW, Action.EXECUTE, Action.CHANGE

# Who may do what to the shipped examples, written from the teams file and report.yaml grants:
# analytics owns sales_*, data-eng owns data_quality and lets analytics execute it, sales_summary
# is shared for view with data-eng and carol, hr_headcount is the restricted People team's.
EXPECTED = {
    ("admin", ("Admin",)): {n: ALL_ACTIONS for n in REPORTS},
    ("alice", ("Analytics",)): {"sales_summary": {V, E, C}, "sales_digest": {V, E, C}, "data_quality": {V, E}},
    ("bob", ("DataEng",)): {"data_quality": {V, E, C}, "sales_summary": {V}},
    ("paula", ("People",)): {"hr_headcount": {V, E, C}},
    ("carol", ()): {"sales_summary": {V}},
    ("nora", ()): {},
    ("mallory", ("Viewer", "User", "Op")): {},  # Airflow's built-in roles grant no report
}


@pytest.mark.parametrize(("user", "roles"), list(EXPECTED))
def test_each_person_gets_exactly_the_actions_the_policy_gives(user, roles):
    who = Principal.of(user, roles)
    got = {name: set(actions_for(who, r.rules)) for name, r in REPORTS.items()}
    want = {name: set(EXPECTED[user, roles].get(name, set())) for name in REPORTS}
    assert got == want


def test_the_examples_cover_every_kind_of_grant():
    assert REPORTS["hr_headcount"].rules.restricted
    assert REPORTS["sales_summary"].rules.view_users == {"carol"}
    assert REPORTS["data_quality"].rules.execute_roles == {"Analytics"}
    assert {r.spec.team for r in REPORTS.values()} == {"analytics", "data-eng", "people"}


def test_access_control_gives_each_role_its_actions_and_leaves_admins_out():
    granted = role_actions(REPORTS["sales_summary"].rules, TEAMS.admin_roles)
    assert granted == {"Analytics": ALL_ACTIONS, "DataEng": {V}, user_role("carol"): {V}}
    assert role_actions(REPORTS["hr_headcount"].rules, TEAMS.admin_roles) == {"People": ALL_ACTIONS}


def test_an_exact_folder_name_wins_over_globs_and_a_longer_glob_over_a_shorter_one():
    teams = TeamsConfig.model_validate(
        {"teams": {"a": {"folders": ["*"]}, "b": {"folders": ["hr_*"]}, "c": {"folders": ["hr_pay"]}}}
    )
    assert (teams.owner_of("sales"), teams.owner_of("hr_x"), teams.owner_of("hr_pay")) == ("a", "b", "c")
    assert TeamsConfig.model_validate({"teams": {"a": {"folders": ["x"]}}}).owner_of("y") is None


def test_without_a_teams_file_only_admins_may_act(tmp_path, monkeypatch):
    monkeypatch.delenv("NBREPORTS_TEAMS_FILE")
    assert load_teams(tmp_path / "teams.yaml") is BUILT_IN
    (tmp_path / "notebooks" / "demo").mkdir(parents=True)
    shutil.copy(REPO / "notebooks/sales_digest/sales_digest.ipynb", tmp_path / "notebooks/demo/demo.ipynb")
    (tmp_path / "notebooks/demo/report.yaml").write_text("title: Demo\n")
    rules = load_report(tmp_path / "notebooks/demo").rules
    assert actions_for(Principal.of("admin", ["Admin"]), rules) == ALL_ACTIONS
    assert actions_for(Principal.of("alice", ["Analytics", "User"]), rules) == set()


def test_a_missing_teams_file_that_was_asked_for_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=r"no teams file at .*nope\.yaml"):
        load_teams()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"teams": {}}, r"teams: .*at least 1"),
        ({"teams": {"a": {"folders": ["x"]}, "b": {"folders": ["x"]}}}, r"folder 'x' is owned by both 'a' and 'b'"),
        ({"teams": {"a": {"restricted": "sometimes"}}}, r"teams\.a\.restricted"),
        ({"teams": {"a": {"colour": "red"}}}, r"teams\.a\.colour: Extra inputs"),
        ("- just a list", r"\(file\): Input should be a valid dictionary"),
        ({"teams": {"a": {"groups": ["cn=a", "analytics"]}}}, r"teams\.a\.groups: 'analytics' is not a group DN"),
        ({"admin_groups": ["admins"], "teams": {"a": {}}}, r"admin_groups: 'admins' is not a group DN"),
    ],
)
def test_a_bad_teams_file_names_the_file_and_the_field(tmp_path, content, message):
    path = tmp_path / "teams.yaml"
    path.write_text(yaml.safe_dump(content) if not isinstance(content, str) else content)
    with pytest.raises(ConfigError, match=rf"{path}: .*{message}"):
        load_teams(path)


def _grants(**kwargs: object) -> AccessGrants:
    return AccessGrants.model_validate(kwargs)


@pytest.mark.parametrize(
    ("report", "team", "grants", "field", "message"),
    [
        (
            "sales_summary",
            "marketing",
            {},
            "team",
            "unknown team 'marketing'; the teams file knows analytics, data-eng",
        ),
        ("sales_summary", "data-eng", {}, "team", "team 'data-eng' does not own report folder 'sales_summary'"),
        ("sales_summary", "", {"view": {"teams": ["sales"]}}, "access.view.teams", "unknown team 'sales'"),
        ("sales_summary", "", {"execute": {"roles": ["Wizard"]}}, "access.execute.roles", "unknown role 'Wizard'"),
        ("sales_summary", "", {"view": {"users": ["zed"]}}, "access.view.users", "unknown user 'zed'"),
        ("hr_headcount", "people", {"view": {"teams": ["analytics"]}}, "access", "team 'people' is restricted"),
        ("hr_headcount", "", {"execute": {"users": ["carol"]}}, "access", "restricted .* names carol"),
        ("hr_headcount", "", {"view": {"roles": ["Auditor"]}}, "access", "restricted .* names Auditor"),
    ],
)
def test_bad_grants_and_teams_are_errors_naming_the_file_and_field(report, team, grants, field, message):
    with pytest.raises(SpecError, match=message) as caught:
        resolve_rules("notebooks/x/report.yaml", report, team, _grants(**grants), TEAMS)
    assert (caught.value.file, caught.value.field) == ("notebooks/x/report.yaml", field)


def test_a_restricted_team_may_still_name_itself():
    rules = resolve_rules("r.yaml", "hr_pay", "", _grants(execute={"teams": ["people"]}), TEAMS)
    assert rules.restricted
    assert rules.execute_roles == {"People"}


def test_a_bad_report_is_an_import_error_of_that_report_only(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", notebooks)
    spec = notebooks / "sales_digest" / "report.yaml"
    spec.write_text(spec.read_text().replace("team: analytics", "team: people"))
    reports, errors = load_reports(notebooks)
    assert sorted(r.name for r in reports) == ["data_quality", "hr_headcount", "sales_summary"]
    (error,) = errors.values()
    assert str(error) == (
        f"{spec}: team: team 'people' does not own report folder 'sales_digest' "
        "(the teams file gives it to 'analytics')"
    )


def test_the_compute_of_a_team_comes_from_the_teams_file():
    from nbreports.pods.compute import load_compute_config

    config = load_compute_config(REPO / "config" / "profiles.yaml", REPO / "config" / "teams.yaml")
    assert config.allowed_profiles("people") == ["small"]
    assert config.allowed_profiles("analytics") == ["small", "medium", "large", "gpu"]


def test_every_role_the_policy_hands_out_is_declared(tmp_path: Path):
    assert TEAMS.all_roles() == {"Analytics", "DataEng", "People", "Auditor", *(user_role(u) for u in TEAMS.users)}
    assert TEAMS.ldap_role_mapping()["cn=people,ou=groups,dc=nbreports,dc=test"] == ["People"]
    assert TEAMS.ldap_role_mapping()["cn=admins,ou=groups,dc=nbreports,dc=test"] == ["Admin"]
