"""Identity's events (written to the outbox, with typed payloads) and audit actions."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class MailRequested(BaseModel):
    to: str = Field(description="The recipient's e-mail address.")
    subject: str = Field(description="The subject line.")
    body: str = Field(description="Plain-text body.")


class TenantCreated(BaseModel):
    tenant_id: uuid.UUID
    slug: str = Field(description="The tenant's unique URL name.")
    name: str = Field(description="The tenant's display name.")


class MemberJoined(BaseModel):
    tenant_id: uuid.UUID
    user_id: uuid.UUID = Field(description="The new member's user id.")
    role: str = Field(description="The role the member joined with.")


class LoginFailed(BaseModel):
    user_id: uuid.UUID | None = Field(
        description="The account tried, or null when no account has the address."
    )
    ip: str | None = Field(description="The client address the attempt came from.")
    reason: str = Field(description="What was wrong: `password` or `mfa` (the second factor).")
    tenant: str | None = Field(
        default=None, description="The slug of the tenant the login named, if it named one."
    )
    alert: bool = Field(
        default=False,
        description="This failure started holding the account back: its owner is to be told.",
    )


class SignUpRequested(BaseModel):
    sealed: str = Field(
        description=(
            "The sign-up (address, name, tenant name, password hash), sealed with the "
            "data-encryption keys: only identity's handler reads it."
        )
    )


class PasswordResetRequested(BaseModel):
    sealed: str = Field(
        description="The address a reset link was asked for, sealed with the data-encryption keys."
    )


MAIL_REQUESTED = EventType(
    "identity.mail_requested",
    MailRequested,
    description="An e-mail is to be sent; the mailer delivers it (SMTP, or the local mail sink).",
)
TENANT_CREATED = EventType(
    "identity.tenant_created", TenantCreated, description="A new tenant (workspace) exists."
)
MEMBER_JOINED = EventType(
    "identity.member_joined",
    MemberJoined,
    description="A user accepted an invitation and is now a member of the tenant.",
)
LOGIN_FAILED = EventType(
    "identity.login_failed",
    LoginFailed,
    description=(
        "A login failed. Written for unknown addresses too, so a failure costs the same whether "
        "or not the account exists; identity's handler audits it (in the account's tenant, or "
        "in the log for an unknown address) and sends the owner's alert, after the answer."
    ),
)
SIGN_UP_REQUESTED = EventType(
    "identity.sign_up_requested",
    SignUpRequested,
    description=(
        "Someone submitted the sign-up form. Identity's handler creates the tenant and its "
        "admin (or, for an address with an account, tells its owner by mail), after the answer, "
        "so sign-up takes the same time whether or not the address has an account."
    ),
)
PASSWORD_RESET_REQUESTED = EventType(
    "identity.password_reset_requested",
    PasswordResetRequested,
    description=(
        "Someone asked for a password reset link. Identity's handler mails one if the address "
        "has an active account, after the answer, so the form takes the same time either way."
    ),
)
IDENTITY_EVENTS = (
    MAIL_REQUESTED,
    TENANT_CREATED,
    MEMBER_JOINED,
    LOGIN_FAILED,
    SIGN_UP_REQUESTED,
    PASSWORD_RESET_REQUESTED,
)


class AuditAction(StrEnum):
    tenant_created = "tenant.created"
    tenant_suspended = "tenant.suspended"
    tenant_reactivated = "tenant.reactivated"
    tenant_renamed = "tenant.renamed"
    login_succeeded = "login.succeeded"
    login_failed = "login.failed"
    login_unlocked = "login.unlocked"
    refresh_reused = "refresh.reused"
    logout = "session.logout"
    logout_all = "session.logout_all"
    session_revoked = "session.revoked"
    tenant_switched = "session.tenant_switched"
    invitation_created = "invitation.created"
    invitation_revoked = "invitation.revoked"
    invitation_accepted = "invitation.accepted"
    role_changed = "member.role_changed"
    member_removed = "member.removed"
    password_changed = "password.changed"  # noqa: S105 - an action name
    password_reset = "password.reset"  # noqa: S105 - an action name
    email_verified = "email.verified"
    mfa_enabled = "mfa.enabled"
    mfa_disabled = "mfa.disabled"
    mfa_recovery_regenerated = "mfa.recovery_codes_regenerated"
    mfa_recovery_used = "mfa.recovery_code_used"
    api_key_created = "api_key.created"
    api_key_revoked = "api_key.revoked"
    # Decisions on approval requests (the workflows module records them through the service).
    approval_approved = "approval.approved"
    approval_rejected = "approval.rejected"
    approval_escalated = "approval.escalated"
    approval_expired = "approval.expired"
    approval_cancelled = "approval.cancelled"
