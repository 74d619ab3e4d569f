"""E-mail from workflows to a tenant's administrators, exactly once per run and recipient.

Each message is an outbox `identity.mail_requested` event (the outbox mailer sends it) whose id
is derived from the workflow run's id and the recipient: an activity retried after a crash
finds the message it already wrote and writes nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import service as identity
from bizosaas.identity.events import MAIL_REQUESTED, MailRequested
from bizosaas.identity.schemas import MemberRead
from bizosaas.kit.outbox import OutboxEvent, record_event
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import TenantScope

_MESSAGE_IDS = uuid.UUID("5b0d7c4e-6f1a-4c55-9a52-0b8e0f6c1d11")
"""Namespace of the messages' deterministic ids."""


async def mail_tenant_admins(
    session: AsyncSession,
    *,
    scope: TenantScope,
    origin: str,
    subject: str,
    body: Callable[[MemberRead], str],
) -> list[str]:
    """Write one message to each administrator of the tenant (once per `origin`, the workflow
    id of the run that sends it); return the addresses."""
    sent = []
    for member in await identity.list_members(session, scope=scope):
        if member.role != Role.tenant_admin:
            continue
        message_id = uuid.uuid5(_MESSAGE_IDS, f"{origin}:{member.user_id}")
        sent.append(member.email)
        if await session.get(OutboxEvent, message_id) is not None:
            continue  # written by an earlier attempt
        row = record_event(
            session,
            MAIL_REQUESTED,
            MailRequested(to=member.email, subject=subject, body=body(member)),
        )
        row.id = message_id
    return sent
