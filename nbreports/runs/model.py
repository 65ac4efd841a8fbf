"""The run model: the services a run uses (``Platform``) and the plan that travels between its steps (``RunPlan``)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from nbreports.redaction.redact import secrets_of
from nbreports.settings import Settings, get_settings
from nbreports.storage.database import PlatformDB
from nbreports.storage.store import Store, open_store


@dataclass
class Platform:
    """The services one run needs: settings, the store and the platform database."""

    settings: Settings
    store: Store
    db: PlatformDB
    kernel_env: dict[str, str] = field(default_factory=dict)  # how the kernel reaches the store
    extra_secrets: frozenset[str] = frozenset()  # what the Airflow adapters hand a run (connections, variables)

    @property
    def secrets(self) -> frozenset[str]:
        """Every value a run must never publish (``nbreports.redaction.redact``)."""
        env = {**os.environ, **self.kernel_env}
        return secrets_of(env, self.settings.store_options, [self.db.url]) | self.extra_secrets

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        store: Store | None = None,
        database_url: str | None = None,
        kernel_env: dict[str, str] | None = None,
    ) -> Platform:
        """The platform the settings describe; ``store`` and ``database_url`` override them (Airflow connections)."""
        settings = settings or get_settings()
        store = store or open_store(settings.resolved_store_url, settings.store_options)
        db = PlatformDB(database_url or settings.resolved_database_url)
        env = {"NBREPORTS_STORE_URL": store.url_prefix}  # never the database: the kernel must not rewrite history
        if settings.store_options:
            env["NBREPORTS_STORE_OPTIONS"] = json.dumps(settings.store_options)
        return cls(settings, store, db, {**env, **(kernel_env or {})})


RETIRED_FIELDS = frozenset({"report_folder"})  # a path on the preparing worker: the executing one has the bundle


@dataclass
class RunPlan:
    """Everything execute and publish need, as plain JSON (it travels through XCom)."""

    report: str
    run_id: str
    title: str
    notebook_version: str
    parameters: dict[str, Any]
    kernel: str
    executor: str
    cell_timeout: int
    run_timeout: int
    hide_code: bool
    started_at: str
    input_uri: str
    cache_key: str | None = None
    cached_from: str | None = None  # a cache hit: the run whose outputs this run reuses
    profile: str | None = None  # compute profile of a pod run (executor podman or kubernetes)
    image: str | None = None  # kernel image of a pod run: tag or @digest
    dag_id: str | None = None
    image_digest: str | None = None  # the image the tag resolved to at prepare: what runs, and the cache key
    bundle: str | None = None  # sha256 of the report folder's files in the store (``runs.bundle``)
    upstream_runs: dict[str, str] | None = None  # upstream report -> the run whose Asset event triggered this one
    team: str = ""  # the team owning the report (its store credentials are masked too)
    connections: list[str] = field(default_factory=list)  # Airflow connections the kernel gets (spec)
    variables: list[str] = field(default_factory=list)  # Airflow variables the kernel gets (spec)

    def to_dict(self) -> dict[str, Any]:
        """The plan as the JSON that XCom carries."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        """The plan back from its XCom JSON (a plan from an older release may still name a retired field)."""
        return cls(**{k: v for k, v in data.items() if k not in RETIRED_FIELDS})

    def key(self, name: str = "") -> str:
        """The store key of ``name`` in this run's folder."""
        return Store.run_key(self.report, self.run_id, name)
