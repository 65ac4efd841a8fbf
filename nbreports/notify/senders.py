"""A registry of senders, one per channel; the Airflow adapter (``operators/notify.py``) fills it.

The core decides what is sent to whom and records how it went; a sender only delivers one
``Outgoing`` through the Airflow connection it names, raising on failure. Keeping the senders
behind this seam keeps the core free of Airflow, and lets unit tests register a fake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nbreports.errors import NotifyError
from nbreports.notify.message import Message
from nbreports.notify.spec import Channel


@dataclass(frozen=True)
class Outgoing:
    """One notification to deliver: where, to whom, what (and the HTML report an email carries)."""

    channel: Channel
    conn_id: str
    recipients: list[str]
    message: Message
    payload: dict[str, Any] = field(default_factory=dict)  # the JSON a webhook receives
    attachment: tuple[str, bytes] | None = None  # (file name, content) of an email's attached report


Sender = Callable[[Outgoing], None]
_SENDERS: dict[Channel, Sender] = {}


def register_sender(channel: Channel, sender: Sender) -> None:
    """Make ``sender`` deliver every notification of ``channel`` (the last registered wins)."""
    _SENDERS[channel] = sender


def get_sender(channel: Channel) -> Sender:
    """The sender of ``channel``; ``NotifyError`` when none is registered (no Airflow in this process)."""
    try:
        return _SENDERS[channel]
    except KeyError:
        raise NotifyError(
            f"no sender for channel {channel.value!r} in this process: notifications are sent from Airflow tasks"
        ) from None
