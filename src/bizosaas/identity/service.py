"""Identity's public use cases: what other packages (other domains, the web pages, the CLI)
may call, together with `identity.schemas` and `identity.events`. Everything else in the
package is internal and may move.

Every function is async, takes the SQLAlchemy session first and keyword-only arguments, and
flushes but never commits (the caller's unit of work does). Functions that need the keys,
password hasher, throttle or session guard take `identity=`, the process's `IdentityContext`:
a route or page gets it with the `Identity` dependency, other code builds one with
`build_context(settings)`. Tenant-facing functions take a `scope` (the verified `TenantScope`
of the caller) and, for changes, the acting `actor` principal. Errors are
`bizosaas.identity.exceptions` problems with stable codes.

Sign-up and login (membership/registration.py, sessions/)
  request_sign_up(session, *, identity, email, password, full_name, tenant_name, ip=None)
      -> None: the public sign-up. Records the sign-up (sealed) for identity's handler,
      which carries it out after the answer, the same work whether or not the address has
      an account (429 identity.sign_ups_throttled beyond the client address's budget).
  register(session, *, identity, email, password, full_name, tenant_name, ip=None)
      -> Registration | None: sign-up carried out at once, for trusted callers (CLI, seeding,
      tests). None: the address has an account, whose owner is mailed that someone tried.
      The new admin's address is unverified until they open the mailed link; login works
      before that.
  authenticate_password(session, *, identity, email, password, tenant_slug=None,
      totp_code=None, ip=None, user_agent=None) -> TokenPair | MfaChallenge   (API channel)
  login_browser(... same arguments ...) -> BrowserSession | MfaChallenge   (browser channel)
  verify_login(..., channel=api) -> VerifiedLogin | MfaChallenge   (checks only; no session)
      Two-step login: for a user with TOTP on and no `totp_code`, the password step answers
      `MfaChallenge(mfa_token, expires_in)`: an opaque single-use token, stored hashed, valid
      five minutes, bound to the chosen tenant, the channel and the client address, dead after
      five wrong codes. Nobody holds the password between the steps. Then:
  complete_mfa_login(session, *, identity, challenge_token, code, tenant_slug=None, ip=None,
      user_agent=None) -> TokenPair                            (API channel)
  complete_mfa_browser_login(session, *, identity, challenge_token, code, ip=None,
      user_agent=None) -> BrowserSession                       (browser channel)
      Both take a TOTP or recovery code under the login throttle, audit login ok / failed
      (reason mfa) / recovery code used, and spend the challenge. A wrong code raises
      InvalidMfaCode (attempts_left); an unknown, expired, used, dead or foreign-channel
      challenge raises MfaChallengeInvalid.
  mfa_challenge_pending(session, *, challenge_token, channel, ip=None) -> bool
  verified_login_for(session, *, user_id, tenant_id) -> VerifiedLogin
  open_browser_session(session, *, identity, login, ip=None, user_agent=None)
      -> BrowserSession (cookie_token goes into the `bizosaas_session` cookie; revoking the
      session signs the browser out everywhere)
  start_api_session(session, *, identity, login, ip=None, user_agent=None) -> TokenPair
  refresh(session, *, identity, refresh_token) -> TokenPair
  switch_tenant(session, *, identity, user_id, session_id, tenant, ip=None, user_agent=None)
      -> TokenPair | BrowserSession (same channel as the current session, which ends)
  me(session, *, user_id, tenant_id, session_id, roles, permissions) -> Me

A user's own sessions (sessions/user_sessions.py)
  logout(session, *, identity, user_id, session_id)
  logout_all(session, *, identity, user_id) -> int
  list_sessions(session, *, user_id) -> list[AuthSession]
  revoke_session(session, *, identity, user_id, session_id)

Tenants and people (membership/)
  create_tenant(session, *, name, slug=None) -> Tenant
  create_user(session, *, identity, email, password, full_name, super_admin=False,
      verified=False) -> User
  create_invitation(session, *, identity, scope, actor, email, role, ip=None)
      -> InvitationRead  (403 identity.email_unverified, 429 identity.invitations_throttled)
  tenant_may_send(session, *, scope) -> bool / ensure_tenant_may_send(session, *, scope)
      Mail on a tenant's behalf (invitations, anything a domain sends for it) waits until a
      tenant admin of it has a verified address; ensure_ raises 403 identity.email_unverified.
  list_invitations(session, *, scope) -> list[InvitationRead]
  revoke_invitation(session, *, scope, actor, invitation_id, ip=None)
  accept_invitation(session, *, identity, token, password=None, full_name=None, ip=None)
      -> InvitationAccepted (creates the user when new)
  list_members(session, *, scope) -> list[MemberRead]
  change_member_role(session, *, identity, scope, actor, user_id, role, ip=None) -> MemberRead
  rename_tenant(session, *, scope, actor, name, ip=None) -> TenantRead   (tenant admins)
  remove_member(session, *, identity, scope, actor, user_id, ip=None)

Account security (membership/account.py, credentials/totp.py)
  change_password(session, *, identity, user_id, session_id, current_password, new_password,
      ip=None)
  request_password_reset(session, *, identity, email, ip=None)   (same answer for unknown
      addresses)
  confirm_password_reset(session, *, identity, token, new_password, ip=None)
  request_email_verification(session, *, identity, user_id); verify_email(session, *, token)
  enrol_totp(session, *, identity, user_id) -> TotpEnrolment (secret, otpauth URI, QR SVG)
  confirm_totp(session, *, identity, user_id, code, tenant_id=None, ip=None) -> RecoveryCodes
  disable_totp(session, *, identity, user_id, password, code, tenant_id=None, ip=None)
  regenerate_recovery_codes(session, *, identity, user_id, code, tenant_id=None, ip=None)
  remaining_recovery_codes(session, *, user_id) -> int

Machine access and audit (credentials/api_keys.py, records/audit.py)
  create_api_key(session, *, identity, scope, actor, name, permissions, expires_at=None,
                 ip=None)
      -> ApiKeyCreated  (429 identity.api_keys_throttled beyond the tenant's quota)
  list_api_keys(session, *, scope) -> list[ApiKeyRead]
  revoke_api_key(session, *, identity, scope, actor, key_id, ip=None)   (its open realtime
      sockets close in every process)
  list_audit_events(session, *, scope, limit=100, before=None, action=None)
  record_audit(session, *, tenant_id, action, actor_id=None, target=None, ip=None,
      details=None)   (for other domains' security-relevant acts, e.g. approval decisions;
      `tenant_id` from verified data, the entry commits with the caller's change)

Tenants by slug (membership/lookup.py)
  active_tenant_by_slug(session, *, slug) -> TenantRead | None   (public storefronts, webhooks;
      None for an unknown or suspended tenant. The slug comes from a URL: what is done for it
      beyond public reading must be verified otherwise, e.g. a webhook signature)
  tenant_slug(session, *, tenant_id) -> str | None

Platform administration, super admins only (membership/platform_admin.py)
  admin_list_tenants(session) / admin_create_tenant(session, *, name, slug=None, actor=None)
  admin_set_tenant_status(session, *, identity, tenant_id, suspended, actor=None)
  admin_list_users(session, *, query=None, limit=100)
  admin_unlock_login(session, *, identity, user_id, actor=None) -> LoginUnlock   (audited)
  admin_failed_logins(identity, *, users) -> {user id: failed logins counted}
  list_mail(session, *, to=None, limit=100) / get_mail(session, *, message_id)
"""

from __future__ import annotations

from bizosaas.identity.auth import Identity
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.context import build as build_context
from bizosaas.identity.credentials.api_keys import create_api_key, list_api_keys, revoke_api_key
from bizosaas.identity.credentials.totp import (
    confirm_totp,
    disable_totp,
    enrol_totp,
    regenerate_recovery_codes,
    remaining_recovery_codes,
)
from bizosaas.identity.membership.account import (
    change_password,
    confirm_password_reset,
    request_email_verification,
    request_password_reset,
    verify_email,
)
from bizosaas.identity.membership.lookup import active_tenant_by_slug, tenant_slug
from bizosaas.identity.membership.members import (
    accept_invitation,
    change_member_role,
    create_invitation,
    ensure_tenant_may_send,
    list_invitations,
    list_members,
    remove_member,
    rename_tenant,
    revoke_invitation,
    tenant_may_send,
)
from bizosaas.identity.membership.platform_admin import (
    admin_create_tenant,
    admin_failed_logins,
    admin_list_tenants,
    admin_list_users,
    admin_set_tenant_status,
    admin_unlock_login,
    get_mail,
    list_mail,
)
from bizosaas.identity.membership.profile import me
from bizosaas.identity.membership.registration import (
    create_tenant,
    create_user,
    register,
    request_sign_up,
)
from bizosaas.identity.records.audit import list_audit_events
from bizosaas.identity.records.audit import record as record_audit
from bizosaas.identity.sessions.mfa_login import (
    complete_mfa_browser_login,
    complete_mfa_login,
    mfa_challenge_pending,
)
from bizosaas.identity.sessions.opening import (
    VerifiedLogin,
    open_browser_session,
    start_api_session,
    verified_login_for,
)
from bizosaas.identity.sessions.password_login import (
    authenticate_password,
    login_browser,
    verify_login,
)
from bizosaas.identity.sessions.rotation import refresh
from bizosaas.identity.sessions.tenant_switch import switch_tenant
from bizosaas.identity.sessions.user_sessions import (
    list_sessions,
    logout,
    logout_all,
    revoke_session,
)

__all__ = [
    "Identity",
    "IdentityContext",
    "VerifiedLogin",
    "accept_invitation",
    "active_tenant_by_slug",
    "admin_create_tenant",
    "admin_failed_logins",
    "admin_list_tenants",
    "admin_list_users",
    "admin_set_tenant_status",
    "admin_unlock_login",
    "authenticate_password",
    "build_context",
    "change_member_role",
    "change_password",
    "complete_mfa_browser_login",
    "complete_mfa_login",
    "confirm_password_reset",
    "confirm_totp",
    "create_api_key",
    "create_invitation",
    "create_tenant",
    "create_user",
    "disable_totp",
    "enrol_totp",
    "ensure_tenant_may_send",
    "get_mail",
    "list_api_keys",
    "list_audit_events",
    "list_invitations",
    "list_mail",
    "list_members",
    "list_sessions",
    "login_browser",
    "logout",
    "logout_all",
    "me",
    "mfa_challenge_pending",
    "open_browser_session",
    "record_audit",
    "refresh",
    "regenerate_recovery_codes",
    "register",
    "remaining_recovery_codes",
    "remove_member",
    "rename_tenant",
    "request_email_verification",
    "request_password_reset",
    "request_sign_up",
    "revoke_api_key",
    "revoke_invitation",
    "revoke_session",
    "start_api_session",
    "switch_tenant",
    "tenant_may_send",
    "tenant_slug",
    "verified_login_for",
    "verify_email",
    "verify_login",
]
