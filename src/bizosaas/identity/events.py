"""Identity event names (outbox) and audit actions."""

from __future__ import annotations

from enum import StrEnum

MAIL_REQUESTED = "identity.mail_requested"
"""Payload: {"to": str, "subject": str, "body": str}. Delivered by the mailer (mail.py)."""
TENANT_CREATED = "identity.tenant_created"
"""Payload: {"tenant_id": str, "slug": str, "name": str}."""
MEMBER_JOINED = "identity.member_joined"
"""Payload: {"tenant_id": str, "user_id": str, "role": str}."""


class AuditAction(StrEnum):
    tenant_created = "tenant.created"
    tenant_suspended = "tenant.suspended"
    tenant_reactivated = "tenant.reactivated"
    login_succeeded = "login.succeeded"
    login_failed = "login.failed"
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
