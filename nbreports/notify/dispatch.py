"""A finished run's notifications: which rules fire, to whom, each delivery planned, tried and recorded.

Nothing here raises into the run: a delivery that fails is recorded (``deliveries``) with its
error, redacted, and tried again by ``retry_due`` (the ``nbreports_reconcile`` DAG). A rule fires
once per run (a rule on ``success`` and ``recovered`` sends one message, labelled by the rarer
event). Subscribers are written to only while the roles they subscribed with may view the report;
a rule for the subscribers alone, with none, sends nothing and records nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nbreports.access.policy import Action, actions_for
from nbreports.access.teams import TeamsConfig
from nbreports.errors import NbreportsError, StoreError
from nbreports.notify import deliveries
from nbreports.notify.events import rules_to_fire, run_events
from nbreports.notify.message import Message, build_message, run_link
from nbreports.notify.senders import Outgoing, get_sender
from nbreports.notify.spec import Channel, NotifyEvent, NotifyRule, ReportDelivery
from nbreports.notify.subscriptions import subscribers
from nbreports.redaction.redact import Redactor
from nbreports.reports.catalog import Report
from nbreports.runs.model import Platform
from nbreports.runs.states import RunStatus
from nbreports.storage.store import Store
from nbreports.storage.tables import NotificationRow, ReportRow, RunRow

log = logging.getLogger(__name__)

# the event a delivery is labelled with when a rule matches several of a run's events
_PRECEDENCE = (NotifyEvent.RECOVERED, NotifyEvent.FAILURE, NotifyEvent.RETRY, NotifyEvent.SUCCESS)


def previous_status(platform: Platform, run: RunRow) -> str | None:
    """How the report's last finished run before ``run`` ended (None for its first)."""
    finished = (str(RunStatus.SUCCESS), str(RunStatus.FAILED))
    query = (
        select(RunRow.status)
        .where(RunRow.report == run.report, RunRow.started_at < run.started_at, RunRow.status.in_(finished))
        .order_by(RunRow.started_at.desc())
        .limit(1)
    )
    with Session(platform.db.engine) as s:
        return s.scalar(query)


def recipients(platform: Platform, rule: NotifyRule, report: Report, teams: TeamsConfig) -> list[str]:
    """The addresses a rule writes to: its own, its teams', and the subscribers who may view the report."""
    found = list(rule.to)
    for team in rule.teams:
        found += teams.teams[team].email if team in teams.teams else []
    if rule.subscribers:
        for who, email in subscribers(platform.db, report.name).items():
            if Action.VIEW in actions_for(who, report.rules):
                found.append(email)
    unique: dict[str, str] = {}
    for address in found:  # one copy of each address, the first spelling kept
        unique.setdefault(address.lower(), address)
    return list(unique.values())


def notify_run(
    platform: Platform,
    report: Report,
    run_id: str,
    teams: TeamsConfig,
    redactor: Redactor,
    *,
    retrying: bool = False,
    try_number: int = 0,
    error: str | None = None,
) -> list[NotificationRow]:
    """Plan and try the deliveries the run fires (``retrying``: its try ``try_number`` failed with ``error``).

    Returns the deliveries tried now; an empty list when no rule fires or all were planned before.
    """
    run = platform.db.run_row(run_id)
    if run is None or not report.spec.notify:
        return []
    status = str(RunStatus.FAILED) if retrying else run.status
    prior = None if retrying else previous_status(platform, run)
    fired = rules_to_fire(report.spec.notify, status, retrying=retrying, previous_status=prior, scraps=run.scraps)
    events = run_events(status, retrying=retrying, previous_status=prior)
    tried = []
    for index, rule in enumerate(report.spec.notify):
        if rule not in fired:
            continue
        event = next(e for e in _PRECEDENCE if e in events and e in rule.on)
        to = recipients(platform, rule, report, teams) if rule.channel is Channel.EMAIL else []
        if rule.channel is Channel.EMAIL and not to:
            continue  # a rule for the subscribers, and nobody (who may view) subscribed: nothing to send
        row = deliveries.plan(
            platform.db,
            run_id=run_id,
            report=report.name,
            event=str(event),
            rule=index,
            channel=str(rule.channel),
            conn_id=rule.conn_id,
            recipients=to,
            options={"report": str(rule.report), **({"error": redactor.text(error)} if error else {})},
            try_number=try_number if retrying else 0,
        )
        if row is not None:
            tried.append(attempt(platform, row, redactor))
    return tried


def attempt(platform: Platform, row: NotificationRow, redactor: Redactor) -> NotificationRow:
    """Try one delivery now and record how it went (never raises for the delivery's own failure)."""
    error: str | None = None
    try:
        get_sender(Channel(row.channel))(outgoing(platform, row, redactor))
    except Exception as exc:  # any failure of the channel: recorded and tried again, never the run's
        error = redactor.text(f"{type(exc).__name__}: {exc}")
        log.warning("notification %s of run %s (%s) not delivered: %s", row.id, row.run_id, row.channel, error)
    return deliveries.record_attempt(platform.db, row.id, error, platform.settings.notify_max_attempts)


def outgoing(platform: Platform, row: NotificationRow, redactor: Redactor) -> Outgoing:
    """What a delivery sends, built from the run's row (and, for an email, its published HTML report)."""
    run = platform.db.run_row(row.run_id)
    if run is None:
        raise NbreportsError(f"run {row.run_id!r} is not in the platform database")
    with Session(platform.db.engine) as s:
        title = s.scalar(select(ReportRow.title).where(ReportRow.name == run.report)) or run.report
    label = "retry" if row.event == NotifyEvent.RETRY else None
    message = build_message(
        run, title, platform.settings.base_url, redactor, label=label, error=row.options.get("error")
    )
    payload: dict[str, Any] = {"event": row.event, "title": message.subject, **message.fields}
    channel = Channel(row.channel)
    if channel is not Channel.EMAIL:
        return Outgoing(channel, row.conn_id, [], message, payload=payload)
    return _email(platform, row, run, message, payload)


def _email(
    platform: Platform, row: NotificationRow, run: RunRow, message: Message, payload: dict[str, Any]
) -> Outgoing:
    """An email carries the HTML report inline or attached up to the size limit; beyond it, a link."""
    mode = ReportDelivery(row.options.get("report", ReportDelivery.ATTACH))
    html: bytes | None = None
    if mode is not ReportDelivery.LINK and run.html_uri:
        try:
            html = platform.store.read_bytes(Store.run_key(run.report, run.cache_hit_of or run.run_id, "report.html"))
        except StoreError as exc:
            log.warning("the HTML report of run %s is not attached: %s", run.run_id, exc)
    limit = platform.settings.notify_attach_max_bytes
    note = ""
    if html is not None and len(html) > limit:
        note = f"<p>The report ({len(html):,} bytes) is over the {limit:,}-byte limit of an email: open it online.</p>"
        html = None
    link = f'<p><a href="{run_link(platform.settings.base_url, run)}">Open the run in Airflow</a></p>'
    summary = (message.html_body or "") + link + note
    attachment = None
    if html is not None and mode is ReportDelivery.INLINE:
        summary = _inline(summary, html.decode("utf-8", "replace"))
    elif html is not None:
        attachment = (f"{run.report}-{run.run_id}.html", html)
    email = Message(subject=message.subject, body=message.body, html_body=summary, fields=message.fields)
    return Outgoing(Channel.EMAIL, row.conn_id, list(row.recipients), email, payload=payload, attachment=attachment)


def _inline(summary: str, report_html: str) -> str:
    """The report's own page with the summary at the top of its body."""
    start = report_html.find("<body")
    end = report_html.find(">", start) if start >= 0 else -1
    if end < 0:
        return summary + report_html
    return report_html[: end + 1] + summary + "<hr>" + report_html[end + 1 :]


def retry_due(platform: Platform, redactor_for: Any = None) -> dict[str, int]:
    """Try every delivery that is due again (the ``nbreports_reconcile`` DAG); counts by outcome.

    ``redactor_for(report)`` gives each report's redactor (the adapter adds its connections' values);
    by default the platform's own secrets.
    """
    counts = {str(s): 0 for s in deliveries.DeliveryStatus}
    for row in deliveries.due(platform.db):
        redactor = redactor_for(row.report) if redactor_for else Redactor(platform.secrets)
        counts[attempt(platform, row, redactor).status] += 1
    return counts
