"""Settings of the core, each declared once with its type, default and help.

Every setting can be given as an environment variable ``NBREPORTS_<NAME>``
(e.g. ``NBREPORTS_STORE_URL=s3://reports/prod``). Code reads them through ``get_settings()``
(one cached instance per process), never from ``os.environ``.
"""

from __future__ import annotations

import getpass
import json
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CHECKOUT = Path(__file__).resolve().parent.parent  # the project folder, when nbreports runs from it (editable)


class Settings(BaseSettings):
    """Every setting of nbreports; ``NBREPORTS_<NAME>`` in the environment sets ``<name>``."""

    model_config = SettingsConfigDict(env_prefix="NBREPORTS_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default=Path(".nbreports"),
        description="Folder for the embedded defaults: the local store, the SQLite database and caches.",
    )
    notebooks_dir: Path | None = Field(
        default=None,
        description="Folder holding one sub-folder per report (a notebook and its report.yaml). "
        "Empty means ./notebooks if there is one, else the notebooks/ folder of the nbreports checkout "
        "(beside dags/, as in the DAG bundle).",
    )
    profiles_file: Path | None = Field(
        default=None,
        description="The administrators' compute config (profiles, team environments, images). "
        "Empty means config/profiles.yaml beside the notebooks folder.",
    )
    teams_file: Path | None = Field(
        default=None,
        description="The administrators' teams file (members, folders, profiles, restricted flag). "
        "Empty means config/teams.yaml beside the notebooks folder; without one, only admins may act.",
    )
    store_url: str = Field(
        default="",
        description="Where runs and notebook versions are kept: a local folder or s3://bucket/prefix. "
        "Empty means <home>/store.",
    )
    store_options: dict[str, Any] = Field(
        default_factory=dict,
        description='Extra fsspec options for the store as JSON, e.g. {"endpoint_url": "http://..."}. '
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
        default=7,
        gt=0,
        description="Days a query-cache entry (nbreports.querycache) is served; older entries are recomputed, "
        "and swept (local store) or deleted by a bucket lifecycle rule (S3).",
    )
    heartbeat_s: float = Field(
        default=30,
        gt=0,
        description="Seconds between the heartbeats a worker writes into the row of the run it executes.",
    )
    lost_after_s: float = Field(
        default=600,
        gt=0,
        description="Seconds without a heartbeat after which a run whose process is gone is recorded as lost "
        "(the maintenance DAG also asks Airflow whether its DAG run still runs; see nbreports.runs.liveness).",
    )
    backup_keep_days: int = Field(
        default=14,
        gt=0,
        description="Days of daily backups (backups/<date>/ in the store) kept by the backup DAG.",
    )

    base_url: str = Field(
        default="http://localhost:8080",
        description="The Airflow UI's address as readers reach it: the links in notifications start with it.",
    )
    notify_from: str = Field(
        default="",
        description="Sender address of notification emails. Empty means the SMTP connection's from_email.",
    )
    notify_attach_max_bytes: int = Field(
        default=5_000_000,
        gt=0,
        description="Largest published HTML report an email carries (inline or attached); beyond it, a link.",
    )
    notify_max_attempts: int = Field(
        default=5,
        gt=0,
        description="Tries of a notification before it is given up (the first at publish, the rest "
        "by the nbreports_reconcile DAG, 1, 5, 15 and 60 minutes apart).",
    )

    search_max_chars: int = Field(
        default=20_000,
        gt=0,
        description="Characters of one document the search index keeps: a cell's source, one cell's text "
        "outputs, a scrap, a run's parameters or error. Text beyond it cannot be found.",
    )
    search_max_attempts: int = Field(
        default=5,
        gt=0,
        description="Tries of a version or run the search index failed to take (the first at the save or "
        "publish, the rest by the nbreports_reconcile DAG) before only a reindex picks it up.",
    )
    author: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NBREPORTS_AUTHOR", "JUPYTERHUB_USER"),
        description="Who saves notebook versions and restores (nbr, the Jupyter hook); "
        "JupyterHub sets JUPYTERHUB_USER in each user's server. Empty means the account's login name.",
    )
    image: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NBREPORTS_IMAGE", "JUPYTER_IMAGE_SPEC"),
        description="The kernel image a Jupyter server runs on, recorded with each version it saves.",
    )
    report: str | None = Field(
        default=None,
        description="Inside a kernel: the report being run (set by the engine).",
    )
    run_id: str | None = Field(
        default=None,
        description="Inside a kernel: the run being executed (set by the engine).",
    )

    @field_validator("store_options", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value else (value or {})

    @cached_property
    def resolved_notebooks_dir(self) -> Path:
        """The notebooks folder: the setting, else ./notebooks, else the checkout's notebooks/."""
        if self.notebooks_dir is not None:
            return self.notebooks_dir.absolute()
        here = Path("notebooks")
        return here.absolute() if here.is_dir() else CHECKOUT / "notebooks"

    @cached_property
    def resolved_profiles_file(self) -> Path:
        """The compute config file: the setting, else config/profiles.yaml beside the notebooks folder."""
        return (self.profiles_file or self.resolved_notebooks_dir.parent / "config" / "profiles.yaml").absolute()

    @cached_property
    def resolved_teams_file(self) -> Path:
        """The teams file: the setting, else config/teams.yaml beside the notebooks folder."""
        return (self.teams_file or self.resolved_notebooks_dir.parent / "config" / "teams.yaml").absolute()

    @cached_property
    def resolved_author(self) -> str:
        """Who acts: the setting (or JupyterHub's user), else the login name of the account."""
        return self.author or getpass.getuser()

    @cached_property
    def resolved_store_url(self) -> str:
        """The store: the setting, else a folder in the home folder."""
        return self.store_url or str((self.home / "store").absolute())

    @cached_property
    def resolved_database_url(self) -> str:
        """The platform database: the setting, else SQLite in the home folder."""
        return self.database_url or f"sqlite:///{(self.home / 'platform.db').absolute()}"

    @cached_property
    def derived_cache_dir(self) -> Path:
        """Where facts derived from notebooks are cached, keyed by content hash."""
        return self.home / "cache" / "derived"


@cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment once (tests call ``get_settings.cache_clear()``)."""
    return Settings()
