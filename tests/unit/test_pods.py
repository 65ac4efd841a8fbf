"""Pod manifests and compute profiles: valid Kubernetes for every example report and profile."""

import json
from dataclasses import replace

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from nbreports.cli import main
from nbreports.errors import ConfigError, ProfileError, SpecError
from nbreports.pods.compute import ComputeConfig, choose_compute, load_compute_config
from nbreports.pods.manifest import SCRATCH, TMP, WORKDIR, PodRequest, build_pod_manifest, label_value, pod_name
from nbreports.pods.request import pod_request, report_pod_manifest
from nbreports.reports.catalog import find_report, load_reports
from nbreports.reports.spec import parse_spec
from nbreports.runs.bundle import bundle_digest
from nbreports.settings import get_settings
from tests.conftest import REPO
from tests.pod_security import assert_restricted, violations

CONFIG = load_compute_config(REPO / "config" / "profiles.yaml")
K8S_VERSION = latest_version()
EXAMPLES, _ = load_reports(REPO / "notebooks")
RUN_ID = "20240131T060000Z-1a2b3c4d"
SECRET_VALUE = "wJalrXUtnFEMI-very-secret"  # noqa: S105 - a throw-away test value, not a credential


def request_for(report, profile, store_url="s3://reports/prod", **kw):
    run = {
        "report": report.name,
        "run_id": RUN_ID,
        "kernel": report.kernel or "python3",
        "image": CONFIG.image_for(report.spec),
        "profile": CONFIG.profiles[profile].model_copy(update={"name": profile}),
        "store_url": store_url,
        "cell_timeout": report.spec.cell_timeout,
        "run_timeout": report.spec.run_timeout,
        "store_options": {"endpoint_url": "http://minio.storage:9000", "key": SECRET_VALUE},
        "store_secret": CONFIG.store_secret,
        "dag_id": report.name,
        "namespace": CONFIG.namespace,
        "bundle": bundle_digest(report.folder),
    }
    return PodRequest(**(run | kw))


@pytest.mark.parametrize("profile", sorted(CONFIG.profiles))
@pytest.mark.parametrize("report", EXAMPLES, ids=lambda r: r.name)
def test_every_example_and_profile_is_a_valid_pod(report, profile):
    manifest = build_pod_manifest(request_for(report, profile))
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    assert_restricted(manifest)
    [container] = manifest["spec"]["containers"]
    [fetch] = manifest["spec"]["initContainers"]
    assert container["resources"]["limits"] == fetch["resources"]["limits"] == CONFIG.profiles[profile].limits
    assert fetch["args"] == [bundle_digest(report.folder), WORKDIR]
    assert container["workingDir"] == WORKDIR
    assert "--cwd" in container["args"]
    assert container["args"][container["args"].index("--cwd") + 1] == WORKDIR
    assert container["command"] == ["papermill"]
    assert container["args"][:2] == [
        f"s3://reports/prod/runs/{report.name}/{RUN_ID}/input.ipynb",
        f"s3://reports/prod/runs/{report.name}/{RUN_ID}/output.ipynb",
    ]
    assert manifest["metadata"]["labels"]["nbreports.io/run-id"] == RUN_ID
    assert manifest["metadata"]["labels"]["nbreports.io/try-number"] == "1"
    assert manifest["metadata"]["labels"]["nbreports.io/dag-id"] == report.name
    if profile == "gpu":
        assert manifest["spec"]["nodeSelector"]
        assert manifest["spec"]["tolerations"]


def test_credentials_only_through_the_secret():
    manifest = build_pod_manifest(request_for(EXAMPLES[0], "small"))
    text = json.dumps(manifest)
    assert SECRET_VALUE not in text  # a non-allow-listed store option never reaches the pod
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert "AWS_ACCESS_KEY_ID" not in text
    [container] = manifest["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "nbreports-store"}}]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["AWS_ENDPOINT_URL_S3"] == "http://minio.storage:9000"
    assert json.loads(env["NBREPORTS_STORE_OPTIONS"]) == {"endpoint_url": "http://minio.storage:9000"}


def test_podman_mounts_a_local_store_read_only_except_the_run_folder(tmp_path):
    report = EXAMPLES[0]
    store = (tmp_path / "store").as_uri()
    request = request_for(report, "small", store_url=store, try_number=2, host_network=True)
    manifest = build_pod_manifest(replace(request, executor="podman"))
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    [container] = manifest["spec"]["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    run = f"/nbreports/store/runs/{report.name}/{RUN_ID}"
    assert mounts["/nbreports/store"]["readOnly"] is True
    assert "readOnly" not in mounts[run]
    assert container["args"][:2] == [f"{run}/input.ipynb", f"{run}/output.ipynb"]
    volumes = {v["name"]: v for v in manifest["spec"]["volumes"]}
    assert volumes["run"]["hostPath"]["path"] == f"{tmp_path}/store/runs/{report.name}/{RUN_ID}"
    assert manifest["spec"]["hostNetwork"] is True
    assert "envFrom" not in container
    assert manifest["metadata"]["name"].endswith("-t2")
    # one machine: host folders are podman's, so this pod is not one a cluster would admit
    assert any(v.startswith("restrictedVolumes: volume store uses ['hostPath']") for v in violations(manifest))
    # the report folder comes from the store, like on a cluster: never a host folder of the preparing worker
    assert set(volumes) == {"scratch", "tmp", "store", "run"}
    assert manifest["spec"]["initContainers"][0]["volumeMounts"] == container["volumeMounts"]


def test_a_pod_without_a_bundle_is_refused_under_podman_too(tmp_path):
    request = request_for(EXAMPLES[0], "small", store_url=(tmp_path / "store").as_uri(), bundle=None)
    with pytest.raises(ConfigError, match=f"run {RUN_ID} of '{EXAMPLES[0].name}' has no bundle of its report folder"):
        build_pod_manifest(replace(request, executor="podman"))


def test_kubernetes_needs_object_storage_and_a_bundle(tmp_path):
    report = EXAMPLES[0]
    with pytest.raises(
        ConfigError, match=r"executor 'kubernetes' needs object storage .* cannot reach the local store"
    ):
        build_pod_manifest(request_for(report, "small", store_url=(tmp_path / "store").as_uri()))
    with pytest.raises(ConfigError, match=f"run {RUN_ID} of 'sales_digest' has no bundle of its report folder"):
        build_pod_manifest(request_for(find_report(REPO / "notebooks", "sales_digest"), "small", bundle=None))
    with pytest.raises(ConfigError, match="executor 'local' starts no pod"):
        build_pod_manifest(request_for(report, "small", executor="local"))
    manifest = build_pod_manifest(request_for(report, "small"))
    assert "hostPath" not in json.dumps(manifest)  # no folder of the worker's ever reaches a cluster's pod


def test_the_kernel_writes_only_to_its_scratch_volumes():
    manifest = build_pod_manifest(request_for(EXAMPLES[0], "small"))
    spec = manifest["spec"]
    assert {v["name"]: v for v in spec["volumes"]} == {
        "scratch": {"name": "scratch", "emptyDir": {}},
        "tmp": {"name": "tmp", "emptyDir": {}},
    }
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    for container in [*spec["initContainers"], *spec["containers"]]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {m["mountPath"] for m in container["volumeMounts"]} == {SCRATCH, TMP}
        env = {e["name"]: e["value"] for e in container["env"]}
        for name in ("HOME", "TMPDIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
            assert env[name].startswith((SCRATCH, TMP)), name  # writable: everything else is read-only
        assert env["NBREPORTS_HOME"].startswith(SCRATCH)
    assert spec["containers"][0]["securityContext"] is not spec["initContainers"][0]["securityContext"]


def test_names_and_labels_stay_valid_for_awkward_ids():
    name = pod_name("a_very_long_report_name_" + "x" * 40, "R" * 120, 10)
    assert len(name) <= 63
    assert name == name.lower()
    assert name[0].isalnum()
    assert label_value("scheduled__2024-01-31T06:00:00+00:00") == "scheduled__2024-01-31T06-00-00-00-00"
    assert len(label_value("-" + "a" * 100)) == 63


def test_profiles_are_limited_to_the_team():
    spec = parse_spec({"title": "t", "team": "data-eng", "executor": "podman"}, "report.yaml")
    assert choose_compute("r", spec, None, CONFIG) == ("small", "localhost/nbreports-kernel/data-eng:ga")
    assert choose_compute("r", spec, "medium", CONFIG)[0] == "medium"
    with pytest.raises(ProfileError, match="'gpu' is not allowed for team 'data-eng'; choose one of small, medium"):
        choose_compute("r", spec, "gpu", CONFIG)
    with pytest.raises(ProfileError, match="'huge' is unknown"):
        choose_compute("r", spec, "huge", CONFIG)
    local = parse_spec({"title": "t", "team": "data-eng"}, "report.yaml")
    assert choose_compute("r", local, "medium", CONFIG) == (None, None)  # runs in the worker: no pod, no image
    with pytest.raises(ProfileError, match="'gpu' is not allowed for team 'data-eng'"):  # it would pick the queue
        choose_compute("r", local, "gpu", CONFIG)


def test_channel_and_digest_choose_the_image():
    digest = "sha256:" + "ab" * 32
    beta = parse_spec({"title": "t", "team": "analytics", "image": {"channel": "beta"}}, "r.yaml")
    pinned = parse_spec({"title": "t", "team": "analytics", "image": {"channel": "beta", "digest": digest}}, "r.yaml")
    assert CONFIG.image_for(beta) == "localhost/nbreports-kernel/analytics:beta"
    assert CONFIG.image_for(pinned) == f"localhost/nbreports-kernel/analytics@{digest}"
    with pytest.raises(SpecError, match=r"image\.digest"):
        parse_spec({"title": "t", "image": {"digest": "latest"}}, "r.yaml")
    with pytest.raises(SpecError, match="executor"):
        parse_spec({"title": "t", "executor": "docker"}, "r.yaml")


def test_bad_config_is_a_clear_error(tmp_path):
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(yaml.safe_dump({"profiles": {"small": {}}}))
    teams = tmp_path / "teams.yaml"
    teams.write_text(yaml.safe_dump({"teams": {"a": {"environment": "a", "profiles": ["small", "big"]}}}))
    with pytest.raises(ConfigError, match=r"team 'a' \(teams file\) names unknown profiles \['big'\]"):
        load_compute_config(profiles, teams)
    old_style = tmp_path / "old.yaml"
    old_style.write_text(yaml.safe_dump({"profiles": {"small": {}}, "teams": {"a": {"profiles": ["small"]}}}))
    with pytest.raises(ConfigError, match="teams are declared in the teams file"):
        load_compute_config(old_style, teams)
    with pytest.raises(ConfigError, match="no compute config"):
        load_compute_config(tmp_path / "missing.yaml")
    assert isinstance(CONFIG, ComputeConfig)


def test_nbr_pod_spec_prints_the_manifest(capsys, monkeypatch, home):
    monkeypatch.setenv("NBREPORTS_NOTEBOOKS_DIR", str(REPO / "notebooks"))
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(REPO / "config" / "profiles.yaml"))
    monkeypatch.setenv("NBREPORTS_STORE_URL", "s3://reports/prod")
    assert main(["pod-spec", "sales_summary", "--profile", "medium", "--run-id", RUN_ID]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    assert_restricted(manifest)
    assert manifest["spec"]["containers"][0]["resources"]["limits"]["memory"] == "4Gi"
    folder = find_report(REPO / "notebooks", "sales_summary").folder
    assert manifest["spec"]["initContainers"][0]["args"] == [bundle_digest(folder), WORKDIR]
    assert manifest["metadata"]["annotations"]["nbreports.io/bundle"] == bundle_digest(folder)
    assert main(["pod-spec", "data_quality", "--profile", "gpu"]) == 2
    assert "not allowed for team 'data-eng'" in capsys.readouterr().err
    monkeypatch.setenv("NBREPORTS_STORE_URL", str(home / "store"))
    get_settings.cache_clear()
    assert main(["pod-spec", "sales_summary"]) == 2  # a cluster's pod cannot reach a local store
    assert "executor 'kubernetes' needs object storage" in capsys.readouterr().err


# -- a pod is its team's: namespace, Secret, credentials, what its kernel may read ------------------


def _teams_config(tmp_path, **teams):
    path = tmp_path / "teams.yaml"
    path.write_text(yaml.safe_dump({"teams": teams}))
    return load_compute_config(REPO / "config" / "profiles.yaml", path)


def test_each_team_gets_its_own_namespace_and_secret_and_never_another_teams(tmp_path):
    config = _teams_config(
        tmp_path,
        red={"folders": ["red_*"], "namespace": "ns-red", "store_secret": "store-red"},
        blue={"folders": ["blue_*"], "namespace": "ns-blue", "store_secret": "store-blue"},
        plain={"folders": ["*"]},
    )
    run = {"report": "r", "run_id": RUN_ID, "kernel": "python3", "image": "img/analytics:ga", "cell_timeout": 1}
    run |= {"profile": CONFIG.profiles["small"], "store_url": "s3://b/p", "run_timeout": 2, "bundle": "b" * 64}
    got = {}
    for team in ("red", "blue", "plain", "unknown"):
        manifest = build_pod_manifest(pod_request(config, team, **run))
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        assert_restricted(manifest)
        [container] = manifest["spec"]["containers"]
        [fetch] = manifest["spec"]["initContainers"]
        assert fetch["envFrom"] == container["envFrom"]  # the bundle is fetched with the same Secret, nothing more
        got[team] = (manifest["metadata"]["namespace"], container["envFrom"][0]["secretRef"]["name"])
        assert manifest["metadata"]["labels"]["nbreports.io/team"] == team
    assert got == {
        "red": ("ns-red", "store-red"),
        "blue": ("ns-blue", "store-blue"),
        "plain": ("nbreports", "nbreports-store"),  # no entry of its own: the compute config's, not a team's
        "unknown": ("nbreports", "nbreports-store"),
    }


def test_the_shipped_reports_pods_are_their_teams(home, monkeypatch):
    monkeypatch.setenv("NBREPORTS_PROFILES_FILE", str(REPO / "config" / "profiles.yaml"))
    for name, namespace, secret in [
        ("sales_summary", "nbreports-analytics", "nbreports-store-analytics"),
        ("data_quality", "nbreports-data-eng", "nbreports-store-data-eng"),
        ("hr_headcount", "nbreports-people", "nbreports-store-people"),
    ]:
        settings = get_settings().model_copy(update={"store_url": "s3://reports/prod"})
        manifest = report_pod_manifest(find_report(REPO / "notebooks", name), settings)
        [container] = manifest["spec"]["containers"]
        assert manifest["metadata"]["namespace"] == namespace
        assert container["envFrom"] == [{"secretRef": {"name": secret}}]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["NBREPORTS_REPORT"] == name
        readable = json.loads(env["NBREPORTS_READABLE_REPORTS"])  # what its kernel may read, by the policy
        assert name in readable
        assert ("hr_headcount" in readable) == (name == "hr_headcount")


def test_podman_puts_the_teams_own_credentials_in_the_pod_secret():
    import base64

    from nbreports.engines.podman import pod_secret_data
    from nbreports.pods.request import use_team_store_credentials

    worker = {"AWS_ACCESS_KEY_ID": "worker-key", "AWS_SECRET_ACCESS_KEY": "worker-secret"}
    own = {"red": {"AWS_ACCESS_KEY_ID": "red-key", "AWS_SECRET_ACCESS_KEY": "red-secret"}}

    def secret_of(team, **kw):
        data = pod_secret_data(replace(request_for(EXAMPLES[0], "small"), team=team, **kw), worker)
        return {k: base64.b64decode(v).decode() for k, v in json.loads(data or "{}").items()}

    use_team_store_credentials(own.get)
    try:
        assert secret_of("red") == own["red"]
        assert secret_of("blue") == worker  # a team with no credentials of its own: the worker's, not red's
        with pytest.raises(ConfigError, match="'blue' has its own store credentials"):
            secret_of("blue", own_store_credentials=True)  # never the worker's in place of the team's own
        use_team_store_credentials(None)
        assert secret_of("red") == worker
        assert pod_secret_data(request_for(EXAMPLES[0], "small", store_url="file:///tmp/s"), worker) is None
    finally:
        use_team_store_credentials(None)
