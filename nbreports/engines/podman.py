"""The ``podman`` engine: the run's Pod manifest played with ``podman kube play`` on this machine.

Isolation without a cluster, and a real test of the manifest the ``kubernetes`` path sends.
The engine starts the pod (or re-attaches to the one a lost earlier try left running), streams
its log, watches its memory, stops it at the run timeout, tears it down and tells how it ended.
Podman reads ``CONTAINERS_CONF`` from the environment (see images/containers.conf).

One machine is not a cluster, so two things differ from ``executor: kubernetes``: a local
(``file://``) store is mounted from this host, and a loopback S3 endpoint needs the host's network.
The pod runs as the image's non-root user, so for the run the engine hands it the run's own folder
of a local store (the one folder it writes) and takes it back afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from nbreports.engines.base import Engine, ExecutionJob, ExecutionResult, LogSink
from nbreports.errors import ConfigError, ExecutionError, StoreError
from nbreports.pods.cgroup_memory import MemoryWatch
from nbreports.pods.manifest import (
    BUNDLE_CONTAINER,
    CONTAINER,
    LABEL_PREFIX,
    POD_UID,
    PodRequest,
    build_pod_manifest,
    pod_name,
)
from nbreports.pods.outcome import classify
from nbreports.pods.request import CREDENTIALS, team_store_credentials
from nbreports.runs.states import FailureKind
from nbreports.storage.store import Store, open_store

_STOP_GRACE_S = 10
_POLL_S = 0.5


def podman(
    *args: str, timeout: float = 120, check: bool = True, stdin: str | None = None, cwd: Path | None = None
) -> str:
    """Run one podman command; its stdout."""
    proc = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, input=stdin, check=False, cwd=cwd
    )
    if check and proc.returncode != 0:
        raise ExecutionError(f"podman {' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _is_loopback(url: str) -> bool:
    return any(host in url for host in ("://127.", "://localhost", "://[::1]"))


def pod_secret_data(request: PodRequest, env: dict[str, str]) -> str | None:
    """The team's store credentials as podman's kube secret data (JSON of base64 values), or None.

    The team's own (``pods/request.use_team_store_credentials``), else the worker's (``env``, then
    this process's environment) for a team that names none.
    """
    if not request.store_url.startswith("s3://"):
        return None
    worker = {k: env.get(k) or os.environ.get(k) or "" for k in CREDENTIALS}
    values = team_store_credentials(request.team, worker, own_required=request.own_store_credentials)
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items() if v}
    return json.dumps(data) if data else None


def hand_run_folder(request: PodRequest, *, to_pod: bool) -> None:
    """Give a local store's run folder to the pod's user for the run (``to_pod``), or back to this process's.

    Rootless podman maps the pod's users into this user's range, so ``podman unshare`` changes the owner.
    """
    if not (root := request.local_store_root):
        return
    folder = Path(root) / Store.run_key(request.report, request.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        parent = folder.parent.stat()  # the report's folder of runs: the owner the run folder goes back to
        os.chown(folder, *((POD_UID, POD_UID) if to_pod else (parent.st_uid, parent.st_gid)))
    else:
        podman("unshare", "chown", f"{POD_UID}:{POD_UID}" if to_pod else "0:0", str(folder))


def _job_store(request: PodRequest, env: dict[str, str]) -> Store:
    """The store the pod wrote to, opened from the worker with the same credentials."""
    options = dict(request.store_options)
    if request.store_url.startswith("s3://") and env.get("AWS_ACCESS_KEY_ID"):
        options.update(key=env["AWS_ACCESS_KEY_ID"], secret=env.get("AWS_SECRET_ACCESS_KEY"))
    return open_store(request.store_url, options)


class PodmanEngine(Engine):
    """Runs each job as its Pod manifest with ``podman kube play``, re-attaching to a pod a lost try left running."""

    name = "podman"

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        """Start (or re-attach to) the run's pod, follow it to its end, tear it down; how it ended."""
        if job.pod is None:
            return ExecutionResult.failure(
                FailureKind.ENGINE_ERROR, "the podman engine needs a pod request (was the run prepared for a pod?)"
            )
        start = time.monotonic()
        request = job.pod
        existing = self._running_pod_of(request)
        secret = "nbrs-" + pod_name(request.report, request.run_id, request.try_number).removeprefix("nbr-")
        try:
            secret_data = pod_secret_data(request, job.env)
        except ConfigError as exc:
            return ExecutionResult.failure(FailureKind.ENGINE_ERROR, str(exc))
        request = replace(
            request,
            store_secret=secret if secret_data else None,
            host_network=_is_loopback(str(request.store_options.get("endpoint_url", ""))),
        )
        manifest = build_pod_manifest(request)
        pod = existing or manifest["metadata"]["name"]
        image_info = self._image(request.image)
        if image_info is None:
            return ExecutionResult.failure(
                FailureKind.IMAGE_MISSING,
                f"image {request.image} not found: build it with `make images` or pin an existing digest",
            )
        with tempfile.TemporaryDirectory(prefix="nbr-pod-") as tmp:
            try:
                hand_run_folder(request, to_pod=True)
                if existing:
                    log(f"re-attaching to pod {existing} left running by an earlier try")
                else:
                    self._play(Path(tmp), manifest, secret, secret_data, log)
                outcome = self._follow(f"{pod}-{CONTAINER}", request, log)
            except ExecutionError as exc:
                return ExecutionResult.failure(
                    FailureKind.ENGINE_ERROR,
                    str(exc),
                    duration_s=round(time.monotonic() - start, 3),
                )
            finally:
                self._teardown(pod, secret)
                hand_run_folder(request, to_pod=False)
        nb = self._output_notebook(request, job.env)
        memory_limit = request.profile.limits.get("memory")
        result = classify(
            exit_code=outcome["exit_code"],
            nb=nb,
            log_tail=outcome["log_tail"],
            oom_killed=outcome["oom_killed"],
            timed_out=outcome["timed_out"],
            run_timeout=request.run_timeout,
            cell_timeout=request.cell_timeout,
            memory_limit=memory_limit,
            profile=request.profile.name,
        )
        result.duration_s = round(time.monotonic() - start, 3)
        result.extra["pod"] = {
            "name": pod,
            "image": request.image,
            **image_info,
            "profile": request.profile.name,
            "memory_limit": memory_limit,
            "peak_memory_bytes": outcome["peak_memory_bytes"],
            "exit_code": outcome["exit_code"],
            "reattached": bool(existing),
        }
        return result

    # -- steps ------------------------------------------------------------------------------------
    @staticmethod
    def _running_pod_of(request: PodRequest) -> str | None:
        """A pod of the same run still running from an earlier try (the worker was lost)."""
        label = f"label={LABEL_PREFIX}/run-id={request.run_id}"
        out = podman("pod", "ps", "--filter", label, "--filter", "status=running", "--format", "{{.Name}}", check=False)
        names = [line for line in out.split() if line]
        return names[0] if names else None

    @staticmethod
    def _image(image: str) -> dict[str, Any] | None:
        """The local image's id and digest, or None when there is no such image."""
        out = podman("image", "inspect", "--format", "{{.Id}} {{.Digest}}", image, check=False).split()
        return {"image_id": out[0], "image_digest": out[1]} if len(out) == 2 else None

    @staticmethod
    def _play(tmp: Path, manifest: dict[str, Any], secret: str, secret_data: str | None, log: LogSink) -> None:
        if secret_data:  # through stdin: never on a command line, in the manifest or in a file
            podman("secret", "create", secret, "-", stdin=secret_data)
        pod_file = tmp / "pod.yaml"
        meta = manifest["metadata"]  # podman 4.3 refuses annotation values over 63 characters (Kubernetes: 256 KiB)
        meta = {**meta, "annotations": {k: v for k, v in meta.get("annotations", {}).items() if len(v) <= 63}}
        pod_file.write_text(yaml.safe_dump({**manifest, "metadata": meta}, sort_keys=False))
        log(
            f"starting pod {manifest['metadata']['name']} (image {manifest['spec']['containers'][0]['image']}, "
            f"profile {manifest['metadata']['labels'][f'{LABEL_PREFIX}/profile']})"
        )
        # conmon keeps this working folder and leaves an "oom" marker there after an OOM kill
        try:
            podman("kube", "play", "--quiet", str(pod_file), timeout=300, cwd=tmp)
        except ExecutionError as exc:
            if "init container" not in str(exc):
                raise
            fetch = ["podman", "logs", f"{manifest['metadata']['name']}-{BUNDLE_CONTAINER}"]
            said = subprocess.run(fetch, capture_output=True, text=True, timeout=60, check=False)
            tail = " / ".join((said.stdout + said.stderr).strip().splitlines()[-5:])
            raise ExecutionError(f"the pod's init container {BUNDLE_CONTAINER} failed: {tail}") from exc

    @staticmethod
    def _follow(container: str, request: PodRequest, log: LogSink) -> dict[str, Any]:
        """Stream the log and watch memory until the container exits or the run times out."""
        tail: list[str] = []
        logs = subprocess.Popen(
            ["podman", "logs", "-f", container], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        stream = logs.stdout
        if stream is None:  # stdout=PIPE always opens one
            logs.kill()
            logs.wait()
            raise ExecutionError(f"podman logs of {container} has no stdout pipe")

        def pump() -> None:
            for line in stream:
                log(line.rstrip("\n"))
                tail.append(line)
                del tail[:-200]

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        watch = MemoryWatch.of_container(container)
        deadline = time.monotonic() + request.run_timeout
        timed_out = False
        state: dict[str, Any] = {}
        while True:
            watch.sample()
            state = json.loads(podman("container", "inspect", "--format", "{{json .State}}", container))
            if state.get("Status") in ("exited", "stopped") or not state.get("Running", False):
                break
            if time.monotonic() > deadline:
                timed_out = True
                log(f"run timeout of {request.run_timeout}s reached: stopping the pod")
                podman("stop", "-t", str(_STOP_GRACE_S), container, check=False, timeout=_STOP_GRACE_S + 30)
                state = json.loads(podman("container", "inspect", "--format", "{{json .State}}", container))
                break
            time.sleep(_POLL_S)
        reader.join(timeout=10)
        if logs.poll() is None:
            logs.kill()
        logs.wait()
        if not reader.is_alive():  # our end of the pipe (else a ResourceWarning when the Popen is collected)
            stream.close()
        return {
            "exit_code": state.get("ExitCode"),
            "oom_killed": bool(state.get("OOMKilled")) or watch.oom_killed,
            "timed_out": timed_out,
            "log_tail": "".join(tail),
            "peak_memory_bytes": watch.peak_bytes,
        }

    @staticmethod
    def _teardown(pod: str, secret: str) -> None:
        podman("pod", "rm", "-f", "-t", "0", pod, check=False)
        podman("secret", "rm", secret, check=False)

    @staticmethod
    def _output_notebook(request: PodRequest, env: dict[str, str]) -> dict[str, Any] | None:
        try:
            data = _job_store(request, env).read_bytes(Store.run_key(request.report, request.run_id, "output.ipynb"))
            return dict(json.loads(data))
        except (StoreError, ValueError):
            return None


class KubernetesEngine(Engine):
    """Kubernetes runs go through Airflow's KubernetesPodOperator (operators/kubernetes.py), not here."""

    name = "kubernetes"

    def execute(self, job: ExecutionJob, log: LogSink) -> ExecutionResult:
        """Always a failure that points to the DAG's KubernetesPodOperator, or to the podman engine."""
        return ExecutionResult.failure(
            FailureKind.ENGINE_ERROR,
            "executor 'kubernetes' runs through the Airflow DAG (KubernetesPodOperator); "
            "use executor 'podman' to run the same pod on this machine",
        )
