"""The hook: turns Airflow connections into the core's ``Platform`` (store + database)."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from airflow.sdk import BaseHook, Connection
from airflow.sdk.log import mask_secret

from nbreports.access.teams import load_teams, teams_path
from nbreports.errors import ConfigError
from nbreports.kernel.airflow_values import kernel_env
from nbreports.pods.request import use_team_store_credentials
from nbreports.redaction.redact import SECRET_NAME
from nbreports.runs.model import Platform
from nbreports.settings import Settings, get_settings
from nbreports.storage.store import Store


class NbreportsHook(BaseHook):
    """Where reports are stored and recorded, from Airflow connections.

    The store is ``Settings.store_url``; for an ``s3://`` store, ``Settings.store_conn_id`` names an
    AWS connection whose endpoint and keys reach the store through Airflow's ``ObjectStoragePath``.

    :param db_conn_id: the connection to the platform database, any SQLAlchemy URL (default
        ``nbreports_db``). When the connection does not exist, ``NBREPORTS_DATABASE_URL`` or the
        SQLite default is used.
    :param settings: the nbreports settings; by default from the ``NBREPORTS_*`` environment
        variables (``nbreports.settings.get_settings``).
    """

    conn_name_attr = "db_conn_id"
    default_conn_name = "nbreports_db"
    hook_name = "nbreports"

    def __init__(self, db_conn_id: str = default_conn_name, settings: Settings | None = None) -> None:
        super().__init__()
        self.db_conn_id = db_conn_id
        self.settings = settings or get_settings()

    def _database_url(self) -> str | None:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = self.get_connection(self.db_conn_id)
        except AirflowNotFoundException:
            return None
        uri = conn.get_uri()
        return uri.replace("postgres://", "postgresql://", 1) if uri.startswith("postgres://") else uri

    def _s3_store(self) -> tuple[Store, dict[str, str]]:
        """Return the S3 store reached through the Airflow connection, and the kernel's way to the same place."""
        from airflow.sdk import ObjectStoragePath

        conn_id = self.settings.store_conn_id
        parsed = urlparse(self.settings.resolved_store_url)
        path = ObjectStoragePath(f"s3://{conn_id}@{parsed.netloc}{parsed.path}")
        root = f"{parsed.netloc}{parsed.path}".rstrip("/")
        store = Store(path.fs, root, f"s3://{root}")
        conn = self.get_connection(conn_id)
        extra: dict[str, Any] = conn.extra_dejson
        endpoint = extra.get("endpoint_url") or (extra.get("service_config", {}).get("s3", {}) or {}).get(
            "endpoint_url"
        )
        kernel_env = {"AWS_ACCESS_KEY_ID": conn.login or "", "AWS_SECRET_ACCESS_KEY": conn.password or ""}
        if endpoint:
            kernel_env["NBREPORTS_STORE_OPTIONS"] = json.dumps({"endpoint_url": endpoint})
        return store, {k: v for k, v in kernel_env.items() if v}

    def team_store_credentials(self, team: str) -> dict[str, str] | None:
        """A team's store credentials from its ``store_conn_id`` (an AWS connection named in the teams file).

        None when the team names none (its pods then get the platform's). The podman engine puts them
        in the team's pod Secret; on Kubernetes the team's ``store_secret`` already holds them.
        """
        entry = load_teams(teams_path(self.settings.resolved_notebooks_dir)).teams.get(team)
        if entry is None or not entry.store_conn_id:
            return None
        conn = self.get_connection(entry.store_conn_id)
        creds = {
            "AWS_ACCESS_KEY_ID": conn.login or "",
            "AWS_SECRET_ACCESS_KEY": conn.password or "",
            "AWS_SESSION_TOKEN": str(conn.extra_dejson.get("aws_session_token") or ""),
        }
        return {k: v for k, v in creds.items() if v}

    def run_platform(self, report: str, team: str, connections: list[str], variables: list[str]) -> Platform:
        """The platform for one run: its kernel gets the connections and variables its spec lists.

        Every value the run could print (those, the team's store keys) is masked in what it publishes
        and in the task log. ``ConfigError`` names the report and field of a connection or variable
        Airflow does not have.
        """
        conns = {c: self._connection(report, c) for c in connections}
        values = {v: self._variable(report, v) for v in variables}
        secrets = {conn.password for conn in conns.values() if conn.password}
        secrets |= {str(v) for c in conns.values() for k, v in c.extra_dejson.items() if SECRET_NAME.search(k)}
        secrets |= {conn.get_uri() for conn in conns.values()} | set(values.values())
        secrets |= set((self.team_store_credentials(team) or {}).values()) if team else set()
        for value in secrets:
            mask_secret(value)  # Airflow's own log masker, for whatever the task logs outside the core
        env = kernel_env({c: conn.get_uri() for c, conn in conns.items()}, values)
        platform = self.platform
        return replace(
            platform,
            kernel_env={**platform.kernel_env, **env},
            extra_secrets=platform.extra_secrets | {s for s in secrets if s},
        )

    def _connection(self, report: str, conn_id: str) -> Connection:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.get_connection(conn_id)
        except AirflowNotFoundException as exc:
            raise ConfigError(f"report {report}: connections: Airflow has no connection {conn_id!r}") from exc

    def _variable(self, report: str, name: str) -> str:
        from airflow.sdk import Variable

        value = Variable.get(name, default=None)
        if value is None:
            raise ConfigError(f"report {report}: variables: Airflow has no variable {name!r}")
        return str(value)

    @cached_property
    def platform(self) -> Platform:
        """The platform: the store and the database, built once per hook; teams' pods get their own store keys."""
        use_team_store_credentials(self.team_store_credentials)
        store, kernel_env = None, None
        if self.settings.store_conn_id and self.settings.resolved_store_url.startswith("s3://"):
            store, kernel_env = self._s3_store()
        platform = Platform.from_settings(
            self.settings, store=store, database_url=self._database_url(), kernel_env=kernel_env
        )
        check_shared(platform)
        return platform

    def notebooks(self, notebooks_dir: str | None = None) -> Path:
        """Where this worker finds the reports: ``notebooks_dir`` if an operator names one, else its setting."""
        return Path(notebooks_dir) if notebooks_dir else self.settings.resolved_notebooks_dir

    def get_conn(self) -> Platform:
        """Return the platform (``platform``): the hook's connection."""
        return self.platform


ONE_MACHINE_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor", "DebugExecutor"})


def _spread_executors() -> list[str]:
    """The configured executors that may run a DAG run's tasks on different machines (Celery, Kubernetes…)."""
    from airflow.configuration import conf

    names = [e.strip() for e in str(conf.get("core", "executor", fallback="LocalExecutor")).split(",")]
    return [n for n in names if n and n.rsplit(".", 1)[-1].split(":")[-1] not in ONE_MACHINE_EXECUTORS]


def check_shared(platform: Platform) -> None:
    """``ConfigError`` when tasks may run on several machines but the platform database is SQLite on this one.

    Prepare, execute and publish of one run may each land on another worker: they must all write
    the same records. A local store folder works only if every worker mounts the same one.
    """
    spread = _spread_executors()
    if spread and platform.db.url.startswith("sqlite"):
        raise ConfigError(
            f"Airflow runs tasks with {', '.join(spread)}, which may put a run's steps on different workers, but "
            f"the platform database is SQLite on this host ({platform.db.url.removeprefix('sqlite:///')}): "
            "give every component the connection nbreports_db to one PostgreSQL database (docs/deploy.md)"
        )
