"""Settings of the core, each declared once with its type, default and help.

Every setting can be given as an environment variable ``NBREPORTS_<NAME>``
(e.g. ``NBREPORTS_STORE_URL=s3://reports/prod``).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NBREPORTS_", extra="ignore")

    home: Path = Field(
        default=Path(".nbreports"),
        description="Folder for the embedded defaults: the local store, the SQLite database and caches.",
    )
    notebooks_dir: Path = Field(
        default=Path("notebooks"),
        description="Folder holding one sub-folder per report (a notebook and its report.yaml).",
    )
    store_url: str = Field(
        default="",
        description="Where runs and notebook versions are kept: a local folder or s3://bucket/prefix. "
        "Empty means <home>/store.",
    )
    store_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra fsspec options for the store as JSON, e.g. {\"endpoint_url\": \"http://...\"}. "
        "Credentials come from the environment or an Airflow connection, never from here.",
    )
    store_conn_id: str = Field(
        default="",
        description="Airflow connection whose credentials and endpoint reach an s3:// store "
        "(used by the operators; the core itself never reads Airflow connections).",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the platform database. Empty means SQLite at <home>/platform.db.",
    )
    default_kernel: str = Field(default="python3", description="Kernel used when a spec names none.")
    scraps_xcom_limit: int = Field(
        default=48_000, description="Largest JSON size in bytes of the scraps pushed to XCom."
    )

    query_cache_ttl_days: int = Field(
        default=7, gt=0,
        description="Days a query-cache entry (nbreports.querycache) is served; older entries are recomputed, "
        "and swept (local store) or deleted by a bucket lifecycle rule (S3).",
    )
    backup_keep_days: int = Field(
        default=14, gt=0, description="Days of daily backups (backups/<date>/ in the store) kept by the backup DAG.",
    )

    @field_validator("store_options", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value else (value or {})

    @cached_property
    def resolved_store_url(self) -> str:
        return self.store_url or str((self.home / "store").absolute())

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'platform.db').absolute()}"

    @cached_property
    def derived_cache_dir(self) -> Path:
        """Where facts derived from notebooks are cached, keyed by content hash."""
        return self.home / "cache" / "derived"
