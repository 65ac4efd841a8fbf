"""Every pod the platform builds for a cluster meets the Pod Security Standard ``restricted`` (tests/pod_security.py),
and the checker refuses each kind of pod the standard refuses."""

import copy
from dataclasses import replace

import kubernetes_validate
import pytest
from kubernetes_validate.utils import latest_version

from nbreports.pods.compute import load_compute_config
from nbreports.pods.manifest import PodRequest, build_pod_manifest
from nbreports.pods.request import pod_request, report_pod_manifest
from nbreports.reports.catalog import load_reports
from nbreports.settings import get_settings
from tests.conftest import REPO
from tests.pod_security import CHECKS, assert_restricted, violations

CONFIG = load_compute_config(REPO / "config" / "profiles.yaml", REPO / "config" / "teams.yaml")
EXAMPLES, _ = load_reports(REPO / "notebooks")
K8S_VERSION = latest_version()
TEAM_PROFILES = [(team, profile) for team in sorted(CONFIG.teams) for profile in CONFIG.allowed_profiles(team)]


@pytest.fixture
def config():
    return CONFIG


def _request(config, team: str, profile: str) -> PodRequest:
    return pod_request(
        config,
        team,
        report="r",
        run_id="20240131T060000Z-1a2b3c4d",
        kernel="python3",
        image=f"localhost/nbreports-kernel/{config.team(team).environment}:ga",
        profile=config.profiles[profile].model_copy(update={"name": profile}),
        store_url="s3://reports/prod",
        cell_timeout=60,
        run_timeout=600,
        store_options={"endpoint_url": "http://minio.storage:9000"},
        executor="kubernetes",
        bundle="c" * 64,
    )


@pytest.mark.parametrize(("team", "profile"), TEAM_PROFILES)
def test_every_team_and_profile_is_admitted(config, team, profile):
    manifest = build_pod_manifest(_request(config, team, profile))
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    assert_restricted(manifest)
    assert violations(manifest) == []


@pytest.mark.parametrize("report", EXAMPLES, ids=lambda r: r.name)
def test_every_example_reports_pod_is_admitted(config, report, home, monkeypatch):
    monkeypatch.setenv("NBREPORTS_STORE_URL", "s3://reports/prod")
    settings = get_settings()
    for profile in config.allowed_profiles(report.spec.team):
        manifest = report_pod_manifest(report, settings, profile=profile, config=config)
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        assert_restricted(manifest)


def test_a_podman_pod_on_object_storage_is_admitted_too(config):
    manifest = build_pod_manifest(replace(_request(config, "analytics", "small"), executor="podman"))
    assert_restricted(manifest)  # the same pod as on a cluster: podman adds host folders only for a local store


def _good(config):
    return build_pod_manifest(_request(config, "analytics", "small"))


def _set(path: str, value):
    """A mutation setting ``path`` (dots; ``[n]`` for list items; ``*`` for every container) to ``value``."""

    def mutate(pod):
        targets = [pod]
        *parents, last = path.split(".")
        for part in parents:
            if part == "*":
                targets = [c for t in targets for c in [*t["initContainers"], *t["containers"]]]
            elif part.endswith("]"):
                name, index = part[:-1].split("[")
                targets = [t[name][int(index)] for t in targets]
            else:
                targets = [t.setdefault(part, {}) for t in targets]
        for target in targets:
            if value is _DELETE:
                target.pop(last, None)
            else:
                target[last] = copy.deepcopy(value)

    return mutate


_DELETE = object()
MUTATIONS = {  # a change to an admitted pod -> the check that must refuse it
    "hostPath volume": (_set("spec.volumes", [{"name": "h", "hostPath": {"path": "/srv"}}]), "restrictedVolumes"),
    "nfs volume": (_set("spec.volumes", [{"name": "n", "nfs": {"server": "s", "path": "/"}}]), "restrictedVolumes"),
    "root user": (_set("spec.securityContext.runAsUser", 0), "runAsUser"),
    "a container as root": (_set("spec.containers[0].securityContext.runAsUser", 0), "runAsUser"),
    "runAsNonRoot unset": (_set("spec.securityContext.runAsNonRoot", _DELETE), "runAsNonRoot"),
    "runAsNonRoot false": (_set("spec.initContainers[0].securityContext.runAsNonRoot", False), "runAsNonRoot"),
    "privileged": (_set("spec.*.securityContext.privileged", True), "privileged"),
    "escalation allowed": (
        _set("spec.initContainers[0].securityContext.allowPrivilegeEscalation", True),
        "allowPrivilegeEscalation",
    ),
    "escalation unset": (
        _set("spec.containers[0].securityContext.allowPrivilegeEscalation", _DELETE),
        "allowPrivilegeEscalation",
    ),
    "capabilities kept": (
        _set("spec.containers[0].securityContext.capabilities", {"drop": ["NET_RAW"]}),
        "capabilities_restricted",
    ),
    "capability added": (
        _set("spec.containers[0].securityContext.capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
        "capabilities_restricted",
    ),
    "seccomp unset": (_set("spec.securityContext.seccompProfile", _DELETE), "seccompProfile_restricted"),
    "seccomp unconfined": (
        _set("spec.containers[0].securityContext.seccompProfile", {"type": "Unconfined"}),
        "seccompProfile_restricted",
    ),
    "host network": (_set("spec.hostNetwork", True), "hostNamespaces"),
    "host PID": (_set("spec.hostPID", True), "hostNamespaces"),
    "host port": (_set("spec.containers[0].ports", [{"containerPort": 80, "hostPort": 80}]), "hostPorts"),
    "unmasked /proc": (_set("spec.containers[0].securityContext.procMount", "Unmasked"), "procMount_restricted"),
    "SELinux user": (_set("spec.securityContext.seLinuxOptions", {"user": "system_u"}), "seLinuxOptions"),
    "AppArmor unconfined": (
        _set("spec.containers[0].securityContext.appArmorProfile", {"type": "Unconfined"}),
        "appArmorProfile",
    ),
    "unsafe sysctl": (_set("spec.securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}]), "sysctls"),
    "Windows host process": (
        _set("spec.securityContext.windowsOptions", {"hostProcess": True}),
        "windowsHostProcess",
    ),
    "probe to another host": (
        _set("spec.containers[0].livenessProbe", {"httpGet": {"host": "10.0.0.1", "port": 80}}),
        "hostProbesAndHostLifecycle",
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_the_checker_refuses_what_the_standard_refuses(config, case):
    mutate, check_id = MUTATIONS[case]
    pod = _good(config)
    mutate(pod)
    found = violations(pod)
    assert {v.split(":")[0] for v in found} == {check_id}, found
    with pytest.raises(AssertionError, match=check_id):
        assert_restricted(pod)


def test_every_check_is_exercised():
    assert {check for _, check in MUTATIONS.values()} == set(CHECKS)


def test_user_namespaces_relax_only_the_user_checks(config):
    pod = _good(config)
    pod["spec"]["hostUsers"] = False
    pod["spec"]["securityContext"].update(runAsUser=0, runAsNonRoot=False)
    assert violations(pod) == []  # policy/helpers.go: a pod in its own user namespace may be root inside it
    pod["spec"]["hostNetwork"] = True
    assert [v.split(":")[0] for v in violations(pod)] == ["hostNamespaces"]
