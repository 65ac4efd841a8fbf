"""The ``notify:`` section of ``report.yaml``: who is told what, on which event, through which channel.

Strict like the rest of the spec (unknown keys refused) so a typo never silently sends nothing.
A scrap condition is data (scrap, operator, value), never evaluated code. Whether the notebook
glues the scrap a rule names is checked by the caller that knows the notebook, not here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from nbreports.reports.validation import spec_error

CONN_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")  # what Airflow accepts as a conn_id
SCRAP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")


class NotifyEvent(StrEnum):
    """What happened to a run that a rule can react to."""

    SUCCESS = "success"
    FAILURE = "failure"
    RECOVERED = "recovered"  # the first success after one or more failures
    RETRY = "retry"


class Channel(StrEnum):
    """How a notification is delivered (each through an Airflow connection)."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


class ReportDelivery(StrEnum):
    """How an email carries the published HTML report (beyond the size limit, always as a link)."""

    ATTACH = "attach"
    INLINE = "inline"
    LINK = "link"


def check_address(address: str) -> str:
    """``address`` if it is an email address (syntax only: the SMTP server has the last word), else ValueError.

    Internal domains (``.internal``, a single label) and ``.test`` are accepted; ``.local`` and
    ``localhost``, which email_validator reserves, are not.
    """
    from email_validator import EmailNotValidError, validate_email  # here: every kernel imports this module

    try:
        validate_email(address, check_deliverability=False, globally_deliverable=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not an email address: {exc}") from None
    return address


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScrapCondition(_Strict):
    """``{scrap: anomalies, op: ">", value: 0}``: holds when the run's scrap compares so with ``value``."""

    scrap: str = Field(pattern=SCRAP_NAME.pattern, description="Name of a scrap the notebook glues.")
    op: Literal["==", "!=", ">", ">=", "<", "<="] = Field(description="Comparison of the scrap with value.")
    value: float | int | str | bool = Field(description="What the scrap is compared with.")


class NotifyRule(_Strict):
    """One rule: on these events (and if the condition holds), tell these recipients through this channel."""

    on: list[NotifyEvent] = Field(min_length=1, description="Events that fire the rule.")
    when: ScrapCondition | None = Field(default=None, description="Fire only if this scrap condition holds.")
    channel: Channel
    conn_id: str = Field(description="Airflow connection the channel sends through.")
    to: list[str] = Field(default_factory=list, description="Email addresses (email channel).")
    teams: list[str] = Field(default_factory=list, description="Teams whose members are told.")
    subscribers: bool = Field(default=False, strict=True, description="Also tell the report's subscribers.")
    report: ReportDelivery = Field(
        default=ReportDelivery.ATTACH, description="How an email carries the HTML report: attach, inline or link."
    )

    @field_validator("conn_id")
    @classmethod
    def _safe_conn_id(cls, value: str) -> str:
        if not CONN_ID.fullmatch(value):
            raise ValueError(f"{value!r} is not an Airflow connection id (letters, digits, '_', '.', '-')")
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [check_address(address) for address in value]

    @model_validator(mode="after")
    def _someone_is_told(self) -> NotifyRule:
        named = [k for k in ("to", "teams", "subscribers") if getattr(self, k)]
        if named and self.channel is not Channel.EMAIL:
            raise ValueError(
                f"{', '.join(repr(k) for k in named)} name email recipients: a {self.channel.value} rule posts to "
                "the destination its connection names; use channel email"
            )
        if self.channel is Channel.EMAIL and not (self.to or self.teams or self.subscribers):
            raise ValueError("an email rule needs recipients: 'to', 'teams' or 'subscribers: true'")
        return self


_RULES: TypeAdapter[list[NotifyRule]] = TypeAdapter(list[NotifyRule])


def parse_notify(data: Any, file: str) -> list[NotifyRule]:
    """Validate a ``notify:`` list on its own; errors name ``file`` and the field (``notify.0.to``)."""
    try:
        return _RULES.validate_python(data if data is not None else [])
    except ValidationError as exc:
        raise spec_error(exc, file, NotifyRule, prefix=("notify",)) from exc
