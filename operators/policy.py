"""The cluster policy that sends a run's execute task to the queue of the profile it was triggered with.

The DAG factory gives each report's execute task the queue of its default profile
(``nbreports.pods.compute``: a profile may name an Airflow queue, e.g. ``large`` for bigger
Celery workers). A run triggered with another profile (the trigger form's ``profile``) must go to
that profile's workers instead, and only the scheduler can decide that, per DAG run: Airflow's
``task_instance_mutation_hook``, which ``plugins/airflow_local_settings.py`` hands to Airflow (the
plugins folder is on every component's ``sys.path``); a deployment with local settings of its
own calls ``route_execute_task`` from its hook.

The hook only reads: the compute config (cached by file times) and the DAG run's ``conf``. Whether
the report's team may use the profile is prepare's to refuse, before the execute task can start.
"""

from __future__ import annotations

from typing import Any

from airflow.configuration import conf

from nbreports.errors import NbreportsError
from nbreports.pods.compute import load_compute_config
from operators.report import PROFILE_PARAM

EXECUTE_TASK = "execute"
EXECUTE_OPERATORS = frozenset({"ExecuteReportOperator", "KubernetesReportOperator"})


def profile_queue(profile: str) -> str | None:
    """The queue ``profile`` names; None for an unknown profile or a broken config (prepare says why)."""
    try:
        entry = load_compute_config().profiles.get(profile)
    except NbreportsError:
        return None
    return entry.queue if entry else None


def _requested_profile(task_instance: Any, dag_run: Any) -> str | None:
    """The profile the DAG run was triggered with, reading only what is already loaded (no query, no commit)."""
    run = dag_run if dag_run is not None else vars(task_instance).get("dag_run")
    profile = (getattr(run, "conf", None) or {}).get(PROFILE_PARAM)
    return profile if isinstance(profile, str) and profile else None


def route_execute_task(task_instance: Any, dag_run: Any = None) -> None:
    """Airflow's ``task_instance_mutation_hook``: a report's execute task to its requested profile's queue.

    A profile without a queue of its own means the executor's default queue.
    """
    if task_instance.task_id != EXECUTE_TASK or task_instance.operator not in EXECUTE_OPERATORS:
        return
    profile = _requested_profile(task_instance, dag_run)
    if profile is None:  # scheduled runs, or a trigger without a choice: the task's own (default profile's) queue
        return
    task_instance.queue = profile_queue(profile) or conf.get("operators", "default_queue")
