"""The Pod Security Standard ``restricted`` for a Pod manifest (a plain dict), as the admission controller checks it.

Written from the rules' reference implementation, kubernetes/pod-security-admission at commit
8f84a87c7f617f64a4ddc1aea24aeeb7a2e07cb8 (``policy/check_*.go``, newest version of each check, i.e. the
``latest`` policy version), which implements https://kubernetes.io/docs/concepts/security/pod-security-standards/.
The ``restricted`` level is every ``baseline`` check plus the restricted ones, where a restricted check
overrides the baseline check it names (``OverrideCheckIDs``). As in ``policy/visitor.go``, "every
container" means init, regular and ephemeral containers. Each function below names its Go file.

``violations(pod)`` lists what the admission controller would refuse, as ``"<check id>: <detail>"``;
``assert_restricted(pod)`` fails a test with that list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Pod = dict[str, Any]

_SYSCTLS = frozenset(  # check_sysctls.go, sysctlsAllowedV1Dot37
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
        "net.ipv4.tcp_slow_start_after_idle",
        "net.ipv4.tcp_notsent_lowat",
    }
)
_VOLUMES = frozenset(  # check_restrictedVolumes.go: the only volume sources allowed
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})  # 1.31
_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})  # check_seccompProfile_baseline.go, validSeccomp
_APPARMOR = frozenset({"RuntimeDefault", "Localhost"})  # check_appArmorProfile.go, allowedProfileType
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _spec(pod: Pod) -> dict[str, Any]:
    return dict(pod.get("spec") or {})


def _containers(pod: Pod) -> Iterator[dict[str, Any]]:
    """policy/visitor.go, visitContainers: init containers, containers, ephemeral containers."""
    spec = _spec(pod)
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(kind) or []


def _sc(holder: dict[str, Any]) -> dict[str, Any]:
    return dict(holder.get("securityContext") or {})


def _windows(pod: Pod) -> bool:
    """Windows pods are exempt from the Linux-only checks from 1.25 (``podSpec.OS.Name == Windows``)."""
    return (_spec(pod).get("os") or {}).get("name") == "windows"


def _user_namespace(pod: Pod) -> bool:
    """policy/helpers.go, relaxPolicyForUserNamespacePod: ``hostUsers: false`` relaxes the user checks from 1.35."""
    return _spec(pod).get("hostUsers") is False


def host_process(pod: Pod) -> list[str]:
    """check_windowsHostProcess.go: no ``windowsOptions.hostProcess: true`` on the pod or any container."""
    holders = [("pod", _spec(pod)), *((c["name"], c) for c in _containers(pod))]
    return [
        f"{who} sets hostProcess=true" for who, h in holders if (_sc(h).get("windowsOptions") or {}).get("hostProcess")
    ]


def host_namespaces(pod: Pod) -> list[str]:
    """check_hostNamespaces.go: ``hostNetwork``, ``hostPID``, ``hostIPC`` unset or false."""
    return [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if _spec(pod).get(key)]


def privileged(pod: Pod) -> list[str]:
    """check_privileged.go: no container with ``privileged: true``."""
    return [f"container {c['name']} sets privileged=true" for c in _containers(pod) if _sc(c).get("privileged")]


def capabilities(pod: Pod) -> list[str]:
    """check_capabilities_restricted.go (overrides baseline's list): drop ``ALL``, add only ``NET_BIND_SERVICE``."""
    if _windows(pod):
        return []
    problems = []
    for c in _containers(pod):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f'container {c["name"]} must set securityContext.capabilities.drop=["ALL"]')
        if added := [a for a in caps.get("add") or [] if a != "NET_BIND_SERVICE"]:
            problems.append(f"container {c['name']} must not add {added}")
    return problems


def volumes(pod: Pod) -> list[str]:
    """check_restrictedVolumes.go (overrides baseline's hostPath check): only the allowed volume sources."""
    problems = []
    for volume in _spec(pod).get("volumes") or []:
        sources = set(volume) - {"name"}
        if not sources & _VOLUMES:
            problems.append(f"volume {volume.get('name')} uses {sorted(sources) or ['nothing']}")
    return problems


def host_ports(pod: Pod) -> list[str]:
    """check_hostPorts.go: no container port with a ``hostPort``."""
    return [
        f"container {c['name']} uses hostPort {p['hostPort']}"
        for c in _containers(pod)
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]


def probe_hosts(pod: Pod) -> list[str]:
    """check_hostProbesAndhostLifecycle.go (1.34): no ``host`` in probes' or lifecycle handlers' httpGet/tcpSocket."""
    problems = []
    for c in _containers(pod):
        lifecycle = c.get("lifecycle") or {}
        handlers = [c.get(k) for k in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [lifecycle.get(k) for k in ("postStart", "preStop")]
        for handler in filter(None, handlers):
            hosts = [(handler.get(k) or {}).get("host") for k in ("httpGet", "tcpSocket")]
            problems += [f"container {c['name']} probes or hooks host {h}" for h in hosts if h]
    return problems


def app_armor(pod: Pod) -> list[str]:
    """check_appArmorProfile.go: a set profile type is RuntimeDefault or Localhost; likewise the beta annotations."""
    holders = [("pod", _spec(pod)), *((c["name"], c) for c in _containers(pod))]
    problems = [
        f"{who} sets AppArmor profile type {profile['type']}"
        for who, h in holders
        if (profile := _sc(h).get("appArmorProfile")) and profile.get("type") not in _APPARMOR
    ]
    for key, value in ((pod.get("metadata") or {}).get("annotations") or {}).items():
        allowed = value in ("", "runtime/default") or str(value).startswith("localhost/")
        if key.startswith(_APPARMOR_ANNOTATION) and not allowed:
            problems.append(f"annotation {key}={value!r}")
    return problems


def se_linux(pod: Pod) -> list[str]:
    """check_seLinuxOptions.go (1.31): type among the container types, ``user`` and ``role`` unset."""
    holders = [("pod", _spec(pod)), *((c["name"], c) for c in _containers(pod))]
    problems = []
    for who, holder in holders:
        options = _sc(holder).get("seLinuxOptions")
        if options and (options.get("type", "") not in _SELINUX_TYPES or options.get("user") or options.get("role")):
            problems.append(f"{who} sets forbidden seLinuxOptions {options}")
    return problems


def proc_mount(pod: Pod) -> list[str]:
    """check_procMount_restricted.go (1.35, unconditional at restricted): ``procMount`` unset or ``Default``."""
    return [
        f"container {c['name']} sets procMount {_sc(c)['procMount']}"
        for c in _containers(pod)
        if _sc(c).get("procMount") not in (None, "Default")
    ]


def seccomp(pod: Pod) -> list[str]:
    """check_seccompProfile_restricted.go (overrides baseline): RuntimeDefault/Localhost on pod or each container."""
    if _windows(pod):
        return []
    pod_type = (_sc(_spec(pod)).get("seccompProfile") or {}).get("type")
    problems = [] if pod_type in (None, *_SECCOMP) else [f"pod sets seccompProfile.type {pod_type}"]
    for c in _containers(pod):
        own = (_sc(c).get("seccompProfile") or {}).get("type")
        if own is not None and own not in _SECCOMP:
            problems.append(f"container {c['name']} sets seccompProfile.type {own}")
        elif own is None and pod_type not in _SECCOMP:
            problems.append(f"pod or container {c['name']} must set seccompProfile.type RuntimeDefault or Localhost")
    return problems


def sysctls(pod: Pod) -> list[str]:
    """check_sysctls.go (1.37 list): only the namespaced, safe sysctls."""
    names = [s.get("name") for s in _sc(_spec(pod)).get("sysctls") or []]
    return [f"forbidden sysctl {name}" for name in names if name not in _SYSCTLS]


def privilege_escalation(pod: Pod) -> list[str]:
    """check_allowPrivilegeEscalation.go (1.25): every container sets ``allowPrivilegeEscalation: false``."""
    if _windows(pod):
        return []
    return [
        f"container {c['name']} must set securityContext.allowPrivilegeEscalation=false"
        for c in _containers(pod)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]


def run_as_non_root(pod: Pod) -> list[str]:
    """check_runAsNonRoot.go (1.35): ``runAsNonRoot: true`` on the pod or every container, never false."""
    if _user_namespace(pod):
        return []
    on_pod = _sc(_spec(pod)).get("runAsNonRoot")
    problems = ["pod sets runAsNonRoot=false"] if on_pod is False else []
    for c in _containers(pod):
        own = _sc(c).get("runAsNonRoot")
        if own is False:
            problems.append(f"container {c['name']} sets runAsNonRoot=false")
        elif own is None and on_pod is not True:
            problems.append(f"pod or container {c['name']} must set securityContext.runAsNonRoot=true")
    return problems


def run_as_user(pod: Pod) -> list[str]:
    """check_runAsUser.go (1.35): no ``runAsUser: 0`` on the pod or any container."""
    if _user_namespace(pod):
        return []
    holders = [("pod", _spec(pod)), *((c["name"], c) for c in _containers(pod))]
    return [f"{who} sets runAsUser=0" for who, h in holders if _sc(h).get("runAsUser") == 0]


CHECKS: dict[str, Callable[[Pod], list[str]]] = {  # check id (as in the Go files) -> its check
    "windowsHostProcess": host_process,
    "hostNamespaces": host_namespaces,
    "privileged": privileged,
    "capabilities_restricted": capabilities,
    "restrictedVolumes": volumes,
    "hostPorts": host_ports,
    "hostProbesAndHostLifecycle": probe_hosts,
    "appArmorProfile": app_armor,
    "seLinuxOptions": se_linux,
    "procMount_restricted": proc_mount,
    "seccompProfile_restricted": seccomp,
    "sysctls": sysctls,
    "allowPrivilegeEscalation": privilege_escalation,
    "runAsNonRoot": run_as_non_root,
    "runAsUser": run_as_user,
}


def violations(pod: Pod) -> list[str]:
    """What the ``restricted`` level refuses in ``pod``, as ``"<check id>: <detail>"`` (empty: admitted)."""
    return [f"{check_id}: {problem}" for check_id, check in CHECKS.items() for problem in check(pod)]


def assert_restricted(pod: Pod) -> None:
    """Fail (``AssertionError``) unless ``pod`` meets the Pod Security Standard ``restricted``."""
    found = violations(pod)
    assert not found, "not admitted under the Pod Security Standard 'restricted':\n  " + "\n  ".join(found)
