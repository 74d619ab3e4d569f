"""Identity errors, each with a stable machine code (`identity.<reason>`)."""

from __future__ import annotations

from bizosaas.kit.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Problem,
    Unauthenticated,
)


class InvalidCredentials(Unauthenticated):
    code = "identity.invalid_credentials"
    title = "E-mail address or password is wrong"


class MfaRequired(Unauthenticated):
    code = "identity.mfa_required"
    title = "A two-factor code is required"


class InvalidMfaCode(Unauthenticated):
    code = "identity.invalid_mfa_code"
    title = "The two-factor code is wrong"


class MfaChallengeInvalid(Unauthenticated):
    code = "identity.mfa_challenge_invalid"
    title = "The sign-in has expired or was already completed; enter the password again"


class LoginThrottled(Problem):
    status = 429
    code = "identity.login_throttled"
    title = "Too many failed logins"


class MailThrottled(Problem):
    status = 429
    code = "identity.mail_throttled"
    title = "Too many e-mails to this address"


class InvalidRefreshToken(Unauthenticated):
    code = "identity.invalid_refresh_token"
    title = "The refresh token is not valid"


class RefreshTokenReused(Unauthenticated):
    code = "identity.refresh_token_reused"
    title = "The refresh token was already used; the session is revoked"


class InvalidAccessCredential(Unauthenticated):
    code = "identity.invalid_credential"
    title = "The credential is not valid"


class SessionRevoked(Unauthenticated):
    code = "identity.session_revoked"
    title = "The session has ended"


class EmailTaken(Conflict):
    code = "identity.email_taken"
    title = "An account with this e-mail address exists"


class SlugTaken(Conflict):
    code = "identity.slug_taken"
    title = "A tenant with this slug exists"


class WeakPassword(Problem):
    status = 422
    code = "identity.weak_password"
    title = "The password is too weak"


class TenantNotFound(NotFound):
    code = "identity.tenant_not_found"
    title = "Tenant not found"


class TenantSuspended(PermissionDenied):
    code = "identity.tenant_suspended"
    title = "The tenant is suspended"


class UserNotFound(NotFound):
    code = "identity.user_not_found"
    title = "User not found"


class MemberNotFound(NotFound):
    code = "identity.member_not_found"
    title = "Member not found"


class AlreadyMember(Conflict):
    code = "identity.already_member"
    title = "Already a member of this tenant"


class LastAdmin(Conflict):
    code = "identity.last_admin"
    title = "A tenant keeps at least one tenant admin"


class InvitationNotFound(NotFound):
    code = "identity.invitation_not_found"
    title = "Invitation not found"


class InvitationInvalid(Problem):
    status = 410
    code = "identity.invitation_invalid"
    title = "The invitation has expired, been used or been revoked"


class InvalidOneTimeToken(Problem):
    status = 400
    code = "identity.invalid_token"
    title = "The link has expired or was already used"


class SessionNotFound(NotFound):
    code = "identity.session_not_found"
    title = "Session not found"


class ApiKeyNotFound(NotFound):
    code = "identity.api_key_not_found"
    title = "API key not found"


class PermissionNotHeld(PermissionDenied):
    code = "identity.permission_not_held"
    title = "An API key cannot have permissions its creator does not hold"


class UnknownPermission(InvalidInput):
    code = "identity.unknown_permission"
    title = "No enabled module declares this permission"


class UserCredentialRequired(PermissionDenied):
    code = "identity.user_required"
    title = "This action needs a signed-in person, not an API key"


class MfaAlreadyEnabled(Conflict):
    code = "identity.mfa_already_enabled"
    title = "Two-factor authentication is already on"


class MfaNotEnrolled(Conflict):
    code = "identity.mfa_not_enrolled"
    title = "Two-factor authentication is not set up"


class MailNotFound(NotFound):
    code = "identity.mail_not_found"
    title = "Message not found"


class EmailUnverified(PermissionDenied):
    code = "identity.email_unverified"
    title = "Verify your e-mail address first"


class InvitationsThrottled(Problem):
    status = 429
    code = "identity.invitations_throttled"
    title = "Too many invitations from this tenant"


class ApiKeysThrottled(Problem):
    status = 429
    code = "identity.api_keys_throttled"
    title = "Too many API keys created in this tenant"


class SignUpsThrottled(Problem):
    status = 429
    code = "identity.sign_ups_throttled"
    title = "Too many sign-ups from this address"


class InvalidTenantName(InvalidInput):
    code = "identity.invalid_tenant_name"
    title = "The tenant name is not valid"
