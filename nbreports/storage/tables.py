"""The platform database's tables: reports, versions, runs, the audit log, notifications, search (ORM rows).

The schema is created and changed only by the Alembic migrations in ``storage/migrations``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, in UTC (every timestamp of the platform is)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The platform's tables; every row reads as a plain dict with ``to_dict``."""

    def to_dict(self) -> dict[str, Any]:
        """The row's columns by name."""
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class ReportRow(Base):
    """A report as its latest prepared run recorded it: title, owner, team, spec and parameters."""

    __tablename__ = "reports"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotebookVersionRow(Base):
    """A notebook version of a report, once per content, with its first provenance."""

    __tablename__ = "notebook_versions"
    __table_args__ = (UniqueConstraint("report", "sha256", name="uq_version_report_sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report: Mapped[str] = mapped_column(String(63), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    kernel: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(50))  # run, cli, airflow, git, upload, jupyter, restore
    author: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(Text)  # git commit, uploaded file, Jupyter path
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunRow(Base):
    """One run of a report: what ran, how and where, how it ended, and what it published."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_report_started", "report", "started_at"),
        Index("ix_runs_report_cache_key", "report", "cache_key"),
        # for the UI's history pages (migration 0003)
        Index("ix_runs_report_started_run", "report", "started_at", "run_id"),
        Index("ix_runs_report_status_started", "report", "status", "started_at"),
        Index("ix_runs_report_dag_run", "report", "dag_run_id"),
        Index("ix_runs_report_version_started", "report", "notebook_version", "started_at"),
        Index("ix_runs_status_heartbeat", "status", "heartbeat_at"),  # migration 0005: finding lost runs
    )

    run_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    report: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(20))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    notebook_version: Mapped[str] = mapped_column(String(64))
    executor: Mapped[str] = mapped_column(String(20))
    kernel: Mapped[str | None] = mapped_column(String(100))
    dag_id: Mapped[str | None] = mapped_column(String(250))
    dag_run_id: Mapped[str | None] = mapped_column(String(250))
    triggered_by: Mapped[str | None] = mapped_column(String(250))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float | None] = mapped_column(Float)
    input_uri: Mapped[str | None] = mapped_column(Text)
    output_uri: Mapped[str | None] = mapped_column(Text)
    html_uri: Mapped[str | None] = mapped_column(Text)
    scraps: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    failed_cell: Mapped[int | None] = mapped_column(Integer)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    cache_hit_of: Mapped[str | None] = mapped_column(String(128))  # the run whose outputs this one reuses
    profile: Mapped[str | None] = mapped_column(String(50))
    image: Mapped[str | None] = mapped_column(Text)
    image_digest: Mapped[str | None] = mapped_column(String(100))
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # e.g. query cache hits, misses, bytes
    # liveness, attempts, lineage (migration 0005)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # written while executing
    host: Mapped[str | None] = mapped_column(String(255))  # the worker that last prepared or executed it
    pid: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int | None] = mapped_column(Integer)  # the Airflow try that executed it
    airflow_task: Mapped[str | None] = mapped_column(String(500))  # dag/run/task/map index that prepared it
    failure_kind: Mapped[str | None] = mapped_column(String(30))  # a FailureKind, e.g. lost
    bundle: Mapped[str | None] = mapped_column(String(64))  # sha256 of the report folder's files it used
    upstream_runs: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # upstream report -> the run that triggered


class AuditRow(Base):
    """One write to a report (or one refused attempt): who, what, which report, when, from where.

    Append-only; ``nbreports.access.audit`` writes and reads it (migration 0004).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_report_id", "report", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))  # upload, restore, edit-access
    outcome: Mapped[str] = mapped_column(String(20))  # done, denied, invalid
    report: Mapped[str | None] = mapped_column(String(63))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    client: Mapped[str | None] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(500))


class NotificationRow(Base):
    """One delivery of a notification: a run's event, one rule of its spec, its recipients, how it went.

    One row per (run, event, rule, try), so a publish that is retried never sends twice; a failed
    delivery is tried again at ``next_attempt_at`` (``nbreports.notify.deliveries``, migration 0006).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("run_id", "event", "rule", "try_number", name="uq_notification_run_event_rule"),
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(128), index=True)
    report: Mapped[str] = mapped_column(String(63))
    event: Mapped[str] = mapped_column(String(20))  # a NotifyEvent
    rule: Mapped[int] = mapped_column(Integer)  # the rule's index in the spec's notify list
    try_number: Mapped[int] = mapped_column(Integer, default=0)  # the Airflow try a retry event is of; else 0
    channel: Mapped[str] = mapped_column(String(20))  # a Channel
    conn_id: Mapped[str] = mapped_column(String(250))
    recipients: Mapped[list[str]] = mapped_column(JSON)  # email addresses; empty for Slack and webhooks
    options: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the rule says of the content, e.g. report: attach
    status: Mapped[str] = mapped_column(String(20))  # a DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubscriptionRow(Base):
    """A person who asked to be told of a report's runs (rules with ``subscribers: true``), migration 0006."""

    __tablename__ = "subscriptions"

    report: Mapped[str] = mapped_column(String(63), primary_key=True)
    username: Mapped[str] = mapped_column(String(250), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    roles: Mapped[list[str]] = mapped_column(JSON)  # their Airflow roles when they last subscribed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchDocumentRow(Base):
    """One searchable piece of a report (``nbreports.search``, migration 0007): a cell, a run's part, the report.

    ``scope`` says whose: ``v`` for a report's notebook cells (one row per distinct cell content,
    with the newest and first versions holding it), a run id for a run's parameters, scraps,
    outputs and error, ``r`` for the report's own description. ``terms`` is the text as the index's
    words; the full-text index over it and ``facets`` is the backend's (FTS5 table or a generated
    ``tsvector``), so ``kind:`` and ``status:`` narrow the match inside the index.
    """

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("report", "scope", "key", name="uq_search_document"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    report: Mapped[str] = mapped_column(String(63))
    scope: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # a search Kind
    version: Mapped[str | None] = mapped_column(String(64))  # a cell: the newest version holding it
    first_version: Mapped[str | None] = mapped_column(String(64))  # a cell: the first version holding it
    versions: Mapped[int | None] = mapped_column(Integer)  # a cell: how many versions hold it
    run_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(20))  # a run's status
    cell: Mapped[int | None] = mapped_column(Integer)  # the cell's index (in ``version``, or the run's notebook)
    cell_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))  # a scrap's name
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # a cell: last seen; a run: started
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # a cell: first seen
    body: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    facets: Mapped[str] = mapped_column(String(100))  # "kind:code status:failed", in the full-text index too


class SearchSourceRow(Base):
    """A version, run or report as the search index has it: indexed, or failed and when to try again."""

    __tablename__ = "search_sources"
    __table_args__ = (Index("ix_search_sources_status_next", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # version, run, report
    report: Mapped[str] = mapped_column(String(63), primary_key=True)
    ref: Mapped[str] = mapped_column(String(128), primary_key=True)  # a version's sha256, a run id, '' for a report
    status: Mapped[str] = mapped_column(String(10))  # indexed, failed, given-up
    documents: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
