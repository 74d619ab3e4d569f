"""Identity tables.

Global tables (no `TenantOwned`, no row-level security): `tenants`, `users`, `memberships`,
`auth_sessions`, `refresh_tokens`, `one_time_tokens`, `mfa_challenges`, `mfa_recovery_codes`,
`mail_messages`.
They are global on purpose: login starts from an e-mail address and must find that user's
memberships across every tenant before any tenant is known, a session follows its user when
they switch tenants, and the gateway checks a session's revocation on every request without a
tenant scope. Only identity code reads them, and every query names the user or session it
serves; nothing in them is reachable by id from another tenant's API (see repository.py).

Tenant-owned tables (`TenantOwned`, RLS on PostgreSQL): `invitations`, `api_keys`,
`audit_events`. Credentials that must be found before the tenant is known (invitation tokens,
API keys) carry their tenant id in the token text; the lookup binds that tenant and then
proves the token by its hash, so a forged tenant id finds nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin, TimestampMixin, utcnow

# The role names live with the permission catalogue in the kit; importable here as before.
from bizosaas.kit.permissions import SUPER_ADMIN_ROLE as SUPER_ADMIN_ROLE  # noqa: PLC0414
from bizosaas.kit.permissions import Role as Role  # noqa: PLC0414
from bizosaas.kit.tenancy import TenantOwned


class TenantStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class SessionChannel(StrEnum):
    api = "api"
    browser = "browser"


class OneTimePurpose(StrEnum):
    password_reset = "password_reset"  # noqa: S105 - a purpose name
    email_verification = "email_verification"


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=TenantStatus.active.value)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-cased: addresses are unique case-insensitively."""
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    is_super_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    """Sealed with the data-encryption key (kit/crypto.py), bound to the user's id."""
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    """The last accepted TOTP time step: a code is accepted once."""
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class Membership(IdMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(30))
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class AuthSession(IdMixin, Base):
    """One login: every token issued from it (and a browser cookie) dies with it."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_active", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    channel: Mapped[str] = mapped_column(String(20), default=SessionChannel.api.value)
    cookie_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(400), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), default=None)


class RefreshToken(IdMixin, Base):
    """Refresh tokens of the embedded mode (with Redis configured they live in Redis: see
    rotation.py)."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    """Set when rotated: presenting it again is reuse."""


class OneTimeToken(IdMixin, Base):
    """Password-reset and e-mail-verification tokens: single use, expiring, stored hashed."""

    __tablename__ = "one_time_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class MfaChallengeToken(IdMixin, Base):
    """The second step of a login: issued after a correct password for a user with two-factor
    authentication, stored hashed, single use, bound to the tenant, channel and client address
    of the password step, and dead after `MAX_ATTEMPTS` wrong codes."""

    __tablename__ = "mfa_challenges"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_slug: Mapped[str | None] = mapped_column(String(63), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    """Set when the login completed or the last allowed attempt failed."""


class RecoveryCode(IdMixin, Base):
    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class MailMessage(IdMixin, Base):
    """Every message the mailer handled: the local mail sink when no SMTP server is set, and
    the delivery record (one per event, so a redelivered event sends nothing twice)."""

    __tablename__ = "mail_messages"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    transport: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="stored")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(IdMixin, TenantOwned, Base):
    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


ApiKeyStatus = Literal["active", "expired", "revoked"]
InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]


def invitation_status(
    accepted_at: datetime | None, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> InvitationStatus:
    """Where an invitation stands at `now`: only a pending one can be accepted."""
    if accepted_at is not None:
        return "accepted"
    if revoked_at is not None:
        return "revoked"
    if expires_at <= now:
        return "expired"
    return "pending"


def api_key_status(
    revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> ApiKeyStatus:
    """Whether a key opens the API at `now`: revoked wins over expired."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


class ApiKey(IdMixin, TenantOwned, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20))
    """The first characters of the secret, shown in listings to tell keys apart."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEvent(IdMixin, TenantOwned, Base):
    """Append-only (the migration adds triggers that refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"

    action: Mapped[str] = mapped_column(String(60), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    target: Mapped[str | None] = mapped_column(String(120), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
