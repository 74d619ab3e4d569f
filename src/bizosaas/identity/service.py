"""The identity service layer: one import for every caller (API routers, web pages, CLI).

Every function is async, takes the SQLAlchemy session first and keyword-only arguments, and
flushes but never commits (the caller's unit of work does). Tenant-facing functions take a
`scope` (the verified `TenantScope` of the caller) and, for changes, the acting `actor`
principal. Errors are `bizosaas.identity.exceptions` problems with stable codes.

Sign-up and login (login.py, mfa_login.py, challenges.py)
  register(session, *, email, password, full_name, tenant_name, ip=None) -> Registration
  authenticate_password(session, *, email, password, tenant_slug=None, totp_code=None, ip=None,
      user_agent=None) -> TokenPair | MfaChallenge            (API channel: token pair)
  login_browser(... same arguments ...) -> BrowserSession | MfaChallenge   (browser channel)
  verify_login(..., channel=api) -> VerifiedLogin | MfaChallenge   (checks only; no session)
      Two-step login: for a user with TOTP on and no `totp_code`, the password step answers
      `MfaChallenge(mfa_token, expires_in)`: an opaque single-use token, stored hashed, valid
      five minutes, bound to the chosen tenant, the channel and the client address, dead after
      five wrong codes. Nobody holds the password between the steps. Then:
  complete_mfa_login(session, *, challenge_token, code, tenant_slug=None, ip=None,
      user_agent=None) -> TokenPair                            (API channel)
  complete_mfa_browser_login(session, *, challenge_token, code, ip=None, user_agent=None)
      -> BrowserSession                                        (browser channel)
      Both take a TOTP or recovery code under the login throttle, audit login ok / failed
      (reason mfa) / recovery code used, and spend the challenge. A wrong code raises
      InvalidMfaCode (attempts_left); an unknown, expired, used, dead or foreign-channel
      challenge raises MfaChallengeInvalid.
  mfa_challenge_pending(session, *, challenge_token, channel, ip=None) -> bool
  verified_login_for(session, *, user_id, tenant_id) -> VerifiedLogin
  open_browser_session(session, *, login, ip=None, user_agent=None) -> BrowserSession
      (cookie_token goes into the `bizosaas_session` cookie; revoking the session signs the
      browser out everywhere)
  start_api_session(session, *, login, ip=None, user_agent=None) -> TokenPair
  refresh(session, *, refresh_token) -> TokenPair                 (rotation.py)
  switch_tenant(session, *, user_id, session_id, tenant, ip=None, user_agent=None)
      -> TokenPair | BrowserSession (same channel as the current session, which ends)
  me(session, *, user_id, tenant_id, session_id, roles, permissions) -> Me

A user's own sessions (user_sessions.py)
  logout(session, *, user_id, session_id); logout_all(session, *, user_id) -> int
  list_sessions(session, *, user_id) -> list[AuthSession]
  revoke_session(session, *, user_id, session_id)

Tenants and people (members.py)
  create_invitation(session, *, scope, actor, email, role) -> InvitationRead
  list_invitations(session, *, scope) -> list[InvitationRead]
  revoke_invitation(session, *, scope, actor, invitation_id)
  accept_invitation(session, *, token, password=None, full_name=None, ip=None)
      -> InvitationAccepted (creates the user when new)
  list_members(session, *, scope) -> list[MemberRead]
  change_member_role(session, *, scope, actor, user_id, role) -> MemberRead
  remove_member(session, *, scope, actor, user_id)

Account security (account.py, mfa.py)
  change_password(session, *, user_id, session_id, current_password, new_password, ip=None)
  request_password_reset(session, *, email, ip=None)     (same answer for unknown addresses)
  confirm_password_reset(session, *, token, new_password, ip=None)
  request_email_verification(session, *, user_id); verify_email(session, *, token)
  enrol_totp(session, *, user_id) -> TotpEnrolment (secret, otpauth URI, QR SVG)
  confirm_totp(session, *, user_id, code, tenant_id=None, ip=None) -> RecoveryCodes
  disable_totp(session, *, user_id, password, code, tenant_id=None, ip=None)
  regenerate_recovery_codes(session, *, user_id, code, tenant_id=None, ip=None)
  remaining_recovery_codes(session, *, user_id) -> int

Machine access and audit (api_keys.py, audit.py)
  create_api_key(session, *, scope, actor, name, permissions, expires_at=None) -> ApiKeyCreated
  list_api_keys(session, *, scope) -> list[ApiKeyRead]
  revoke_api_key(session, *, scope, actor, key_id)
  list_audit_events(session, *, scope, limit=100, before=None, action=None)

Platform administration, super admins only (admin.py, mail.py)
  admin_list_tenants(session) / admin_create_tenant(session, *, name, slug=None)
  admin_set_tenant_status(session, *, tenant_id, suspended, actor)
  admin_list_users(session, *, query=None, limit=100)
  list_mail(session, *, to=None, limit=100) / get_mail(session, *, message_id)
"""

from __future__ import annotations

from bizosaas.identity.account import (
    change_password,
    confirm_password_reset,
    request_email_verification,
    request_password_reset,
    verify_email,
)
from bizosaas.identity.admin import (
    admin_create_tenant,
    admin_list_tenants,
    admin_list_users,
    admin_set_tenant_status,
    get_mail,
    list_mail,
)
from bizosaas.identity.api_keys import create_api_key, list_api_keys, revoke_api_key
from bizosaas.identity.audit import list_audit_events
from bizosaas.identity.login import (
    VerifiedLogin,
    authenticate_password,
    create_tenant,
    create_user,
    login_browser,
    me,
    open_browser_session,
    register,
    start_api_session,
    switch_tenant,
    verified_login_for,
    verify_login,
)
from bizosaas.identity.members import (
    accept_invitation,
    change_member_role,
    create_invitation,
    list_invitations,
    list_members,
    remove_member,
    revoke_invitation,
)
from bizosaas.identity.mfa import (
    confirm_totp,
    disable_totp,
    enrol_totp,
    regenerate_recovery_codes,
    remaining_recovery_codes,
)
from bizosaas.identity.mfa_login import (
    complete_mfa_browser_login,
    complete_mfa_login,
    mfa_challenge_pending,
)
from bizosaas.identity.rotation import refresh
from bizosaas.identity.user_sessions import list_sessions, logout, logout_all, revoke_session

__all__ = [
    "VerifiedLogin",
    "accept_invitation",
    "admin_create_tenant",
    "admin_list_tenants",
    "admin_list_users",
    "admin_set_tenant_status",
    "authenticate_password",
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
    "refresh",
    "regenerate_recovery_codes",
    "register",
    "remaining_recovery_codes",
    "remove_member",
    "request_email_verification",
    "request_password_reset",
    "revoke_api_key",
    "revoke_invitation",
    "revoke_session",
    "start_api_session",
    "switch_tenant",
    "verified_login_for",
    "verify_email",
    "verify_login",
]
