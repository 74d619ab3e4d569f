"""Identity API input and output models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, computed_field

from bizosaas.identity.models import (
    ApiKeyStatus,
    InvitationStatus,
    api_key_status,
    invitation_status,
)
from bizosaas.kit.db import utcnow
from bizosaas.kit.permissions import Role
from bizosaas.kit.text import SingleLine, Word

TENANT_NAME_MIN, TENANT_NAME_MAX = 2, 80
"""A tenant's name is shown in pages and quoted in mail: a short plain-text label."""

RoleName = Literal["tenant_admin", "manager", "staff", "client"]
Password = Field(min_length=1, max_length=1024)


class RegisterRequest(BaseModel):
    email: EmailStr
    password: SingleLine = Password
    full_name: SingleLine = Field(min_length=1, max_length=200)
    tenant_name: SingleLine = Field(
        min_length=TENANT_NAME_MIN, max_length=TENANT_NAME_MAX, description="Plain text."
    )


class LoginRequest(BaseModel):
    email: SingleLine = Field(min_length=3, max_length=320)
    password: SingleLine = Password
    tenant: SingleLine | None = Field(default=None, max_length=63, description="Tenant slug.")
    totp_code: SingleLine | None = Field(
        default=None, max_length=32, description="Authenticator code or a recovery code."
    )


class RefreshRequest(BaseModel):
    refresh_token: SingleLine = Field(min_length=10, max_length=200)


class SwitchTenantRequest(BaseModel):
    tenant: SingleLine = Field(min_length=1, max_length=63, description="Tenant slug or id.")


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type
    expires_in: int
    session_id: uuid.UUID
    tenant_id: uuid.UUID | None


class MfaChallenge(BaseModel):
    """Password accepted; a second factor is needed. `mfa_token` is the single-use challenge to
    send with the code to `POST /login/mfa` (within `expires_in` seconds)."""

    mfa_token: str
    expires_in: int
    mfa_required: Literal[True] = True


class MfaLoginRequest(BaseModel):
    mfa_token: SingleLine = Field(min_length=10, max_length=200)
    code: SingleLine = Field(
        min_length=1, max_length=32, description="Authenticator code or a recovery code."
    )
    tenant: SingleLine | None = Field(
        default=None,
        max_length=63,
        description="Tenant slug; when given, it must be the tenant of the password step.",
    )


class BrowserSession(BaseModel):
    """A browser login: set `cookie_token` as the `bizosaas_session` cookie (HttpOnly)."""

    cookie_token: str
    session_id: uuid.UUID
    tenant_id: uuid.UUID | None
    expires_at: datetime


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    status: str
    created_at: datetime


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    is_super_admin: bool
    is_active: bool
    email_verified_at: datetime | None
    mfa_enabled: bool = False
    created_at: datetime


class LoginUnlock(BaseModel):
    """An administrator's unlock: the account's failed logins are forgotten, so its next
    attempt from anywhere is not made to wait."""

    user_id: uuid.UUID
    email: str
    failures_cleared: int
    """How many failed logins were counted against the account (0: it was not held back)."""


class MembershipRead(BaseModel):
    tenant: TenantRead
    role: str


class Registration(BaseModel):
    user: UserRead
    tenant: TenantRead
    role: str = Role.tenant_admin.value


class SignUpAccepted(BaseModel):
    """The answer to a sign-up, the same whether or not the address has an account."""

    detail: str


class Me(BaseModel):
    user: UserRead
    tenant: TenantRead | None
    roles: list[str]
    permissions: list[str]
    session_id: uuid.UUID | None
    memberships: list[MembershipRead]


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: str
    tenant_id: uuid.UUID | None
    ip: str | None
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = False


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str
    role: str
    joined_at: datetime


class RoleChange(BaseModel):
    role: RoleName


class InvitationCreate(BaseModel):
    email: EmailStr
    role: RoleName = "staff"


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> InvitationStatus:
        """pending (its link works), accepted, revoked or expired, now."""
        return invitation_status(self.accepted_at, self.revoked_at, self.expires_at, utcnow())


class InvitationAccept(BaseModel):
    token: SingleLine = Field(min_length=10, max_length=300)
    password: SingleLine | None = Field(default=None, max_length=1024)
    full_name: SingleLine | None = Field(default=None, max_length=200)


class InvitationAccepted(BaseModel):
    user: UserRead
    tenant: TenantRead
    role: str
    created_user: bool


class PasswordChange(BaseModel):
    current_password: SingleLine = Password
    new_password: SingleLine = Password


class EmailRequest(BaseModel):
    email: SingleLine = Field(min_length=3, max_length=320)


class TokenConfirm(BaseModel):
    token: SingleLine = Field(min_length=10, max_length=300)


class PasswordResetConfirm(BaseModel):
    token: SingleLine = Field(min_length=10, max_length=300)
    new_password: SingleLine = Password


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


class TotpCode(BaseModel):
    code: SingleLine = Field(min_length=6, max_length=32)


class TotpDisable(BaseModel):
    password: SingleLine = Password
    code: SingleLine = Field(min_length=6, max_length=32)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class ApiKeyCreate(BaseModel):
    name: SingleLine = Field(min_length=1, max_length=100)
    permissions: list[Word] = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    permissions: list[str]
    created_by: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> ApiKeyStatus:
        """active, expired or revoked, now."""
        return api_key_status(self.revoked_at, self.expires_at, utcnow())


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown once: store it now.")


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    action: str
    actor_id: uuid.UUID | None
    target: str | None
    ip: str | None
    details: dict[str, object]
    created_at: datetime


class TenantRename(BaseModel):
    name: SingleLine = Field(
        min_length=TENANT_NAME_MIN, max_length=TENANT_NAME_MAX, description="Plain text."
    )


class TenantCreate(BaseModel):
    name: SingleLine = Field(min_length=TENANT_NAME_MIN, max_length=TENANT_NAME_MAX)
    slug: str | None = Field(default=None, min_length=2, max_length=63, pattern=r"^[a-z0-9-]+$")


class MailRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    to_address: str
    subject: str
    body: str
    transport: str
    status: str
    created_at: datetime
