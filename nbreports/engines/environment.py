"""The environment a local kernel gets: the worker's, without any way to the platform's records.

A notebook must not be able to rewrite history, so its kernel never learns where the platform
database is: no ``NBREPORTS_DATABASE_URL``, no Airflow variable at all (``AIRFLOW_CONN_*`` holds
the ``nbreports_db`` connection and the store's keys, ``AIRFLOW__*`` the metadata database, the
Celery broker and Airflow's secrets, ``AIRFLOW_HOME`` its config file), and its own empty
``NBREPORTS_HOME`` (the SQLite default lives in the worker's home). What the kernel reports goes
to its run's folder instead (``nbreports.kernel.report``).

This is hygiene, not a sandbox: a local kernel runs as the worker's account. Runs that must be
kept apart belong in pods (``executor: podman`` or ``kubernetes``), which get the team's store
credentials and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping

PLATFORM_ONLY = frozenset({"NBREPORTS_DATABASE_URL", "NBREPORTS_STORE_CONN_ID", "NBREPORTS_HOME"})
PLATFORM_PREFIXES = ("AIRFLOW",)  # AIRFLOW_CONN_*, AIRFLOW_VAR_*, AIRFLOW__*, AIRFLOW_HOME, AIRFLOW_CONFIG


def is_platform_only(name: str) -> bool:
    """True for a variable that reaches the platform's records (or Airflow) and stays out of kernels."""
    return name.upper() in PLATFORM_ONLY or name.upper().startswith(PLATFORM_PREFIXES)


def without_platform(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the platform-only variables."""
    return {k: v for k, v in env.items() if not is_platform_only(k)}


def kernel_environment(job_env: Mapping[str, str], home: str) -> dict[str, str]:
    """What the papermill child adds for one job: the job's variables, minus the platform's, and ``home``."""
    return {**without_platform(job_env), "NBREPORTS_HOME": home}
