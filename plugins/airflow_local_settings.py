"""Airflow's local settings for nbreports: its cluster policy (``operators/policy.py``).

Airflow imports ``airflow_local_settings`` from ``sys.path``, which holds the plugins folder, in
every component while it initialises: the scheduler and the api-server create task instances, and
both must route a triggered run's execute task to its profile's queue. The policy is imported on
first use, when Airflow is loaded (importing the operators here would import Airflow inside its
own start-up). A deployment with local settings of its own calls ``route_execute_task`` from them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["task_instance_mutation_hook"]


def task_instance_mutation_hook(task_instance: Any, dag_run: Any = None) -> None:
    """Route a report's execute task to the queue of the profile its DAG run asked for."""
    from operators.policy import route_execute_task

    route_execute_task(task_instance, dag_run)
