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
# deliberately simple: one @, no spaces or angle brackets, a dotted domain (the SMTP server has the last word)
EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
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

    @field_validator("conn_id")
    @classmethod
    def _safe_conn_id(cls, value: str) -> str:
        if not CONN_ID.fullmatch(value):
            raise ValueError(f"{value!r} is not an Airflow connection id (letters, digits, '_', '.', '-')")
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL.fullmatch(address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _someone_is_told(self) -> NotifyRule:
        if self.to and self.channel is not Channel.EMAIL:
            raise ValueError(f"'to' addresses need channel email, not {self.channel.value}")
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
