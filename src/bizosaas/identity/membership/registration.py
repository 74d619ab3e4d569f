"""Creating tenants, users and memberships, and sign-up (a new tenant with its first admin).

Joining an existing tenant is by invitation (members.py); the CLI, demo seeding and platform
administrators create tenants and users with these same functions.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import one_time_tokens
from bizosaas.identity.credentials.passwords import check_password_policy
from bizosaas.identity.events import (
    SIGN_UP_REQUESTED,
    TENANT_CREATED,
    AuditAction,
    SignUpRequested,
    TenantCreated,
)
from bizosaas.identity.exceptions import EmailTaken, InvalidTenantName, SlugTaken
from bizosaas.identity.models import Membership, Tenant, TenantStatus, User
from bizosaas.identity.records import audit
from bizosaas.identity.records.mail import request_mail
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import (
    TENANT_NAME_MAX,
    TENANT_NAME_MIN,
    Registration,
    TenantRead,
    UserRead,
)
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.db import utcnow
from bizosaas.kit.events import Event
from bizosaas.kit.ids import uuid7
from bizosaas.kit.module import Services
from bizosaas.kit.outbox import record_event
from bizosaas.kit.permissions import Role
from bizosaas.kit.text import control_character_at, unlinkable
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


class UserColumns(Protocol):
    """What `user_read` reads: a `User`, or a plain SQL row of the same columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def email(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def is_super_admin(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def email_verified_at(self) -> datetime | None: ...
    @property
    def totp_enabled_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...


def user_read(user: UserColumns) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_super_admin=user.is_super_admin,
        is_active=user.is_active,
        email_verified_at=user.email_verified_at,
        mfa_enabled=user.totp_enabled_at is not None,
        created_at=user.created_at,
    )


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _SLUG_CHARS.sub("-", ascii_name.lower()).strip("-")[:50]
    return slug or "tenant"


def checked_tenant_name(name: str) -> str:
    """The name stripped, or 422 `identity.invalid_tenant_name`: a short single line (it is
    shown in pages and quoted in mail)."""
    name = name.strip()
    if not TENANT_NAME_MIN <= len(name) <= TENANT_NAME_MAX:
        raise InvalidTenantName(
            f"Use {TENANT_NAME_MIN} to {TENANT_NAME_MAX} characters for the name.",
            max_length=TENANT_NAME_MAX,
        )
    if control_character_at(name, multiline=False) is not None:
        raise InvalidTenantName("The name cannot contain control characters.")
    return name


async def create_tenant(session: AsyncSession, *, name: str, slug: str | None = None) -> Tenant:
    """A new active tenant. Without `slug`, one is made from the name (unique)."""
    name = checked_tenant_name(name)
    if slug is not None:
        slug = slug.strip().lower()
        if await accounts.tenant_by_slug(session, slug=slug) is not None:
            raise SlugTaken(f"The slug {slug!r} is taken.")
    else:
        base = slugify(name)
        slug = base
        while await accounts.tenant_by_slug(session, slug=slug) is not None:
            slug = f"{base}-{secrets.token_hex(2)}"
    tenant = Tenant(name=name, slug=slug, status=TenantStatus.active.value)
    session.add(tenant)
    await session.flush()
    record_event(
        session,
        TENANT_CREATED,
        TenantCreated(tenant_id=tenant.id, slug=tenant.slug, name=tenant.name),
        tenant_id=tenant.id,
    )
    return tenant


async def create_user(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    email: str,
    password: str,
    full_name: str,
    super_admin: bool = False,
    verified: bool = False,
) -> User:
    email = accounts.normalise_email(email)
    if await accounts.user_by_email(session, email=email) is not None:
        raise EmailTaken("An account with this e-mail address exists; sign in instead.")
    password = check_password_policy(
        password, min_length=identity.settings.password_min_length, email=email
    )
    return await _add_user(
        session,
        email=email,
        password_hash=await identity.passwords.hash(password),
        full_name=full_name,
        super_admin=super_admin,
        verified=verified,
    )


async def _add_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    full_name: str,
    super_admin: bool = False,
    verified: bool = False,
) -> User:
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=password_hash,
        is_super_admin=super_admin,
        email_verified_at=utcnow() if verified else None,
        password_changed_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    return user


async def add_membership(
    session: AsyncSession, *, tenant: Tenant, user: User, role: Role | str
) -> Membership:
    member = Membership(tenant_id=tenant.id, user_id=user.id, role=Role(role).value)
    session.add(member)
    await session.flush()
    return member


class SignUp(BaseModel):
    """A checked sign-up, as `identity.sign_up_requested` carries it (sealed)."""

    email: str
    full_name: str
    tenant_name: str
    password_hash: str
    may_mail: bool
    """The address's mail budget allowed one more message when the form was sent."""
    ip: str | None = None


_SEALED_FOR = b"identity.sign_up_requested"


async def _checked(
    identity: IdentityContext,
    *,
    email: str,
    password: str,
    full_name: str,
    tenant_name: str,
    ip: str | None,
) -> SignUp:
    """Every input check, the Argon2 hash and the mail budget: what a sign-up costs whether or
    not its address has an account."""
    email = accounts.normalise_email(email)
    password = check_password_policy(
        password, min_length=identity.settings.password_min_length, email=email
    )
    return SignUp(
        email=email,
        full_name=full_name.strip(),
        tenant_name=checked_tenant_name(tenant_name),
        password_hash=await identity.passwords.hash(password),
        may_mail=await identity.throttle.allow_mail(email=email),
        ip=ip,
    )


async def request_sign_up(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    email: str,
    password: str,
    full_name: str,
    tenant_name: str,
    ip: str | None = None,
) -> None:
    """The public sign-up (API and pages): charge the client address's sign-up budget (429
    `identity.sign_ups_throttled`), check the input, and record the sign-up, sealed, as
    `identity.sign_up_requested`; `complete_sign_up` carries it out after the answer.

    The request does the same work whether or not the address has an account (it does not even
    look), so neither its answer nor its time tells who has one.
    """
    await identity.quotas.charge_sign_up(ip)
    sign_up = await _checked(
        identity,
        email=email,
        password=password,
        full_name=full_name,
        tenant_name=tenant_name,
        ip=ip,
    )
    sealed = identity.data_keys.encrypt(sign_up.model_dump_json(), associated_data=_SEALED_FOR)
    record_event(session, SIGN_UP_REQUESTED, SignUpRequested(sealed=sealed))


async def complete_sign_up(event: Event, services: Services) -> None:
    """Identity's handler of `identity.sign_up_requested` (see `carry_out`). Handling the same
    event twice (every process hears the bus; delivery is at-least-once) changes nothing the
    second time: the account it made is recognised by its password hash, and a concurrent
    duplicate fails on the unique address or mail id and is dropped."""
    identity = context.of(services)
    sealed = SignUpRequested.model_validate(event.payload).sealed
    sign_up = SignUp.model_validate_json(
        identity.data_keys.decrypt(sealed, associated_data=_SEALED_FOR)
    )
    try:
        async with services.database.unit_of_work() as session:
            await carry_out(session, identity=identity, sign_up=sign_up, event_id=event.id)
    except IntegrityError:
        log.info("sign_up_already_handled", event_id=str(event.id))


async def register(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    email: str,
    password: str,
    full_name: str,
    tenant_name: str,
    ip: str | None = None,
) -> Registration | None:
    """Sign-up carried out at once, for trusted callers (the CLI, demo seeding, tests): the
    checks of `request_sign_up`, then `carry_out`. Public endpoints use `request_sign_up`."""
    sign_up = await _checked(
        identity,
        email=email,
        password=password,
        full_name=full_name,
        tenant_name=tenant_name,
        ip=ip,
    )
    return await carry_out(session, identity=identity, sign_up=sign_up, event_id=uuid7())


async def carry_out(
    session: AsyncSession, *, identity: IdentityContext, sign_up: SignUp, event_id: uuid.UUID
) -> Registration | None:
    """A new tenant and its first tenant admin, whose address is unverified until they open
    the link mailed to it (the tenant sends no mail before then). Joining a tenant is by
    invitation.

    For an address with an account nothing is created (None) and, mail budget allowing, its
    owner is told by mail that someone tried. An account left unconfirmed longer than
    `unconfirmed_sign_up_ttl` does not hold its address: it is released (`release_expired`)
    and the sign-up goes ahead. `event_id` names the request; the mails' ids derive from it.
    """
    settings = identity.settings
    mail_id = uuid.uuid5(event_id, "mail")
    existing = await accounts.user_by_email(session, email=sign_up.email)
    if existing is not None and unconfirmed_expired(existing, settings=settings):
        await release_expired(session, identity=identity, user=existing)
        existing = None
    if existing is not None:
        if existing.password_hash == sign_up.password_hash:
            return None  # this very sign-up, handled before
        if existing.is_active and sign_up.may_mail:
            _mail_sign_up_attempt(session, settings=settings, user=existing, event_id=mail_id)
        return None
    user = await _add_user(
        session,
        email=sign_up.email,
        password_hash=sign_up.password_hash,
        full_name=sign_up.full_name,
    )
    tenant = await create_tenant(session, name=sign_up.tenant_name)
    await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
    await audit.record(
        session,
        tenant_id=tenant.id,
        action=AuditAction.tenant_created,
        actor_id=user.id,
        target=tenant.slug,
        ip=sign_up.ip,
    )
    await one_time_tokens.send_verification(session, settings=settings, user=user, event_id=mail_id)
    return Registration(user=user_read(user), tenant=TenantRead.model_validate(tenant))


def unconfirmed_expired(user: User, *, settings: Settings) -> bool:
    """An account nobody confirmed within `unconfirmed_sign_up_ttl` of its creation (a platform
    administrator's account never expires)."""
    deadline = utcnow() - timedelta(seconds=settings.unconfirmed_sign_up_ttl)
    return (
        user.email_verified_at is None
        and not user.is_super_admin
        and _naive(user.created_at) <= _naive(deadline)
    )


def _naive(moment: datetime) -> datetime:
    # SQLite hands back naive UTC, PostgreSQL aware: compare them as naive UTC.
    return (
        moment.replace(tzinfo=None)
        if moment.tzinfo is None
        else moment.astimezone(UTC).replace(tzinfo=None)
    )


async def release_expired(session: AsyncSession, *, identity: IdentityContext, user: User) -> None:
    """Let an expired unconfirmed sign-up's address be used again: the account is deactivated
    and its address replaced by one that can receive nothing, its sessions end, and the
    tenants only it belonged to (which could send no invitation while it was unconfirmed) are
    suspended. Nothing is deleted: the audit trail of what it did stays."""
    for tenant in await accounts.sole_member_tenants(session, user_id=user.id):
        tenant.status = TenantStatus.suspended.value
    user.is_active = False
    user.email = f"released-{user.id.hex}@invalid"
    await revoke_sessions(session, identity=identity, user_id=user.id, reason="sign_up_expired")
    await session.flush()
    log.info("unconfirmed_sign_up_released", user_id=str(user.id))


def _mail_sign_up_attempt(
    session: AsyncSession, *, settings: Settings, user: User, event_id: uuid.UUID
) -> None:
    """Tell the owner of a taken address that someone tried to sign up with it (no link the
    other person chose, nothing that would let them in)."""
    base = settings.base_url
    request_mail(
        session,
        to=user.email,
        subject="Someone tried to sign up with your e-mail address",
        body=(
            f"Hello {unlinkable(user.full_name or user.email)},\n\n"
            "Someone, perhaps you, tried to create a BizOSaaS account with this e-mail "
            "address. It already has an account, so nothing was created or changed.\n\n"
            f"If it was you, sign in:\n{base}/login\n\n"
            f"Forgot your password? Choose a new one here:\n{base}/auth/forgot-password\n\n"
            "If it was not you, you can ignore this message.\n"
        ),
        event_id=event_id,
    )
