"""Subscriptions to a report's notifications, and what a run's JSON says of its notifications.

``GET/PUT/DELETE /api/reports/{r}/subscription`` need *view* of the report (the rules with
``subscribers: true`` write to its subscribers, and ``nbreports.notify.dispatch`` asks again, with
the roles stored here, whether each may still view it). The address is the body's ``email``, else
the Airflow account's own (FAB users have one; the simple auth manager's have none): without
either, or with one that is no address, the answer is 400 naming ``email`` and nothing is stored.
PUT and DELETE are writes: with the session cookie they need ``X-Requested-With: nbreports``
(``access.report_access(..., write=...)``, as ``writes.py``), and each is in the audit log
(``subscribe`` / ``unsubscribe``: done, denied, invalid) without the address, which is personal.

A run's deliveries (``deliveries``, on the one-run JSON of ``api.py``) are shown to whoever may view
the report, with one rule for the personal parts: the recipients' addresses only to those who may
*change* it; everyone else gets their number (``"recipients": 3``) and the delivery's last error
with each of those addresses replaced by ``<recipient>`` (an SMTP refusal names the address).
The rule's options (the run's redacted error, the report's attachment mode) are not shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict

from nbreports.access import audit
from nbreports.access.policy import Action
from nbreports.errors import SpecError
from nbreports.notify import deliveries, subscriptions
from nbreports.storage.database import PlatformDB
from nbreports_ui.access import ReportAccess, ViewReport, report_access
from nbreports_ui.services import platform

router = APIRouter(prefix="/api", tags=["nbreports notifications"])

SubscribeAccess = Annotated[ReportAccess, report_access(Action.VIEW, write="subscribe")]
UnsubscribeAccess = Annotated[ReportAccess, report_access(Action.VIEW, write="unsubscribe")]
SHOWN = (
    "id", "event", "channel", "conn_id", "recipients", "status", "attempts", "last_error",
    "created_at", "sent_at", "next_attempt_at",
)  # fmt: skip
HIDDEN_ADDRESS = "<recipient>"


class SubscriptionBody(BaseModel):
    """The optional body of a subscription: the address to write to (else the account's own)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = None


class Subscription(BaseModel):
    subscribed: bool
    email: str | None


def _own(access: ReportAccess) -> str | None:
    """The user's subscription address, or None when not subscribed."""
    return subscriptions.subscription(platform().db, access.report, access.principal.name)


def _audit(access: ReportAccess, action: str, outcome: audit.Outcome, details: dict[str, Any]) -> None:
    audit.record(
        platform().db, actor=access.principal.name, action=action, outcome=outcome,
        report=access.report, details=details, origin=access.origin,
    )  # fmt: skip


def _refuse(access: ReportAccess, problem: str, why: str) -> HTTPException:
    """400 naming ``email`` and the ``problem``; audited as invalid with ``why`` (which names no address)."""
    _audit(access, "subscribe", audit.Outcome.INVALID, {"field": "email", "error": why})
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(SpecError("subscription", "email", problem)))


@router.get("/reports/{report}/subscription", response_model=Subscription, summary="Am I subscribed (needs view)")
def get_subscription(access: ViewReport) -> Subscription:
    email = _own(access)
    return Subscription(subscribed=email is not None, email=email)


@router.put("/reports/{report}/subscription", response_model=Subscription, summary="Subscribe (needs view)")
def subscribe(access: SubscribeAccess, body: SubscriptionBody | None = None) -> Subscription:
    given = (body.email.strip() or None) if body and body.email is not None else None  # blank: the account's
    email = given if given is not None else getattr(access.user, "email", None)
    if not email:
        problem = 'is required: your Airflow account has no address; send {"email": "you@example.com"}'
        raise _refuse(access, problem, "no address")
    try:
        # cut only what is no address anyway (254 characters at most), so a refusal does not echo megabytes
        subscriptions.subscribe(platform().db, access.report, access.principal, str(email)[:400])
    except ValueError as exc:  # names the address and why it is none
        raise _refuse(access, str(exc), "not an email address") from None
    details = {"address": "given" if given is not None else "account", "roles": sorted(access.principal.roles)}
    _audit(access, "subscribe", audit.Outcome.DONE, details)
    return Subscription(subscribed=True, email=str(email))


@router.delete("/reports/{report}/subscription", response_model=Subscription, summary="Unsubscribe (needs view)")
def unsubscribe(access: UnsubscribeAccess) -> Subscription:
    was = subscriptions.unsubscribe(platform().db, access.report, access.principal.name)
    _audit(access, "unsubscribe", audit.Outcome.DONE, {"was_subscribed": was})
    return Subscription(subscribed=False, email=None)


def _masked(text: str | None, addresses: list[str]) -> str | None:
    for address in sorted(addresses, key=len, reverse=True):  # a longer address may contain a shorter one
        text = text and text.replace(address, HIDDEN_ADDRESS)
    return text


def run_notifications(db: PlatformDB, access: ReportAccess, run_id: str) -> list[dict[str, Any]]:
    """A run's deliveries, oldest first, for the one-run JSON: addresses only for those who may change."""
    private = Action.CHANGE in access.allowed
    shown = []
    for row in deliveries.for_run(db, run_id):
        item = {key: row.get(key) for key in SHOWN}
        if not private:
            addresses = list(row.get("recipients") or [])
            item["recipients"] = len(addresses)
            item["last_error"] = _masked(item["last_error"], addresses)
        shown.append(item)
    return shown
