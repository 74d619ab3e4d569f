"""One login attempt under the throttle, shared by the password step and the two-factor step:
who is trying (with the device cookie's proof), the check before any secret is verified, and
what a failure or a success leaves behind (counters, audit, the owner's alert, the renewed
device cookie).

A failure does the same work in the request whether or not the account exists: the same
throttle bookkeeping (the counters are keyed by the address typed, account or not), one
`identity.login_failed` event and one commit. What only a real account has, its audit record
and its owner's alert, is written by `audit_failure`, identity's handler of that event, after
the answer; for an unknown address the handler only logs the attempt, creating no row. So
neither the answer nor its timing tells a guesser which addresses have accounts
(bench/login_timing.py prints both).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import device_cookies
from bizosaas.identity.credentials.device_cookies import LoginDevice
from bizosaas.identity.credentials.throttle import LoginAttempt
from bizosaas.identity.events import LOGIN_FAILED, AuditAction, LoginFailed
from bizosaas.identity.models import User
from bizosaas.identity.records import audit, mail
from bizosaas.identity.repository import accounts
from bizosaas.identity.sessions.rotation import commit_before_failing
from bizosaas.kit.events import Event
from bizosaas.kit.module import Services
from bizosaas.kit.outbox import record_event
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

NOBODY = uuid.UUID(int=0)
"""Stands in for the user of an unknown address, so its failure runs the same queries."""


@dataclass(frozen=True, slots=True)
class Attempt:
    throttled: LoginAttempt
    trusted: bool
    """The attempt carries a valid device cookie of this account that has not failed too often:
    the account's and the address's delays do not apply to it."""


async def begin(
    identity: IdentityContext,
    *,
    user: User | None,
    email: str,
    ip: str | None,
    device: LoginDevice | None,
) -> Attempt:
    """Identify the attempt and refuse it with `LoginThrottled` while it must wait. Call before
    verifying any password or code."""
    device_id = None
    if device is not None:
        # Opened for an unknown address too (no cookie names NOBODY), so both cost the same.
        device_id = device_cookies.device_for(
            identity.data_keys,
            device.presented,
            user_id=user.id if user else NOBODY,
            now=identity.throttle.now(),
            ttl=identity.settings.login_device_cookie_ttl,
        )
    attempt = Attempt(
        throttled=LoginAttempt(email=email, ip=ip, device_id=device_id),
        trusted=await identity.throttle.device_trusted(device_id),
    )
    await identity.throttle.check(attempt.throttled, trusted=attempt.trusted)
    return attempt


async def failed(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    attempt: Attempt,
    user: User | None,
    tried: str,
    tenant_slug: str | None,
    reason: str,
) -> None:
    """Count the failure, record `identity.login_failed` (whose handler audits it and alerts
    the owner when their account starts being held back) and commit: the request fails, but
    these records must stay. `tried` is the refused password or code (only its keyed digest is
    kept, so an address counts distinct failures)."""
    fingerprint = identity.data_keys.fingerprint(
        f"{attempt.throttled.email}\0{tried}".encode(), purpose=b"login-failure"
    )
    alert = await identity.throttle.failed(
        attempt.throttled, trusted=attempt.trusted, fingerprint=fingerprint
    )
    record_event(
        session,
        LOGIN_FAILED,
        LoginFailed(
            user_id=user.id if user else None,
            ip=attempt.throttled.ip,
            reason=reason,
            tenant=(tenant_slug or "").strip().lower() or None,
            alert=alert,
        ),
    )
    await commit_before_failing(session)


async def audit_failure(event: Event, services: Services) -> None:
    """Identity's handler of `identity.login_failed`: audit a known account's failure in the
    tenant it aimed at (or the user's latest) and send the owner's alert when the failure asked
    for one. An unknown address is only logged. The records' ids derive from the event's, so
    the event handled twice (in every process, or after a retry) leaves one of each."""
    failure = LoginFailed.model_validate(event.payload)
    if failure.user_id is None:
        log.info("login_failed_unknown_address", ip=failure.ip, reason=failure.reason)
        return
    identity = context.of(services)
    try:
        async with services.database.unit_of_work() as session:
            user = await accounts.user_by_id(session, user_id=failure.user_id)
            if user is None:
                return
            if failure.alert and user.is_active:
                # Before the audit binds the session to a tenant: the alert is platform mail.
                _alert_owner(
                    session,
                    settings=identity.settings,
                    free_failures=identity.throttle.policy.free_per_account,
                    user=user,
                    ip=failure.ip,
                    event_id=uuid.uuid5(event.id, "alert"),
                )
            rows = await accounts.memberships_of(session, user_id=user.id)
            wanted = failure.tenant or ""
            target = next((t for _m, t in rows if t.slug == wanted), rows[0][1] if rows else None)
            if target is not None:
                await audit.record(
                    session,
                    tenant_id=target.id,
                    action=AuditAction.login_failed,
                    actor_id=user.id,
                    ip=failure.ip,
                    details={"reason": failure.reason},
                    record_id=uuid.uuid5(event.id, "audit"),
                )
    except IntegrityError:
        log.info("login_failure_already_audited", event_id=str(event.id))


async def succeeded(
    identity: IdentityContext, *, attempt: Attempt, user: User, device: LoginDevice | None
) -> None:
    """Forget the failures the login answers (see `LoginThrottle.succeeded`) and hand the
    device a renewed cookie for this account."""
    await identity.throttle.succeeded(attempt.throttled, trusted=attempt.trusted)
    if device is not None:
        device.renewed = device_cookies.renewed(
            identity.data_keys,
            device.presented,
            user_id=user.id,
            device_id=attempt.throttled.device_id,
            now=identity.throttle.now(),
            ttl=identity.settings.login_device_cookie_ttl,
        )


def _alert_owner(
    session: AsyncSession,
    *,
    settings: Settings,
    free_failures: int,
    user: User,
    ip: str | None,
    event_id: uuid.UUID,
) -> None:
    mail.request_mail(
        session,
        to=user.email,
        subject="Repeated failed sign-ins to your BizOSaaS account",
        body=(
            f"Hello,\n\nthere have been {free_failures} or more failed attempts to "
            f"sign in to your BizOSaaS account ({user.email}), the latest from the address "
            f"{ip or 'unknown'}.\n\n"
            "Sign-ins from new devices now have to wait a little between attempts. You can "
            "still sign in as usual from a browser you have used before.\n\n"
            "If this was you, there is nothing to do. If it was not, your password was not "
            "accepted; consider changing it and turning on two-factor authentication in your "
            f"account settings: {settings.base_url}/app/security\n\n"
            "You will not get another message like this until the attempts stop.\n"
        ),
        event_id=event_id,
    )
