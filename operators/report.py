"""Operators that run a report: prepare → execute → publish, or all three in one task.

The DAG factory chains the three step operators; engineers can use ``NotebookReportOperator``
in their own DAGs and read the run's scraps from its XCom.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import Asset, BaseOperator, Context, TriggerRule
from airflow.sdk.exceptions import AirflowFailException

from nbreports.errors import ConfigError, ExecutionError, NbreportsError, ParameterError
from nbreports.reports.catalog import Report, find_report
from nbreports.runs.execute import execute, load_execution
from nbreports.runs.failures import execution_error, raise_for_result
from nbreports.runs.model import RunPlan
from nbreports.runs.prepare import prepare
from nbreports.runs.publish import publish
from nbreports.runs.runner import run_report
from nbreports.runs.states import RunStatus
from operators.hooks import NbreportsHook
from operators.lineage import upstream_events, upstream_runs
from operators.notify import notify_published

FORCE_PARAM = "force"  # trigger parameter that bypasses the run cache
PROFILE_PARAM = "profile"  # trigger parameter choosing the compute profile: a pod's resources, the workers' queue


def report_asset(report: str) -> Asset:
    """Return the Airflow Asset updated by each successful run of ``report``.

    :param report: the report's name (its DAG id).
    """
    return Asset(name=f"nbreports.{report}", uri=f"nbreports://reports/{report}", group="nbreports")


class _ReportOperator(BaseOperator):
    """What the report operators share: the report, where its folder is, and the hook to the platform.

    :param report: the report's name: a folder of ``notebooks_dir`` (and the DAG id of its DAG).
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``
        (see ``nbreports.settings``).
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    """

    def __init__(
        self, *, report: str, notebooks_dir: str | None = None, db_conn_id: str = "nbreports_db", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.notebooks_dir = notebooks_dir
        self.db_conn_id = db_conn_id

    @property
    def hook(self) -> NbreportsHook:
        """The hook to the platform (store and database) through ``db_conn_id``."""
        return NbreportsHook(self.db_conn_id)

    def load_report(self) -> Report:
        """Load the report from its folder (spec, notebook and parameters, cached by content hash)."""
        hook = self.hook
        return find_report(hook.notebooks(self.notebooks_dir), self.report, hook.settings.derived_cache_dir)

    def _airflow_ids(self, context: Context) -> dict[str, Any]:
        dag_run, ti = context["dag_run"], context["ti"]
        return {
            "dag_id": dag_run.dag_id,
            "dag_run_id": dag_run.run_id,
            # a retry of this task supersedes the run its killed try left (nbreports.runs.liveness)
            "airflow_task": f"{dag_run.dag_id}/{dag_run.run_id}/{ti.task_id}/{ti.map_index}",
            "triggered_by": str(
                getattr(dag_run, "triggering_user_name", None) or getattr(dag_run.run_type, "value", dag_run.run_type)
            ),
        }


class PrepareReportOperator(_ReportOperator):
    """Validate the run's parameters, pin the notebook version and write the exact input.

    Parameters come from ``parameters`` (templated) or else from the DAG run's params. Invalid
    parameters fail the task at once, without retries, and nothing is written.

    :param parameters: the notebook parameters of the run (templated); by default the DAG run's
        params and conf. Trigger params ``force`` (bypass the run cache) and ``profile`` (the compute
        profile of a pod run) are read from the DAG run either way.
    :param report: the report's name: a folder of ``notebooks_dir``.
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``.
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    """

    template_fields: Sequence[str] = ("parameters",)

    def __init__(self, *, parameters: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parameters = parameters

    def execute(self, context: Context) -> dict[str, Any]:
        """Prepare the run and return its plan (the XCom the execute and publish steps read)."""
        report = self.load_report()
        if self.parameters is not None:
            values = dict(self.parameters)
        else:  # the form's params, plus any conf key the notebook does not know (refused below)
            names = {p.name for p in report.parameters}
            conf = context["dag_run"].conf or {}
            values = {k: v for k, v in context["params"].items() if k in names}
            values.update({k: v for k, v in conf.items() if k not in names and k not in (FORCE_PARAM, PROFILE_PARAM)})
        force = bool(context["params"].get(FORCE_PARAM, False))
        names = {p.name for p in report.parameters}
        profile = (
            None
            if PROFILE_PARAM in names
            else ((context["dag_run"].conf or {}).get(PROFILE_PARAM) or context["params"].get(PROFILE_PARAM))
        )
        spec = report.spec
        try:
            # the connections and variables the spec lists must exist before anything is written
            platform = self.hook.run_platform(report.name, spec.team, spec.connections, spec.variables)
            plan = prepare(
                platform,
                report,
                values,
                source="airflow",
                force=force,
                cache_extra=upstream_events(context),
                upstream_runs=upstream_runs(context),  # the runs whose Asset events triggered this one
                profile=profile,
                **self._airflow_ids(context),
            )
        except (ParameterError, ConfigError) as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("prepared run %s of %s with parameters %s", plan.run_id, plan.report, plan.parameters)
        if plan.cached_from:
            self.log.info(
                "cache hit: reusing the outputs of run %s (trigger with force=true to re-run)", plan.cached_from
            )
        return plan.to_dict()


class ExecuteReportOperator(_ReportOperator):
    """Run the prepared notebook with the report's engine; cell output streams into the task log.

    The output notebook is stored before the task fails, so publish can still show it.

    :param plan: the run's plan: the XCom of the prepare step (templated), e.g. ``prepare.output``.
    :param report: the report's name: a folder of ``notebooks_dir``.
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``.
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    """

    template_fields: Sequence[str] = ("plan",)

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: Context) -> dict[str, Any]:
        """Run the notebook; return the execution result, or raise the error of the failed run."""
        plan = RunPlan.from_dict(self.plan)
        platform = self.hook.run_platform(plan.report, plan.team, plan.connections, plan.variables)
        here = self.hook.notebooks(self.notebooks_dir)
        result = execute(platform, plan, self.log.info, try_number=context["ti"].try_number, notebooks_dir=here)
        if result.status != RunStatus.SUCCESS:
            raise execution_error(
                plan.report,
                plan.run_id,
                result.error,
                result.error_type,
                failed_cell=result.failed_cell,
                output_uri=platform.store.uri(plan.key("output.ipynb")),
            )
        return result.to_dict()


class PublishReportOperator(_ReportOperator):
    """Render and record the run (also a failed one), move ``latest`` and emit the report's Asset.

    Its trigger rule defaults to ``all_done`` and its outlets to the report's Asset (:func:`report_asset`).

    :param plan: the run's plan: the XCom of the prepare step (templated), e.g. ``prepare.output``.
    :param report: the report's name: a folder of ``notebooks_dir``.
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``.
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    """

    template_fields: Sequence[str] = ("plan",)

    def __init__(self, *, plan: Any, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        kwargs.setdefault("outlets", [report_asset(kwargs["report"])])
        super().__init__(**kwargs)
        self.plan = plan

    def execute(self, context: Context) -> dict[str, Any]:
        """Publish the run and return its scraps; a failed run is published, then fails the task."""
        if not self.plan:  # failing (not skipping) keeps the DAG run failed
            raise AirflowFailException("the prepare step failed, so there is no run to publish: see its log")
        hook = self.hook
        platform = hook.platform
        plan = RunPlan.from_dict(self.plan)
        record = publish(platform, plan, load_execution(platform, plan))
        self.log.info("published %s run %s: %s (%s)", plan.report, plan.run_id, record["status"], record["html_uri"])
        self._notify(hook, plan)
        try:
            raise_for_result(record)  # a failed run is published and recorded, then fails the task ...
        except ExecutionError as exc:  # ... without retries: only a store or database error is worth another try
            raise AirflowFailException(str(exc)) from exc
        # Identifiers only: FAB lets anyone who reads Assets read every event (no per-asset check),
        # so parameters and store paths stay behind the report's own permissions.
        context["outlet_events"][report_asset(plan.report)].extra = {
            "run_id": plan.run_id,
            "notebook_version": plan.notebook_version,
            "status": record["status"],
        }
        return dict(record["scraps"])

    def _notify(self, hook: NbreportsHook, plan: RunPlan) -> None:
        """Send what the report's ``notify:`` rules fire for this run; never fails the task."""
        try:
            report = self.load_report()
        except NbreportsError as exc:  # the folder changed since prepare: nobody to ask who is told
            self.log.warning("no notifications for run %s: %s", plan.run_id, exc)
            return
        notify_published(hook, report, plan.run_id)


class NotebookReportOperator(_ReportOperator):
    """Prepare, execute and publish a report in one task; returns the run's scraps (XCom).

    :param report: the report's name: a folder of ``notebooks_dir`` (templated).
    :param parameters: the notebook parameters of the run (templated), e.g. ``{"start_date": "{{ ds }}"}``;
        by default the notebook's own defaults.
    :param notebooks_dir: the folder of report folders; by default ``NBREPORTS_NOTEBOOKS_DIR``.
    :param db_conn_id: the Airflow connection to the platform database (see :class:`NbreportsHook`).
    """

    template_fields: Sequence[str] = ("report", "parameters")

    def __init__(self, *, parameters: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parameters = parameters or {}

    def execute(self, context: Context) -> dict[str, Any]:
        """Run the report from start to end and return its scraps."""
        try:
            report = self.load_report()
            spec = report.spec
            record = run_report(
                self.hook.run_platform(report.name, spec.team, spec.connections, spec.variables),
                report,
                dict(self.parameters),
                log=self.log.info,
                source="airflow",
                **self._airflow_ids(context),
            )
        except ParameterError as exc:
            raise AirflowFailException(str(exc)) from exc
        return dict(record["scraps"])
