"""Creating tenants, users and memberships, and sign-up (a new tenant with its first admin).

Joining an existing tenant is by invitation (members.py); the CLI, demo seeding and platform
administrators create tenants and users with these same functions.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import one_time_tokens
from bizosaas.identity.credentials.passwords import check_password_policy
from bizosaas.identity.events import TENANT_CREATED, AuditAction, TenantCreated
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
from bizosaas.kit.db import utcnow
from bizosaas.kit.outbox import record_event
from bizosaas.kit.permissions import Role
from bizosaas.kit.text import control_character_at, unlinkable
from bizosaas.settings import Settings

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
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=await identity.passwords.hash(password),
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
    """Sign-up: a new tenant and its first tenant admin, whose address is unverified until
    they open the link mailed to it (the tenant sends no mail before then). Joining a tenant
    is by invitation.

    The caller answers the same whether or not the address has an account, so sign-up does
    not tell who has one: for a taken address nothing is created (None) and its owner is told
    by mail that someone tried. Every input check runs first and the password is hashed either
    way, so both paths refuse the same input and take about as long.
    """
    email = accounts.normalise_email(email)
    password = check_password_policy(
        password, min_length=identity.settings.password_min_length, email=email
    )
    name = checked_tenant_name(tenant_name)
    existing = await accounts.user_by_email(session, email=email)
    if existing is not None:
        await identity.passwords.hash(password)
        if existing.is_active and await identity.throttle.allow_mail(email=existing.email):
            _mail_sign_up_attempt(session, settings=identity.settings, user=existing)
        return None
    user = await create_user(
        session, identity=identity, email=email, password=password, full_name=full_name
    )
    tenant = await create_tenant(session, name=name)
    await add_membership(session, tenant=tenant, user=user, role=Role.tenant_admin)
    await audit.record(
        session,
        tenant_id=tenant.id,
        action=AuditAction.tenant_created,
        actor_id=user.id,
        target=tenant.slug,
        ip=ip,
    )
    await one_time_tokens.send_verification(session, settings=identity.settings, user=user)
    return Registration(user=user_read(user), tenant=TenantRead.model_validate(tenant))


def _mail_sign_up_attempt(session: AsyncSession, *, settings: Settings, user: User) -> None:
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
    )
