"""One login attempt under the throttle, shared by the password step and the two-factor step:
who is trying (with the device cookie's proof), the check before any secret is verified, and
what a failure or a success leaves behind (counters, audit, the owner's alert, the renewed
device cookie).

A failure does the same work whether or not the account exists: one membership query, one
`identity.login_failed` event and one commit (a durable write either way; the audit record
and the alert are the only extra rows), so neither the answer nor its timing tells a guesser
which addresses have accounts (bench/login_timing.py prints both).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import device_cookies
from bizosaas.identity.credentials.device_cookies import LoginDevice
from bizosaas.identity.credentials.throttle import LoginAttempt
from bizosaas.identity.events import LOGIN_FAILED, AuditAction, LoginFailed
from bizosaas.identity.models import User
from bizosaas.identity.records import audit, mail
from bizosaas.identity.repository import accounts
from bizosaas.identity.sessions.rotation import commit_before_failing
from bizosaas.kit.outbox import record_event

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
    if device is not None and user is not None:
        device_id = device_cookies.device_for(
            identity.data_keys,
            device.presented,
            user_id=user.id,
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
    """Count the failure, audit it in the tenant it aimed at (or the user's latest), alert the
    owner when their account starts being held back, and commit: the request fails, but these
    records must stay. `tried` is the refused password or code (only its keyed digest is kept,
    so an address counts distinct failures)."""
    fingerprint = identity.data_keys.fingerprint(
        f"{attempt.throttled.email}\0{tried}".encode(), purpose=b"login-failure"
    )
    alert = await identity.throttle.failed(
        attempt.throttled, trusted=attempt.trusted, fingerprint=fingerprint
    )
    rows = await accounts.memberships_of(session, user_id=user.id if user else NOBODY)
    # Written before the audit binds the session to a tenant, so the event stays platform-level.
    record_event(
        session,
        LOGIN_FAILED,
        LoginFailed(user_id=user.id if user else None, ip=attempt.throttled.ip, reason=reason),
    )
    if user is not None:
        wanted = (tenant_slug or "").strip().lower()
        target = next((t for _m, t in rows if t.slug == wanted), rows[0][1] if rows else None)
        if target is not None:
            await audit.record(
                session,
                tenant_id=target.id,
                action=AuditAction.login_failed,
                actor_id=user.id,
                ip=attempt.throttled.ip,
                details={"reason": reason},
            )
        if alert and user.is_active:
            _alert_owner(session, identity=identity, user=user, ip=attempt.throttled.ip)
    await commit_before_failing(session)


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
    session: AsyncSession, *, identity: IdentityContext, user: User, ip: str | None
) -> None:
    policy = identity.throttle.policy
    mail.request_mail(
        session,
        to=user.email,
        subject="Repeated failed sign-ins to your BizOSaaS account",
        body=(
            f"Hello,\n\nthere have been {policy.free_per_account} or more failed attempts to "
            f"sign in to your BizOSaaS account ({user.email}), the latest from the address "
            f"{ip or 'unknown'}.\n\n"
            "Sign-ins from new devices now have to wait a little between attempts. You can "
            "still sign in as usual from a browser you have used before.\n\n"
            "If this was you, there is nothing to do. If it was not, your password was not "
            "accepted; consider changing it and turning on two-factor authentication in your "
            f"account settings: {identity.settings.base_url}/app/security\n\n"
            "You will not get another message like this until the attempts stop.\n"
        ),
    )
