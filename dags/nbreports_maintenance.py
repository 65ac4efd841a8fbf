"""The maintenance DAGs of nbreports: daily query-cache expiry and backups; lost runs every ten minutes.

* ``query_cache``: on an S3 store, (re)puts the bucket lifecycle rule that deletes query-cache entries
  after their time-to-live; on a local store, sweeps expired and corrupt entries.
* ``backup``: snapshots every report folder and the platform database to ``backups/<date>/`` in the
  store, and deletes backups older than ``NBREPORTS_BACKUP_KEEP_DAYS``.

``nbreports_reconcile`` records as lost (failed, reason ``lost``) every run whose worker or pod died:
its row still says running, its heartbeat stopped, and Airflow says its DAG run is over or gone
(``nbreports.runs.liveness``). It then sends those runs' failure notifications and tries every
notification that failed before again (``nbreports.notify``, through ``operators.notify``), and
every notebook version or run the search index failed to take (``nbreports.search.rebuild``).
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


def _dag_run_state(dag_id: str, run_id: str) -> str | None:
    """How Airflow says a DAG run stands, through the task's API client; None when there is no such run."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    if not RuntimeTaskInstance.get_dr_count(dag_id=dag_id, run_ids=[run_id]):
        return None
    state = RuntimeTaskInstance.get_dagrun_state(dag_id=dag_id, run_id=run_id)
    return str(getattr(state, "value", state))  # a DagRunState: its str() is "DagRunState.RUNNING"


@dag(
    dag_id="nbreports_reconcile",
    description="Record report runs whose worker or pod died as lost; retry due notifications and search indexing",
    schedule=timedelta(minutes=10),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["nbreports", "maintenance"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
)
def nbreports_reconcile() -> None:
    @task
    def lost_runs() -> list[dict[str, str]]:
        from nbreports.runs.liveness import reconcile

        lost = reconcile(_hook().platform, dag_run_state=_dag_run_state)
        return [{"report": run.report, "run_id": run.run_id, "reason": run.reason} for run in lost]

    @task
    def notifications(lost: list[dict[str, str]]) -> dict[str, int]:
        """The failure notifications of the runs just recorded lost, then every delivery due again."""
        from operators.notify import notify_lost, retry_notifications

        hook = _hook()
        notify_lost(hook, [(run["report"], run["run_id"]) for run in lost])
        return retry_notifications(hook)

    @task
    def search_index() -> dict[str, int]:
        """The versions and runs the search index failed to take, tried again when due."""
        from nbreports.search.rebuild import retry_failed

        platform = _hook().platform
        return retry_failed(platform.db, platform.store).to_dict()

    lost = lost_runs()
    notifications(lost)  # type: ignore[arg-type]  # TaskFlow passes the XCom, typed as XComArg
    lost >> search_index()  # a run recorded lost is indexed as it is recorded; then the failures


nbreports_reconcile()
