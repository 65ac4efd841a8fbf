"""The DAG factory: one DAG per report folder, with a typed trigger form from its parameters.

Parsing stays cheap: what is derived from a notebook is cached by content hash (see
``nbreports.reports.catalog``), so an unchanged report costs two file reads and a hash per parse.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, CronTriggerTimetable, Param

from nbreports.access.policy import role_actions
from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.errors import ConfigError, NbreportsError, SpecError
from nbreports.notify.spec import NotifyEvent
from nbreports.pods.compute import POD_EXECUTORS, ComputeConfig, config_path, load_compute_config
from nbreports.reports.catalog import Report, load_reports
from nbreports.reports.parameters import Parameter
from nbreports.settings import Settings, get_settings
from operators.access_control import access_control
from operators.notify import check_connections, notify_retry
from operators.report import (
    FORCE_PARAM,
    PROFILE_PARAM,
    ExecuteReportOperator,
    PrepareReportOperator,
    PublishReportOperator,
    report_asset,
)

START_DATE = datetime(2024, 1, 1)
# Airflow checks every Param's default at parse time with jsonschema, which first validates the
# schema against its metaschema; the draft-07 one is 3x cheaper to check than the default 2020-12
# one, and the keywords used here (type, enum, format, items, bounds) mean the same in both.
SCHEMA_DIALECT = {"$schema": "http://json-schema.org/draft-07/schema#"}


def _param(default: Any, **schema: Any) -> Param:
    return Param(default, **(schema | SCHEMA_DIALECT))


def to_param(p: Parameter) -> Param:
    """Return an Airflow ``Param`` whose JSON schema matches the notebook parameter, for the trigger form.

    :param p: a parameter of the notebook's ``parameters`` cell.
    """
    schema = p.json_schema()
    schema.pop("description", None)
    schema.setdefault("title", p.name)
    description = p.help or None
    default = p.default
    if not p.literal:  # an expression default: empty means "computed in the notebook"
        schema["type"] = [schema.get("type", "string"), "null"]
        description = f"{p.help} (empty: computed by the notebook)".strip()
    if p.type == "array" and "items" not in schema:
        schema["items"] = {"type": "string"}
    return _param(default, description=description, **schema)


def _params(report: Report, config: ComputeConfig | None) -> dict[str, Param]:
    params = {p.name: to_param(p) for p in report.parameters}
    if report.spec.cache.ttl:
        params[FORCE_PARAM] = _param(
            False,
            type="boolean",
            title="Force a new run",
            description="Run the notebook even if a fresh cached run has the same inputs",
        )
    if PROFILE_PARAM not in params and config is not None:
        params.update(_profile_param(report, config))
    return params


def _compute_config(report: Report) -> ComputeConfig | None:
    """The compute config beside the report's notebooks folder; None if it is broken (prepare then says why)."""
    try:
        return load_compute_config(config_path(report.folder.parent), teams_path(report.folder.parent))
    except ConfigError:
        return None


def _profile_param(report: Report, config: ComputeConfig) -> dict[str, Param]:
    """Return a dropdown of the compute profiles the report's team may use.

    For a pod run, always; for a run in the worker, when a profile routes to a queue of its own
    (which workers run it). None if the team is unknown to the config: prepare refuses the run.
    """
    try:
        allowed = config.allowed_profiles(report.spec.team)
        if report.spec.executor not in POD_EXECUTORS and not config.routes_to_queues(report.spec.team):
            return {}
    except ConfigError:
        return {}
    default = report.spec.profile if report.spec.profile in allowed else config.team(report.spec.team).default
    what = "CPU, memory or GPU of the pod" if report.spec.executor in POD_EXECUTORS else "the workers that run it"
    return {
        PROFILE_PARAM: _param(
            default,
            type="string",
            enum=allowed,
            title="Compute profile",
            description=f"{what}: "
            + "; ".join(
                f"{n}: {config.profiles[n].description}" + (f" (queue {q})" if (q := config.profiles[n].queue) else "")
                for n in allowed
            ),
        )
    }


def _queue(report: Report, config: ComputeConfig | None) -> dict[str, str]:
    """The execute task's queue: its default profile's, if it names one (a trigger's choice: ``operators.policy``)."""
    if config is None:
        return {}
    try:
        queue = config.queue_for(report.name, report.spec)
    except NbreportsError:  # a profile the team may not use: prepare refuses the run
        return {}
    return {"queue": queue} if queue else {}


#: The presets that are cron expressions, read in the spec's time zone like any other (Airflow reads
#: a preset string in UTC). ``@once`` and ``@continuous`` have no time of day and stay as they are.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}


def _schedule(report: Report) -> Any:
    spec = report.spec
    if spec.triggered_by:
        return [report_asset(name) for name in spec.triggered_by]
    if spec.schedule is None or spec.schedule in ("@once", "@continuous"):
        return spec.schedule
    return CronTriggerTimetable(CRON_PRESETS.get(spec.schedule, spec.schedule), timezone=spec.timezone)


@contextmanager
def _access_control_is_ours() -> Iterator[None]:
    """Silence the one warning Airflow gives every DAG with ``access_control``.

    Airflow 3 marks ``access_control`` "to be removed in Airflow 4" (``RemovedInAirflow4Warning``
    from ``airflow/sdk/definitions/dag.py``), yet it is how the FAB auth manager gets per-DAG
    permissions in 3.x — the policy's only way into Airflow's own UI and REST API.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The airflow.security.permissions module is deprecated")
        yield


PUBLISH_RETRIES = 2  # publishing a run again is safe (runs.publish): only its stored files are rewritten
PUBLISH_RETRY_DELAY = timedelta(seconds=30)


def build_dag(report: Report, notebooks_dir: Path | None = None, teams: TeamsConfig | None = None) -> DAG:
    """Build the DAG prepare → execute → publish of one report.

    :param report: the report, as loaded by ``nbreports.reports.catalog``.
    :param notebooks_dir: the folder of report folders the tasks read; by default each worker's own
        ``NBREPORTS_NOTEBOOKS_DIR`` (its DAG bundle), never a path of the host that parsed the DAG.
    :param teams: the teams file (for its admin roles, left out of ``access_control``); by default
        the one beside the notebooks folder.
    """
    spec = report.spec
    teams = teams or load_teams(teams_path(report.folder.parent))
    compute = _compute_config(report)  # once per DAG: the form's profiles and the execute task's queue
    with (
        _access_control_is_ours(),
        DAG(
            dag_id=report.name,
            description=spec.description or spec.title,
            doc_md=report.doc_md or None,
            schedule=_schedule(report),
            start_date=START_DATE,
            catchup=spec.catchup,
            tags=sorted({"nbreports", f"team:{spec.team}", *spec.tags}),
            params=_params(report, compute),
            default_args={"owner": spec.owner},
            dagrun_timeout=timedelta(seconds=spec.run_timeout * (spec.retries + 1) + 600),
            render_template_as_native_obj=True,
            access_control=access_control(role_actions(report.rules, teams.admin_roles)),
        ) as dag,
    ):
        common: dict[str, Any] = {"report": report.name}
        if notebooks_dir is not None:
            common["notebooks_dir"] = str(notebooks_dir)
        prepare = PrepareReportOperator(task_id="prepare", **common)
        execute_cls: type[Any] = ExecuteReportOperator
        if spec.executor == "kubernetes":  # imported only when used: the provider is slow to import
            from operators.kubernetes import KubernetesReportOperator

            execute_cls = KubernetesReportOperator
        execute = execute_cls(
            task_id="execute",
            plan=prepare.output,
            retries=spec.retries,
            retry_delay=timedelta(seconds=spec.retry_delay),
            execution_timeout=timedelta(seconds=spec.run_timeout + 120),
            on_retry_callback=notify_retry if any(NotifyEvent.RETRY in r.on for r in spec.notify) else None,
            **_queue(report, compute),
            **common,
        )
        publish = PublishReportOperator(  # retried: an object store or database briefly down must not lose the run
            task_id="publish", plan=prepare.output, retries=PUBLISH_RETRIES, retry_delay=PUBLISH_RETRY_DELAY, **common
        )
        prepare >> execute >> publish
    return dag


class InvalidReports(DAG):
    """Stands in for the reports whose spec or notebook is invalid.

    Airflow records an exception raised while bagging one DAG as an import error of the DAG
    file, and still loads the file's other DAGs: that is how each bad report shows up in the UI.

    :param errors: the error of each invalid report, by report name.
    """

    def __init__(self, errors: dict[str, SpecError]) -> None:
        super().__init__(dag_id="nbreports_invalid_reports", schedule=None, start_date=START_DATE)
        self.errors = errors

    def validate(self) -> None:
        """Raise one ``SpecError`` listing every invalid report (Airflow records it as the import error)."""
        lines = [f"{len(self.errors)} report(s) could not be loaded:"] + [str(e) for e in self.errors.values()]
        raise SpecError("notebooks", "", "\n".join(lines))


def build_dags(settings: Settings | None = None) -> dict[str, DAG]:
    """Build every report's DAG by id, plus a stand-in that raises the errors of the invalid ones.

    :param settings: where the reports are (``notebooks_dir``) and their derived-facts cache; by
        default from the ``NBREPORTS_*`` environment variables.
    """
    settings = settings or get_settings()
    reports, errors = load_reports(settings.resolved_notebooks_dir, settings.derived_cache_dir)
    teams = load_teams(teams_path(settings.resolved_notebooks_dir))
    connections: dict[str, str | None] = {}  # each connection looked up once per parse
    dags: dict[str, DAG] = {}
    for report in reports:
        try:
            check_connections(report, connections)
        except SpecError as exc:
            errors[str(report.folder)] = exc
            continue
        dags[report.name] = build_dag(report, teams=teams)
    if errors:
        dags["nbreports_invalid_reports"] = InvalidReports(errors)
    return dags
