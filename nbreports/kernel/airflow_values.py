"""The Airflow connections and variables a report lists, as its kernel reads them (no Airflow inside).

A report names what its notebook needs in ``report.yaml`` (``connections: [warehouse]``,
``variables: [api_token]``). The execute step resolves them through Airflow and hands them to the
kernel as environment variables, and masks every value in what the run publishes (the kernel never
gets ``AIRFLOW_CONN_*`` itself: those hold the platform's own connections)::

    from nbreports.kernel import connection_uri, variable
    engine = sqlalchemy.create_engine(connection_uri("warehouse"))
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

CONNECTION_PREFIX = "NBREPORTS_CONN_"
VARIABLE_PREFIX = "NBREPORTS_VAR_"


def env_name(prefix: str, name: str) -> str:
    """The environment variable that carries connection or variable ``name`` into the kernel."""
    return prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def kernel_env(connections: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    """The kernel's variables for the resolved connection URIs and variable values."""
    env = {env_name(CONNECTION_PREFIX, k): v for k, v in connections.items()}
    env.update({env_name(VARIABLE_PREFIX, k): v for k, v in variables.items()})
    return env


def _read(prefix: str, kind: str, name: str) -> str:
    value = os.environ.get(env_name(prefix, name))
    if value is None:
        raise KeyError(f"the Airflow {kind} {name!r} is not given to this run: list it under `{kind}s:` in report.yaml")
    return value


def connection_uri(conn_id: str) -> str:
    """The URI of the Airflow connection ``conn_id`` the report lists under ``connections:``."""
    return _read(CONNECTION_PREFIX, "connection", conn_id)


def variable(name: str) -> str:
    """The value of the Airflow variable ``name`` the report lists under ``variables:``."""
    return _read(VARIABLE_PREFIX, "variable", name)
