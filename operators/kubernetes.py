"""The ``kubernetes`` execute step: the run's Pod manifest, started by the provider's KubernetesPodOperator.

The pod is exactly ``nbreports.pods.manifest.build_pod_manifest`` (the one ``podman`` plays and the tests
validate, Pod Security Standard ``restricted`` included); the operator adds its own task labels, so a
retry re-attaches to a pod still running. Its init container unpacks the run's bundle of the report
folder from the store (there is no ``hostPath``), so the store must be object storage.
It defers while the pod runs, streams papermill's log into the task log, deletes the pod when
done, and leaves ``execution.json`` in the store so the publish task can tell how the run ended.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import ApiClient
from kubernetes.client import models as k8s

from nbreports.engines.base import ExecutionResult
from nbreports.errors import StoreError
from nbreports.pods.manifest import BUNDLE_CONTAINER, CONTAINER, build_pod_manifest
from nbreports.pods.outcome import classify
from nbreports.pods.request import plan_pod
from nbreports.runs.model import RunPlan
from nbreports.runs.states import FailureKind
from nbreports.storage.store import Store
from operators.hooks import NbreportsHook

_IMAGE_PROBLEMS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}


class _Response:
    """What ``ApiClient.deserialize`` reads: a body with ``.data``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = json.dumps(data)


def manifest_to_pod(manifest: dict[str, Any]) -> k8s.V1Pod:
    """Convert the manifest to the client's ``V1Pod`` model."""
    pod: k8s.V1Pod = ApiClient().deserialize(_Response(manifest), "V1Pod")
    return pod


def pod_to_manifest(pod: k8s.V1Pod) -> dict[str, Any]:
    """Convert a ``V1Pod`` back to the plain JSON the API server receives."""
    data: dict[str, Any] = ApiClient().sanitize_for_serialization(pod)
    return data


class KubernetesReportOperator(KubernetesPodOperator):
    """Run the prepared notebook in a pod on the cluster (``executor: kubernetes``).

    The pod is the run's manifest (``nbreports.pods.manifest.build_pod_manifest``); the
    ``KubernetesPodOperator`` arguments ``deferrable``, ``get_logs`` and ``durable``
    default to ``True`` and ``on_finish_action`` to ``"delete_pod"``; any other of its arguments
    may be passed as well.

    :param report: the report's name: a folder of ``notebooks_dir``.
    :param plan: the run's plan: the XCom of the prepare step (templated), e.g. ``prepare.output``.
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``.
    """

    template_fields: Sequence[str] = (*KubernetesPodOperator.template_fields, "plan")

    def __init__(
        self,
        *,
        report: str,
        plan: Any,
        db_conn_id: str = "nbreports_db",
        notebooks_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("deferrable", True)
        kwargs.setdefault("get_logs", True)
        kwargs.setdefault("on_finish_action", "delete_pod")
        kwargs.setdefault("durable", True)  # a retry re-attaches to the running pod (reattach_on_restart before 3.3)
        super().__init__(base_container_name=CONTAINER, random_name_suffix=False, do_xcom_push=False, **kwargs)
        self.report = report
        self.plan = plan
        self.db_conn_id = db_conn_id
        self.notebooks_dir = notebooks_dir

    @property
    def nbreports(self) -> NbreportsHook:
        """The hook to the platform (store and database) through ``db_conn_id``."""
        return NbreportsHook(self.db_conn_id)

    def report_manifest(self, try_number: int = 1) -> dict[str, Any]:
        """Build the validated manifest of this run's pod."""
        plan = RunPlan.from_dict(self.plan)
        here = self.nbreports.notebooks(self.notebooks_dir)
        return build_pod_manifest(plan_pod(self.nbreports.platform, plan, try_number, notebooks_dir=here))

    def build_pod_request_obj(self, context: Any = None, *, dry_run: bool = False) -> k8s.V1Pod:
        """Return the pod to start: the run's manifest, with the provider's task labels added."""
        try_number = int(context["ti"].try_number) if context else 1
        self.full_pod_spec = manifest_to_pod(self.report_manifest(try_number))
        return super().build_pod_request_obj(context, dry_run=dry_run)

    def cleanup(self, pod: k8s.V1Pod, remote_pod: k8s.V1Pod, *args: Any, **kwargs: Any) -> None:
        """Record how the pod ended (for the publish step), then let the provider clean up."""
        if remote_pod is not None:
            self.record_result(remote_pod)
        super().cleanup(pod, remote_pod, *args, **kwargs)

    def record_result(self, remote_pod: k8s.V1Pod) -> dict[str, Any]:
        """Tell how the pod ended (OOM kill, deadline, failed cell) and leave it for publish."""
        plan = RunPlan.from_dict(self.plan)
        store = self.nbreports.platform.store

        def key(name: str) -> str:
            return Store.run_key(plan.report, plan.run_id, name)

        try:
            nb = json.loads(store.read_bytes(key("output.ipynb")))
        except (StoreError, ValueError):
            nb = None
            store.write_bytes(key("output.ipynb"), store.read_bytes(key("input.ipynb")))  # keep what was run
        status = remote_pod.status
        terminated = next(
            (
                s.state.terminated
                for s in (status.container_statuses or [])
                if s.name == CONTAINER and s.state and s.state.terminated
            ),
            None,
        )
        request = plan_pod(self.nbreports.platform, plan, notebooks_dir=self.nbreports.notebooks(self.notebooks_dir))
        init = [s for s in (status.init_container_statuses or []) if s.name == BUNDLE_CONTAINER]
        main = [s for s in (status.container_statuses or []) if s.name == CONTAINER]
        waiting = {s.state.waiting.reason for s in [*init, *main] if s.state and s.state.waiting}
        fetch = next((s.state.terminated for s in init if s.state and s.state.terminated), None)
        if waiting & _IMAGE_PROBLEMS:
            result = ExecutionResult.failure(
                FailureKind.IMAGE_MISSING, f"image {plan.image} could not be pulled ({', '.join(sorted(waiting))})"
            )
        elif fetch is not None and fetch.exit_code:  # papermill never started
            result = ExecutionResult.failure(
                FailureKind.ENGINE_ERROR,
                f"the pod's init container {BUNDLE_CONTAINER} could not unpack the report folder's bundle "
                f"{plan.bundle} (exit {fetch.exit_code}): {(fetch.message or fetch.reason or '').strip()}",
            )
        else:
            result = classify(
                exit_code=terminated.exit_code if terminated else None,
                nb=nb,
                log_tail=(terminated.message or "") if terminated else (status.message or ""),
                oom_killed=bool(terminated and terminated.reason == "OOMKilled"),
                timed_out=status.reason == "DeadlineExceeded",
                run_timeout=plan.run_timeout,
                cell_timeout=plan.cell_timeout,
                memory_limit=request.profile.limits.get("memory"),
                profile=request.profile.name,
            )
        image_id = next((s.image_id for s in (status.container_statuses or []) if s.name == CONTAINER), None)
        result.extra["pod"] = {
            "name": remote_pod.metadata.name,
            "image": plan.image,
            "image_digest": image_id,
            "profile": plan.profile,
            "exit_code": terminated.exit_code if terminated else None,
        }
        store.write_json(key("execution.json"), result.to_dict())
        return result.to_dict()
