"""Compute profiles route execute tasks to Celery queues; nothing per host stands in for what workers share.

The routing end to end, with real Celery workers, is ``tests/integration/test_celery.py``; here are
its parts: the profile's ``queue``, the factory's static queue and trigger-form choice, the cluster
policy on a task instance, and the refusal of a per-host platform database under a spread executor.
"""

from types import SimpleNamespace

import pytest
import yaml

from nbreports.errors import ConfigError
from nbreports.pods.compute import load_compute_config
from nbreports.reports.catalog import load_report
from nbreports.runs.model import Platform
from operators.factory import build_dag
from operators.hooks import check_shared
from operators.policy import route_execute_task
from operators.report import PROFILE_PARAM
from tests.conftest import REPO
from tests.helpers import make_report


@pytest.fixture
def routed(monkeypatch, tmp_path):
    """The shipped profiles with ``large`` on the queue ``big-workers``, which the default team may use."""
    profiles = yaml.safe_load((REPO / "config" / "profiles.yaml").read_text())
    profiles["profiles"]["large"]["queue"] = "big-workers"
    teams = yaml.safe_load((REPO / "config" / "teams.yaml").read_text())
    teams["teams"]["default"]["profiles"] = ["small", "large"]
    (tmp_path / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump(teams))
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(tmp_path / "profiles.yaml"))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(tmp_path / "teams.yaml"))
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_QUEUE", "everyone")
    return tmp_path


def test_a_profile_names_the_queue_of_its_runs_and_a_bad_queue_name_is_refused(routed):
    config = load_compute_config()
    assert config.profiles["large"].queue == "big-workers"
    assert config.profiles["small"].queue is None
    profiles = yaml.safe_load((routed / "profiles.yaml").read_text())
    profiles["profiles"]["medium"]["queue"] = "two words"
    (routed / "profiles.yaml").write_text(yaml.safe_dump(profiles))
    with pytest.raises(ConfigError, match=r"profiles\.yaml.*profiles\.medium\.queue"):
        load_compute_config()


def test_the_execute_task_takes_the_queue_of_the_reports_default_profile(routed, notebooks):
    big = build_dag(load_report(make_report(notebooks, "big", None, "x = 1", spec={"profile": "large"})))
    plain = build_dag(load_report(make_report(notebooks, "plain", None, "x = 1")))
    assert big.get_task("execute").queue == "big-workers"
    default = big.get_task("prepare").queue  # the operators' default queue (read when Airflow was imported)
    assert plain.get_task("execute").queue == default != "big-workers"
    form = plain.params.get_param(PROFILE_PARAM)  # a run in the worker: the profile picks its workers
    assert form.value == "small"
    assert form.schema["enum"] == ["small", "large"]
    assert "the workers that run it" in form.description
    assert "(queue big-workers)" in form.description


def test_without_a_routed_profile_a_local_report_offers_no_profile(notebooks):
    dag = build_dag(load_report(make_report(notebooks, "plain", None, "x = 1")))
    assert PROFILE_PARAM not in dag.params


def _ti(task_id="execute", operator="ExecuteReportOperator", queue="everyone"):
    return SimpleNamespace(task_id=task_id, operator=operator, queue=queue)


@pytest.mark.parametrize(
    ("ti", "conf", "queue"),
    [
        (_ti(), {PROFILE_PARAM: "large"}, "big-workers"),  # the trigger's choice
        (_ti(queue="big-workers"), {PROFILE_PARAM: "small"}, "everyone"),  # a profile without a queue: the default
        (_ti(queue="big-workers"), {}, "big-workers"),  # a scheduled run: the task's own queue
        (_ti(), {PROFILE_PARAM: "no-such-profile"}, "everyone"),  # prepare refuses the run; nothing routed
        (_ti(task_id="prepare"), {PROFILE_PARAM: "large"}, "everyone"),  # only the execute task
        (_ti(operator="PythonOperator"), {PROFILE_PARAM: "large"}, "everyone"),  # only a report's
    ],
)
def test_the_policy_routes_a_triggered_execute_task_to_its_profiles_queue(routed, ti, conf, queue):
    route_execute_task(ti, SimpleNamespace(conf=conf))
    assert ti.queue == queue


def test_the_policy_reads_a_dag_run_already_loaded_and_never_asks_for_one(routed):
    ti = _ti()
    ti.dag_run = SimpleNamespace(conf={PROFILE_PARAM: "large"})
    route_execute_task(ti, None)
    assert ti.queue == "big-workers"
    bare = _ti()
    route_execute_task(bare, None)  # early in a task instance's life: nothing to read, nothing changed
    assert bare.queue == "everyone"


def test_a_platform_database_on_one_host_is_refused_when_tasks_may_run_on_several(home, monkeypatch):
    platform = Platform.from_settings()
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    check_shared(platform)  # one machine: the embedded default is fine
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor,CeleryExecutor")
    with pytest.raises(ConfigError, match=r"CeleryExecutor.*the platform database is SQLite on this host") as info:
        check_shared(platform)
    assert "connection nbreports_db to one PostgreSQL database" in str(info.value)
    platform.db.engine.dispose()
