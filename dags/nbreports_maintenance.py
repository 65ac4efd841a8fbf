"""The daily maintenance DAG of nbreports: query-cache expiry and backups.

* ``query_cache``: on an S3 store, (re)puts the bucket lifecycle rule that deletes query-cache entries
  after their time-to-live; on a local store, sweeps expired and corrupt entries.
* ``backup``: snapshots every report folder and the platform database to ``backups/<date>/`` in the
  store, and deletes backups older than ``NBREPORTS_BACKUP_KEEP_DAYS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task


def _hook() -> Any:
    from operators.hooks import NbreportsHook

    return NbreportsHook()


@dag(
    dag_id="nbreports_maintenance",
    description="Query-cache expiry (S3 lifecycle rule or local sweep) and daily backups",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["nbreports", "maintenance"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
)
def nbreports_maintenance() -> None:
    @task
    def query_cache() -> dict[str, Any]:
        from nbreports.kernel.querycache.expiry import maintain

        hook = _hook()
        platform, settings = hook.platform, hook.settings
        client = None
        if platform.store.url_prefix.startswith("s3://") and settings.store_conn_id:
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            client = S3Hook(aws_conn_id=settings.store_conn_id).get_conn()
        return maintain(platform.store, settings.query_cache_ttl_days, client=client, options=settings.store_options)

    @task
    def backup() -> dict[str, Any]:
        from nbreports.history.backup import backup as run_backup

        hook = _hook()
        platform, settings = hook.platform, hook.settings
        manifest = run_backup(
            platform.store, platform.db, settings.resolved_notebooks_dir, keep_days=settings.backup_keep_days
        )
        return {
            "date": manifest["date"],
            "files": len(manifest["files"]),
            "skipped": manifest["skipped"],
            "database": manifest["database"]["dialect"],
            "pruned": manifest["pruned"],
        }

    query_cache()
    backup()


nbreports_maintenance()
