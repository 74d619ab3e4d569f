"""Passwords and e-mail verification: change, reset by e-mailed link, verify the address."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import one_time_tokens
from bizosaas.identity.credentials.passwords import check_password_policy
from bizosaas.identity.events import PASSWORD_RESET_REQUESTED, AuditAction, PasswordResetRequested
from bizosaas.identity.exceptions import InvalidCredentials, MailThrottled, UserNotFound
from bizosaas.identity.models import OneTimePurpose, User
from bizosaas.identity.records import audit
from bizosaas.identity.repository import accounts
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.db import utcnow
from bizosaas.kit.events import Event
from bizosaas.kit.module import Services
from bizosaas.kit.outbox import record_event

log = structlog.get_logger(__name__)


async def _audit_everywhere(
    session: AsyncSession, user: User, action: AuditAction, ip: str | None
) -> None:
    """Record in the user's most recently used tenant (one session serves one tenant)."""
    rows = await accounts.memberships_of(session, user_id=user.id)
    if rows:
        await audit.record(session, tenant_id=rows[0][1].id, action=action, actor_id=user.id, ip=ip)


async def _set_password(identity: IdentityContext, user: User, new_password: str) -> None:
    password = check_password_policy(
        new_password, min_length=identity.settings.password_min_length, email=user.email
    )
    user.password_hash = await identity.passwords.hash(password)
    user.password_changed_at = utcnow()


async def change_password(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    current_password: str,
    new_password: str,
    ip: str | None = None,
) -> int:
    """Change the password; every other session of the user ends. Returns how many ended."""
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    valid, _ = await identity.passwords.verify(current_password, user.password_hash)
    if not valid:
        raise InvalidCredentials("The current password is wrong.")
    await _set_password(identity, user, new_password)
    ended = await revoke_sessions(
        session,
        identity=identity,
        user_id=user.id,
        except_session_id=session_id,
        reason="password_changed",
    )
    await _audit_everywhere(session, user, AuditAction.password_changed, ip)
    return ended


_RESET_SEALED_FOR = b"identity.password_reset_requested"


async def request_password_reset(
    session: AsyncSession, *, identity: IdentityContext, email: str, ip: str | None = None
) -> None:
    """Ask for a reset link: within the address's mail budget, record the request (the address
    sealed) as `identity.password_reset_requested`; `send_reset_link` mails the link after the
    answer if the address has an active account. The request does the same work either way
    (it does not even look the address up), so the caller answers the same, in the same time.
    """
    email = accounts.normalise_email(email)
    if not await identity.throttle.allow_mail(email=email):
        return  # earlier links are still valid; the answer stays the same
    sealed = identity.data_keys.encrypt(email, associated_data=_RESET_SEALED_FOR)
    record_event(session, PASSWORD_RESET_REQUESTED, PasswordResetRequested(sealed=sealed))


async def send_reset_link(event: Event, services: Services) -> None:
    """Identity's handler of `identity.password_reset_requested`. The mail's id derives from
    the event's, so the event handled twice (every process hears the bus) mails once: the
    second transaction fails on that id and leaves the first link valid."""
    identity = context.of(services)
    sealed = PasswordResetRequested.model_validate(event.payload).sealed
    email = identity.data_keys.decrypt(sealed, associated_data=_RESET_SEALED_FOR)
    try:
        async with services.database.unit_of_work() as session:
            user = await accounts.user_by_email(session, email=email)
            if user is None or not user.is_active:
                return
            await one_time_tokens.send_password_reset(
                session,
                settings=identity.settings,
                user=user,
                event_id=uuid.uuid5(event.id, "mail"),
            )
    except IntegrityError:
        log.info("password_reset_already_handled", event_id=str(event.id))


async def confirm_password_reset(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    token: str,
    new_password: str,
    ip: str | None = None,
) -> None:
    """Set a new password with a reset token; every session of the user ends."""
    user = await one_time_tokens.consume(
        session, token=token, purpose=OneTimePurpose.password_reset
    )
    await _set_password(identity, user, new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the link reached the mailbox
    await revoke_sessions(session, identity=identity, user_id=user.id, reason="password_reset")
    await _audit_everywhere(session, user, AuditAction.password_reset, ip)


async def request_email_verification(
    session: AsyncSession, *, identity: IdentityContext, user_id: uuid.UUID
) -> bool:
    """Send a new verification link; False when the address is already verified."""
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    if user.email_verified_at is not None:
        return False
    if not await identity.throttle.allow_mail(email=user.email):
        raise MailThrottled("A link was sent a moment ago; check your inbox or try later.")
    await one_time_tokens.send_verification(session, settings=identity.settings, user=user)
    return True


async def verify_email(session: AsyncSession, *, token: str) -> User:
    user = await one_time_tokens.consume(
        session, token=token, purpose=OneTimePurpose.email_verification
    )
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        await _audit_everywhere(session, user, AuditAction.email_verified, None)
    return user
