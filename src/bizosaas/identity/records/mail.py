"""The outbox-backed mailer and the local mail sink.

`request_mail` records an `identity.mail_requested` event in the caller's transaction, so a
message is sent only if the change that asked for it commits. The `deliver` handler receives
each event from the bus: with `BIZOSAAS_SMTP_HOST` set it sends through SMTP (in a thread),
otherwise it stores the message in `mail_messages`, the mail sink platform administrators read
(so invitations, resets and verifications work with no mail server). Either way it first claims
the event id in `mail_messages` (unique), so an event delivered twice sends once.
"""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import Sequence
from email.message import EmailMessage

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import runtime
from bizosaas.identity.events import MAIL_REQUESTED, MailRequested
from bizosaas.identity.exceptions import MailNotFound
from bizosaas.identity.models import MailMessage
from bizosaas.kit.events import Event
from bizosaas.kit.outbox import record_event
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)


def request_mail(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    tenant_id: uuid.UUID | None = None,
) -> None:
    record_event(
        session,
        MAIL_REQUESTED,
        MailRequested(to=to, subject=subject, body=body),
        tenant_id=tenant_id,
    )


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


async def deliver(event: Event) -> None:
    """Bus handler for `identity.mail_requested` (idempotent by event id). A failure is logged
    with the event id, so the message can be replayed from the outbox."""
    try:
        await _deliver(event)
    except Exception:
        log.exception("mail_delivery_failed", event_id=str(event.id))


async def _deliver(event: Event) -> None:
    identity = runtime.current()
    if identity.database is None:
        return
    settings = identity.settings
    payload = event.payload
    transport = "smtp" if settings.smtp_host else "sink"
    try:
        async with identity.database.unit_of_work() as session:
            session.add(
                MailMessage(
                    event_id=event.id,
                    tenant_id=event.tenant_id,
                    to_address=str(payload["to"]),
                    subject=str(payload["subject"]),
                    body=str(payload["body"]),
                    transport=transport,
                    status="sending" if transport == "smtp" else "stored",
                )
            )
    except IntegrityError:
        return  # this event was delivered (or is being delivered) already
    if transport == "sink":
        return
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = str(payload["to"])
    message["Subject"] = str(payload["subject"])
    message.set_content(str(payload["body"]))
    status = "sent"
    try:
        await asyncio.to_thread(_send_smtp, settings, message)
    except (OSError, smtplib.SMTPException):
        status = "failed"
        log.exception("mail_delivery_failed", event_id=str(event.id))
    async with identity.database.unit_of_work() as session:
        row = await session.scalar(select(MailMessage).where(MailMessage.event_id == event.id))
        if row is not None:
            row.status = status


async def list_messages(
    session: AsyncSession, *, to: str | None = None, limit: int = 100
) -> Sequence[MailMessage]:
    query = select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    if to:
        query = query.where(MailMessage.to_address == to.strip().lower())
    return (await session.scalars(query.limit(limit))).all()


async def get_message(session: AsyncSession, *, message_id: uuid.UUID) -> MailMessage:
    message = await session.get(MailMessage, message_id)
    if message is None:
        raise MailNotFound()
    return message
