"""The outbox-backed mailer and the local mail sink.

`request_mail` records an `identity.mail_requested` event in the caller's transaction, so a
message is sent only if the change that asked for it commits. A `Mailer` receives each event
from the bus: with `BIZOSAAS_SMTP_HOST` set it sends through SMTP (in a thread), otherwise it
stores the message in `mail_messages`, the mail sink platform administrators read (so
invitations, resets and verifications work with no mail server). Either way it first claims
the event id in `mail_messages` (unique), so an event delivered twice sends once.

The module declares `deliver` as its handler; the platform calls it with the event and the
process's `Services`, whose settings and database make the `Mailer`. Code that delivers mail
itself (tests, a tool) builds a `Mailer` and subscribes its `deliver`.
"""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import Sequence
from email.message import EmailMessage

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.events import MAIL_REQUESTED, MailRequested
from bizosaas.identity.exceptions import MailNotFound
from bizosaas.identity.models import MailMessage
from bizosaas.identity.repository import records
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event
from bizosaas.kit.module import Services
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
    event_id: uuid.UUID | None = None,
) -> None:
    """`event_id`, when given, names the mail: an event handler derives it from the event it
    handles, so the same event handled twice (delivery is at-least-once, and every process
    hears the bus) cannot commit a second mail."""
    row = record_event(
        session,
        MAIL_REQUESTED,
        MailRequested(to=to, subject=subject, body=body),
        tenant_id=tenant_id,
    )
    if event_id is not None:
        row.id = event_id


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


class Mailer:
    """Delivers `identity.mail_requested` events through SMTP or into the sink of `database`."""

    def __init__(self, *, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    async def deliver(self, event: Event) -> None:
        """Bus handler (idempotent by event id). A failure is logged with the event id, so the
        message can be replayed from the outbox."""
        try:
            await _deliver(event, settings=self.settings, database=self.database)
        except Exception:
            log.exception("mail_delivery_failed", event_id=str(event.id))


async def _deliver(event: Event, *, settings: Settings, database: Database) -> None:
    payload = event.payload
    transport = "smtp" if settings.smtp_host else "sink"
    try:
        async with database.unit_of_work() as session:
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
    async with database.unit_of_work() as session:
        row = await records.mail_message_by_event(session, event_id=event.id)
        if row is not None:
            row.status = status


async def deliver(event: Event, services: Services) -> None:
    """The handler identity's module declares for `identity.mail_requested`."""
    await Mailer(settings=services.settings, database=services.database).deliver(event)


async def list_messages(
    session: AsyncSession, *, to: str | None = None, limit: int = 100
) -> Sequence[MailMessage]:
    return await records.mail_messages(session, to=to, limit=limit)


async def get_message(session: AsyncSession, *, message_id: uuid.UUID) -> MailMessage:
    message = await records.mail_message_by_id(session, message_id=message_id)
    if message is None:
        raise MailNotFound()
    return message
