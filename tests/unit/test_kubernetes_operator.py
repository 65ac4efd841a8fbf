"""The kubernetes path up to the API boundary: the operator's pod is the validated manifest.

No cluster: the pod object is built and dry-run locally; the cluster's answers (a finished pod's
status) are the only thing made up here.
"""

import json

import kubernetes_validate
import pytest
import yaml
from kubernetes.client import models as k8s
from kubernetes_validate.utils import latest_version

from nbreports.browse.runs import recent_runs
from nbreports.errors import ProfileError
from nbreports.pods.manifest import WORKDIR
from nbreports.reports.catalog import load_report
from nbreports.runs.prepare import prepare
from nbreports.storage.store import Store
from operators.factory import build_dag
from operators.kubernetes import KubernetesReportOperator, pod_to_manifest
from operators.report import PROFILE_PARAM
from tests.conftest import REPO
from tests.helpers import make_report
from tests.pod_security import assert_restricted

# Production-like: the shared platform's store on S3 (reached from the pod with the team's Secret,
# ``nbreports-store-analytics``) and its database on PostgreSQL.
pytestmark = pytest.mark.parametrize(
    "platform", [pytest.param("s3-postgresql", marks=[pytest.mark.s3, pytest.mark.postgres])], indirect=True
)


@pytest.fixture(autouse=True)
def compute_config(monkeypatch, tmp_path):
    """The shipped profiles and teams (analytics also owns ``k8s_*``, data-eng ``eng``), set first."""
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(REPO / "config" / "profiles.yaml"))
    teams = yaml.safe_load((REPO / "config" / "teams.yaml").read_text())
    teams["teams"]["analytics"]["folders"].append("k8s_*")
    teams["teams"]["data-eng"]["folders"].append("eng")
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump(teams))
    monkeypatch.setenv("NBREPORTS_TEAMS_FILE", str(tmp_path / "teams.yaml"))


@pytest.fixture(autouse=True)
def nbreports_db_connection(compute_config, platform, monkeypatch):
    """The operator reaches the platform database through the Airflow connection ``nbreports_db``."""
    monkeypatch.setenv("AIRFLOW_CONN_NBREPORTS_DB", platform.db.url)


def k8s_report(notebooks, **spec):
    return load_report(
        make_report(
            notebooks,
            "k8s_report",
            "n: int = 1",
            "print(n)",
            spec={"executor": "kubernetes", "team": "analytics", **spec},
        )
    )


API_DEFAULTS = {"terminationMessagePolicy": "File"}  # what the API server fills in anyway


def pruned(value):
    """Without the empty values and API defaults the operator spells out (the pod is the same)."""
    if isinstance(value, dict):
        kept = {k: pruned(v) for k, v in value.items() if API_DEFAULTS.get(k, object()) != v}
        return {k: v for k, v in kept.items() if v not in (None, {}, [], False)}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def operator(plan):
    return KubernetesReportOperator(task_id="execute", report=plan.report, plan=plan.to_dict())


def test_operator_pod_is_the_validated_manifest(platform, notebooks, capsys):
    plan = prepare(platform, k8s_report(notebooks), {"n": 2}, profile="large", dag_id="k8s_report")
    op = operator(plan)
    manifest = op.report_manifest()
    kubernetes_validate.validate(manifest, latest_version(), strict=True)
    pod = pod_to_manifest(op.build_pod_request_obj(dry_run=True))
    kubernetes_validate.validate(pod, latest_version(), strict=True)
    assert_restricted(manifest)
    assert_restricted(pod)  # what the provider sends is still admitted under the restricted standard
    assert pruned(pod["spec"]) == pruned(manifest["spec"])
    assert pod["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    assert "hostPath" not in json.dumps(pod)  # a cluster's nodes have no folder of the worker's
    assert pod["spec"]["securityContext"] == manifest["spec"]["securityContext"]
    [fetch] = pod["spec"]["initContainers"]
    assert fetch["args"] == [plan.bundle, WORKDIR]
    assert platform.store.exists(Store.bundle_key(plan.bundle))  # prepare stored the report folder's files
    assert fetch["envFrom"] == [{"secretRef": {"name": "nbreports-store-analytics"}}]
    assert pod["metadata"]["name"] == manifest["metadata"]["name"]
    assert pod["metadata"]["namespace"] == "nbreports-analytics"  # the team's, from the teams file
    assert manifest["metadata"]["labels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "8", "memory": "32Gi"}
    assert pod["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "nbreports-store-analytics"}}]
    run_folder = f"{platform.store.url_prefix}/runs/k8s_report/{plan.run_id}"
    assert pod["spec"]["containers"][0]["args"][:2] == [f"{run_folder}/input.ipynb", f"{run_folder}/output.ipynb"]
    assert op.deferrable
    assert op.get_logs
    assert op.durable
    assert op.reattach_on_restart  # what the provider derives from durable on Airflow 3.3
    assert op.on_finish_action.value == "delete_pod"
    op.dry_run()  # prints the pod; needs no cluster
    out = capsys.readouterr().out
    printed = yaml.safe_load(out[out.index("api_version:") :])  # after the log lines; python field names
    assert printed["spec"]["containers"][0]["args"] == manifest["spec"]["containers"][0]["args"]


def _status(name, terminated=None, waiting=None):
    state = k8s.V1ContainerState(terminated=terminated, waiting=waiting)
    return k8s.V1ContainerStatus(
        name=name, state=state, image="img", image_id="sha256:" + "c" * 64, ready=False, restart_count=0
    )


def _finished(terminated=None, waiting=None, reason=None, init=None):
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="p"),
        status=k8s.V1PodStatus(
            phase="Failed",
            reason=reason,
            container_statuses=[_status("papermill", terminated, waiting)],
            init_container_statuses=[init] if init else None,
        ),
    )


def test_finished_pods_are_told_apart_for_publish(platform, notebooks):
    plan = prepare(platform, k8s_report(notebooks), {})
    op = operator(plan)
    execution = Store.run_key(plan.report, plan.run_id, "execution.json")
    oom = op.record_result(_finished(k8s.V1ContainerStateTerminated(exit_code=137, reason="OOMKilled")))
    assert oom["error_type"] == "out_of_memory"
    assert "memory limit of 1Gi (profile small)" in oom["error"]
    assert platform.store.read_json(execution)["error_type"] == "out_of_memory"
    assert platform.store.exists(Store.run_key(plan.report, plan.run_id, "output.ipynb"))  # input kept as output
    pull = op.record_result(_finished(waiting=k8s.V1ContainerStateWaiting(reason="ErrImagePull")))
    assert pull["error_type"] == "image_missing"
    assert plan.image in pull["error"]
    deadline = op.record_result(_finished(k8s.V1ContainerStateTerminated(exit_code=143), reason="DeadlineExceeded"))
    assert deadline["error_type"] == "run_timeout"
    initializing = k8s.V1ContainerStateWaiting(reason="PodInitializing")
    fetch = _status("bundle", k8s.V1ContainerStateTerminated(exit_code=1, message="sha256 mismatch: not unpacked"))
    unpacked = op.record_result(_finished(waiting=initializing, init=fetch))
    assert unpacked["error_type"] == "engine_error"
    assert f"could not unpack the report folder's bundle {plan.bundle} (exit 1): sha256 mismatch" in unpacked["error"]
    init_pull = _status("bundle", waiting=k8s.V1ContainerStateWaiting(reason="ImagePullBackOff"))
    assert op.record_result(_finished(waiting=initializing, init=init_pull))["error_type"] == "image_missing"
    ok = op.record_result(_finished(k8s.V1ContainerStateTerminated(exit_code=0)))
    assert ok["status"] == "success"
    assert ok["extra"]["pod"]["image_digest"] == "sha256:" + "c" * 64


def test_trigger_form_offers_only_the_team_profiles(platform, notebooks):
    dag = build_dag(k8s_report(notebooks, profile="medium"), notebooks)
    form = dag.params.get_param(PROFILE_PARAM)
    assert form.value == "medium"
    assert form.schema["enum"] == ["small", "medium", "large", "gpu"]
    assert isinstance(dag.get_task("execute"), KubernetesReportOperator)
    local = build_dag(load_report(make_report(notebooks, "plain", None, "x = 1")), notebooks)
    assert PROFILE_PARAM not in local.params
    json.dumps(form.dump())


def test_a_profile_outside_the_team_is_refused_before_anything_is_written(platform, notebooks):
    rep = load_report(make_report(notebooks, "eng", None, "x = 1", spec={"executor": "podman", "team": "data-eng"}))
    with pytest.raises(ProfileError, match="'gpu' is not allowed for team 'data-eng'"):
        prepare(platform, rep, {}, profile="gpu")
    assert platform.store.list("runs") == []
    assert recent_runs(platform.db, "eng") == []
