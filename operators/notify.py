"""Notifications through Airflow's own notifiers: the senders the core's registry calls, and their callers.

* the senders: email by the smtp provider's ``SmtpNotifier``, Slack by the slack provider's
  ``SlackWebhookNotifier``, webhooks by the http provider's ``HttpNotifier``, each through the
  Airflow connection the rule names. Their ``notify`` is called directly, never ``__call__``:
  that would render the message as a Jinja template, and a scrap could then read Airflow's context;
* ``notify_published``: after the publish step (``PublishReportOperator``); ``notify_lost`` for lost runs;
* ``notify_retry``: the execute task's ``on_retry_callback``;
* ``check_connections``: at DAG import, each rule's connection exists and is of its channel's type.

None of them fails a run: a delivery that fails is recorded and tried again by ``retry_notifications``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from nbreports.access.teams import TeamsConfig, load_teams, teams_path
from nbreports.errors import NbreportsError, NotifyError, SpecError
from nbreports.notify.dispatch import notify_run, retry_due
from nbreports.notify.senders import Outgoing, register_sender
from nbreports.notify.spec import Channel
from nbreports.redaction.redact import Redactor
from nbreports.reports.catalog import Report, find_report
from operators.hooks import NbreportsHook

log = logging.getLogger(__name__)

#: The Airflow connection types each channel sends through.
CONN_TYPES = {Channel.EMAIL: {"smtp", "email"}, Channel.SLACK: {"slackwebhook"}, Channel.WEBHOOK: {"http", "https"}}


@contextmanager
def _masked(conn_id: str) -> Iterator[None]:
    """A channel's error as a ``NotifyError`` without the connection's secret (a webhook URL is one)."""
    from airflow.sdk import BaseHook

    try:
        yield
    except Exception as exc:
        secret = BaseHook.get_connection(conn_id).password or ""
        raise NotifyError(Redactor([secret]).text(f"{type(exc).__name__}: {exc}")) from None


def send_email(out: Outgoing) -> None:
    """Deliver an email through the smtp provider, the HTML report attached as a file if it carries one."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    settings = NbreportsHook().settings
    with tempfile.TemporaryDirectory(prefix="nbreports-mail-") as tmp, _masked(out.conn_id):
        files = None
        if out.attachment:
            path = Path(tmp) / out.attachment[0]
            path.write_bytes(out.attachment[1])
            files = [str(path)]
        SmtpNotifier(
            to=out.recipients,
            from_email=settings.notify_from or None,  # None: the connection's from_email
            subject=out.message.subject,
            html_content=out.message.html_body or out.message.body,
            files=files,
            smtp_conn_id=out.conn_id,
        ).notify({})


def send_slack(out: Outgoing) -> None:
    """Post to a Slack incoming webhook through the slack provider."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    lines = [f"*{out.message.subject}*", *(f"{k}: {v}" for k, v in out.message.fields.items())]
    with _masked(out.conn_id):
        notifier = SlackWebhookNotifier(slack_webhook_conn_id=out.conn_id, text="\n".join(lines))
        notifier.notify({})  # type: ignore[no-untyped-call]


def send_webhook(out: Outgoing) -> None:
    """POST the notification as JSON through the http provider."""
    from airflow.providers.http.notifications.http import HttpNotifier

    with _masked(out.conn_id):
        notifier = HttpNotifier(http_conn_id=out.conn_id, json=out.payload)
        notifier.notify({})


def register_airflow_senders() -> None:
    """Make the core deliver through Airflow's notifiers (done on import of this module)."""
    register_sender(Channel.EMAIL, send_email)
    register_sender(Channel.SLACK, send_slack)
    register_sender(Channel.WEBHOOK, send_webhook)


register_airflow_senders()


def _find(hook: NbreportsHook, name: str) -> Report:
    """The report ``name`` from the notebooks folder the settings name (its derived facts cached)."""
    return find_report(hook.settings.resolved_notebooks_dir, name, hook.settings.derived_cache_dir)


def _teams(hook: NbreportsHook) -> TeamsConfig:
    """The teams file beside the notebooks folder (or NBREPORTS_TEAMS_FILE): who a team rule writes to."""
    return load_teams(teams_path(hook.settings.resolved_notebooks_dir))


def _redactor(hook: NbreportsHook, report: Report) -> Redactor:
    """The run's secrets: the platform's and the values of the connections and variables its spec lists."""
    spec = report.spec
    return Redactor(hook.run_platform(report.name, spec.team, spec.connections, spec.variables).secrets)


def notify_published(hook: NbreportsHook, report: Report, run_id: str) -> None:
    """Send what a published run fires; any failure is logged and recorded, never raised."""
    if not report.spec.notify:
        return
    try:
        for row in notify_run(hook.platform, report, run_id, _teams(hook), _redactor(hook, report)):
            log.info("notification %s (%s, %s): %s", row.id, row.event, row.channel, row.status)
    except Exception as exc:  # the run is published already: a notification never fails it
        log.warning("the notifications of run %s could not be sent: %s", run_id, exc)


def notify_lost(hook: NbreportsHook, lost: list[tuple[str, str]]) -> None:
    """The failure notifications of the runs (report, run id) the reconcile DAG just recorded lost."""
    for name, run_id in lost:
        try:
            report = _find(hook, name)
        except NbreportsError as exc:  # removed or broken since the run started: nobody to ask who is told
            log.warning("no notifications for lost run %s: %s", run_id, exc)
            continue
        notify_published(hook, report, run_id)


def notify_retry(context: Any) -> None:
    """``on_retry_callback`` of the execute task: tell the rules on ``retry`` that a try failed."""
    try:
        ti = context["ti"]
        plan = ti.xcom_pull(task_ids="prepare") or {}
        if not plan.get("run_id"):
            return
        hook = NbreportsHook()
        report = _find(hook, plan["report"])
        if not report.spec.notify:
            return
        error = str(context.get("exception") or "") or None
        notify_run(
            hook.platform,
            report,
            plan["run_id"],
            _teams(hook),
            _redactor(hook, report),
            retrying=True,
            try_number=int(ti.try_number),
            error=error,
        )
    except Exception as exc:
        log.warning("the retry notification could not be sent: %s", exc)


def retry_notifications(hook: NbreportsHook) -> dict[str, int]:
    """Try every delivery that is due again, each with its report's redactor; counts by outcome."""

    @cache  # one report's deliveries share its secrets: its connections are read once per pass
    def redactor_for(name: str) -> Redactor:
        try:
            return _redactor(hook, _find(hook, name))
        except Exception:  # a report gone or broken since: its platform secrets still apply
            return Redactor(hook.platform.secrets)

    return retry_due(hook.platform, redactor_for)


def check_connections(report: Report, known: dict[str, str | None] | None = None) -> None:
    """``SpecError`` naming the file and field of a rule whose connection Airflow lacks or is of another type.

    ``known`` caches connection types by id across the reports of one parse.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    known = {} if known is None else known
    for i, rule in enumerate(report.spec.notify):
        if rule.conn_id not in known:
            try:
                known[rule.conn_id] = BaseHook.get_connection(rule.conn_id).conn_type
            except AirflowNotFoundException:
                known[rule.conn_id] = None
        conn_type = known[rule.conn_id]
        field = f"notify.{i}.conn_id"
        if conn_type is None:
            raise SpecError(str(report.spec_path), field, f"Airflow has no connection {rule.conn_id!r}")
        if conn_type not in CONN_TYPES[rule.channel]:
            wanted = " or ".join(sorted(CONN_TYPES[rule.channel]))
            raise SpecError(
                str(report.spec_path),
                field,
                f"connection {rule.conn_id!r} is of type {conn_type!r}; a {rule.channel.value} rule needs {wanted}",
            )
