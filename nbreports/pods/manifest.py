"""The Pod manifest of one report run: one pure function shared by the podman and kubernetes engines.

The pod runs plain papermill from the team's image: it reads the pinned input notebook from the
store and writes the output notebook back to it. Versioning, caching and publishing stay outside
the pod. Store credentials only ever arrive through a Secret reference, never as plain values:
the team's own Secret, in the team's namespace (``pods/request.py`` picks them from the teams file).
The kernel is told its report and run (``kernel.json`` goes to the run's folder) and which reports
it may read (``NBREPORTS_READABLE_REPORTS``); it is never told where the platform database is.

A pod a security team admits (the Pod Security Standard ``restricted``, checked by
``tests/pod_security.py``): it runs as the image's user ``POD_UID`` (never root), without privilege
escalation, capabilities or the service-account token, under the runtime's seccomp profile, on a
read-only root filesystem. What papermill and the kernel write goes to two ``emptyDir`` volumes:
``/tmp`` and ``SCRATCH`` (HOME, the Jupyter runtime and IPython folders, caches, the working directory).

The report folder's files come as the run's bundle (``runs/bundle.py``): an init container of the
same image fetches it from the store into the working directory, with the same Secret; a run
without a bundle is a ``ConfigError``, since no pod ever sees a worker's folder. For ``executor:
kubernetes`` there is no ``hostPath`` at all, so the store must be object storage (a cluster's
nodes have no folder of the worker's; ``ConfigError`` otherwise). Under ``podman`` (one machine)
a ``file://`` store is mounted from the host.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from nbreports.access.kernel import READABLE_ENV, encode_readable
from nbreports.errors import ConfigError
from nbreports.pods.compute import Profile
from nbreports.storage.store import Store

STORE_MOUNT = "/nbreports/store"  # a local store's folder, as the pod sees it (podman only)
SCRATCH = "/nbreports/scratch"  # the writable emptyDir: HOME, Jupyter's runtime, the working directory
WORKDIR = f"{SCRATCH}/report"  # where the init container unpacks the run's bundle
TMP = "/tmp"  # noqa: S108 - the container's own /tmp (an emptyDir), not the host's
POD_UID = 10001  # the kernel image's user ``nbr`` (images/Containerfile): never root
CONTAINER = "papermill"
BUNDLE_CONTAINER = "bundle"
EXECUTORS = ("podman", "kubernetes")
LABEL_PREFIX = "nbreports.io"
DEADLINE_GRACE_S = 60  # the cluster's hard stop comes this long after the run timeout
_SAFE_OPTIONS = ("endpoint_url", "region_name")  # store options that are not secrets


@dataclass(frozen=True)
class PodRequest:
    """Everything the manifest depends on, as plain data."""

    report: str
    run_id: str
    kernel: str
    image: str
    profile: Profile
    store_url: str  # the store's URL prefix: file:///host/folder or s3://bucket/prefix
    cell_timeout: int
    run_timeout: int
    environment: str = "default"  # the team environment (image) the pod runs
    store_options: dict[str, Any] = field(default_factory=dict)  # endpoint_url, region_name only
    store_secret: str | None = None  # Secret whose keys become the container's environment
    dag_id: str | None = None
    try_number: int = 1
    host_network: bool = False
    namespace: str | None = None  # the team's (else the compute config's)
    team: str = "default"  # the team owning the report: its namespace, Secret and credentials
    readable_reports: tuple[str, ...] | None = None  # what the kernel may read; None: the kernel decides
    own_store_credentials: bool = False  # the team names its own (store_conn_id): the worker's never stand in
    executor: str = "kubernetes"  # kubernetes: no hostPath at all; podman: one machine, host folders allowed
    bundle: str | None = None  # sha256 of the report folder's bundle in the store (``RunPlan.bundle``)

    @property
    def local_store_root(self) -> str | None:
        """The host folder of a local (``file://``) store, or None for object storage."""
        return self.store_url.removeprefix("file://") if self.store_url.startswith("file://") else None


def label_value(text: str) -> str:
    """A valid Kubernetes label value (63 chars of [A-Za-z0-9._-], alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", text).strip("-_.")
    return value[:63].rstrip("-_.")


def pod_name(report: str, run_id: str, try_number: int = 1) -> str:
    """A DNS-1123 name unique per run and try, short enough to be a hostname."""
    digest = hashlib.sha256(f"{report}/{run_id}".encode()).hexdigest()[:8]
    stem = re.sub(r"[^a-z0-9-]", "-", f"nbr-{report}-{run_id}".lower())[:48].strip("-")
    return f"{stem}-{digest}-t{try_number}"


def run_labels(request: PodRequest) -> dict[str, str]:
    """The labels a retry uses to find (and re-attach to) the pod of its run."""
    labels = {
        "app.kubernetes.io/managed-by": "nbreports",
        f"{LABEL_PREFIX}/report": label_value(request.report),
        f"{LABEL_PREFIX}/run-id": label_value(request.run_id),
        f"{LABEL_PREFIX}/try-number": str(request.try_number),
        f"{LABEL_PREFIX}/team": label_value(request.team),
        f"{LABEL_PREFIX}/environment": label_value(request.environment),
        f"{LABEL_PREFIX}/profile": label_value(request.profile.name),
    }
    if request.dag_id:
        labels[f"{LABEL_PREFIX}/dag-id"] = label_value(request.dag_id)
    return labels


def notebook_paths(request: PodRequest) -> tuple[str, str]:
    """Input and output notebook as papermill in the pod opens them."""
    base = STORE_MOUNT if request.local_store_root else request.store_url.rstrip("/")
    run = Store.run_key(request.report, request.run_id)
    return f"{base}/{run}/input.ipynb", f"{base}/{run}/output.ipynb"


def check_pod_request(request: PodRequest) -> None:
    """``ConfigError`` unless the pod can work where it runs: a bundle always, and on a cluster object storage."""
    if request.executor not in EXECUTORS:
        raise ConfigError(f"executor {request.executor!r} starts no pod; pods run under {' or '.join(EXECUTORS)}")
    if not request.bundle:
        raise ConfigError(
            f"run {request.run_id} of {request.report!r} has no bundle of its report folder: "
            "a pod reads the report's files only from the store (prepare stores them as RunPlan.bundle)"
        )
    if request.executor == "kubernetes" and request.local_store_root:
        raise ConfigError(
            f"report {request.report!r}: executor 'kubernetes' needs object storage (NBREPORTS_STORE_URL=s3://...); "
            f"a pod on a cluster cannot reach the local store {request.store_url} "
            "(executor 'podman' runs pods on this machine)"
        )


def _env(request: PodRequest) -> list[dict[str, Any]]:
    store_url = STORE_MOUNT if request.local_store_root else request.store_url
    env = {
        "NBREPORTS_STORE_URL": store_url,
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
        "HOME": f"{SCRATCH}/home",  # the root filesystem is read-only: everything written goes to the scratch
        "TMPDIR": TMP,
        "JUPYTER_RUNTIME_DIR": f"{SCRATCH}/jupyter-runtime",  # the kernel's connection file
        "IPYTHONDIR": f"{SCRATCH}/ipython",
        "MPLCONFIGDIR": f"{SCRATCH}/matplotlib",
        "XDG_CACHE_HOME": f"{SCRATCH}/cache",
        "NBREPORTS_HOME": f"{SCRATCH}/nbreports",
        "NBREPORTS_REPORT": request.report,
        "NBREPORTS_RUN_ID": request.run_id,
    }
    if request.readable_reports is not None:
        env[READABLE_ENV] = encode_readable(request.readable_reports)
    options = {k: v for k, v in request.store_options.items() if k in _SAFE_OPTIONS}
    if options:
        env["NBREPORTS_STORE_OPTIONS"] = json.dumps(options, sort_keys=True)
    if "endpoint_url" in options:  # papermill's own S3 client (boto3) reads this one
        env["AWS_ENDPOINT_URL_S3"] = str(options["endpoint_url"])
    if "region_name" in options:
        env["AWS_DEFAULT_REGION"] = str(options["region_name"])
    return [{"name": k, "value": v} for k, v in env.items()]


def _volumes(request: PodRequest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The volumes and their mounts: the two scratch ``emptyDir``s, and under podman a local store's folder.

    That folder is mounted read-only except this run's folder; the report's files come from the bundle.
    """
    volumes: list[dict[str, Any]] = [{"name": "scratch", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    mounts: list[dict[str, Any]] = [{"name": "scratch", "mountPath": SCRATCH}, {"name": "tmp", "mountPath": TMP}]
    if request.executor != "podman":
        return volumes, mounts
    if root := request.local_store_root:
        run = Store.run_key(request.report, request.run_id)
        volumes += [
            {"name": "store", "hostPath": {"path": root, "type": "Directory"}},
            {"name": "run", "hostPath": {"path": f"{root}/{run}", "type": "Directory"}},
        ]
        mounts += [
            {"name": "store", "mountPath": STORE_MOUNT, "readOnly": True},
            {"name": "run", "mountPath": f"{STORE_MOUNT}/{run}"},
        ]
    return volumes, mounts


POD_SECURITY: dict[str, Any] = {  # every container runs as the image's user, under the runtime's seccomp profile
    "runAsNonRoot": True,
    "runAsUser": POD_UID,
    "runAsGroup": POD_UID,
    "fsGroup": POD_UID,  # the emptyDir volumes are the group's, writable
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def _container(request: PodRequest, name: str, command: list[str], args: list[str]) -> dict[str, Any]:
    """One container of the pod: the team's image, its environment, the pod's limits, locked down."""
    profile = request.profile
    mounts = _volumes(request)[1]
    container: dict[str, Any] = {
        "name": name,
        "image": request.image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "args": args,
        "workingDir": SCRATCH if name == BUNDLE_CONTAINER else WORKDIR,
        "env": _env(request),
        "resources": {k: dict(v) for k, v in (("requests", profile.requests), ("limits", profile.limits)) if v},
        "securityContext": json.loads(json.dumps(CONTAINER_SECURITY)),  # a copy each: callers may edit theirs
        "volumeMounts": mounts,
    }
    if request.store_secret and not request.local_store_root:  # a mounted folder needs no credentials
        container["envFrom"] = [{"secretRef": {"name": request.store_secret}}]
    return container


def build_pod_manifest(request: PodRequest) -> dict[str, Any]:
    """The Kubernetes Pod (a plain dict, as ``kubectl apply`` or ``podman kube play`` reads it).

    ``ConfigError`` for a pod that could not work where it runs (``check_pod_request``).
    """
    check_pod_request(request)
    input_nb, output_nb = notebook_paths(request)
    args = [input_nb, output_nb, "--kernel", request.kernel, "--cwd", WORKDIR]
    args += ["--execution-timeout", str(request.cell_timeout)]
    args += ["--log-output", "--no-progress-bar", "--request-save-on-cell-execute"]
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": request.run_timeout + DEADLINE_GRACE_S,
        "automountServiceAccountToken": False,  # a notebook has no business with the cluster's API
        "enableServiceLinks": False,  # nor with the namespace's services as environment variables
        "securityContext": json.loads(json.dumps(POD_SECURITY)),
        "containers": [_container(request, CONTAINER, ["papermill"], args)],
        "volumes": _volumes(request)[0],
    }
    fetch = ["python", "-m", "nbreports.runs.bundle"]  # the report folder's files, unpacked before papermill starts
    spec["initContainers"] = [_container(request, BUNDLE_CONTAINER, fetch, [str(request.bundle), WORKDIR])]
    if request.host_network:
        spec["hostNetwork"] = True
    if request.profile.node_selector:
        spec["nodeSelector"] = dict(request.profile.node_selector)
    if request.profile.tolerations:
        spec["tolerations"] = [dict(t) for t in request.profile.tolerations]
    metadata: dict[str, Any] = {
        "name": pod_name(request.report, request.run_id, request.try_number),
        "labels": run_labels(request),
        "annotations": {
            f"{LABEL_PREFIX}/run-id": request.run_id,
            f"{LABEL_PREFIX}/image": request.image,
            f"{LABEL_PREFIX}/bundle": str(request.bundle),
        },
    }
    if request.namespace:
        metadata["namespace"] = request.namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
