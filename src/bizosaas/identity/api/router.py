"""Identity API under /api/brain/auth/: sign-up, login, tokens, sessions, JWKS.

Tenant administration, account security and platform administration live in `tenant.py`,
`account.py` and `admin.py` beside this file, included here.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.identity.api.account import router as account_router
from bizosaas.identity.api.admin import router as admin_router
from bizosaas.identity.api.tenant import router as tenant_router
from bizosaas.identity.auth import (
    CurrentUser,
    Identity,
    client_ip,
    keep_device,
    presented_device,
    user_agent,
)
from bizosaas.identity.exceptions import MfaRequired
from bizosaas.identity.membership import profile, registration
from bizosaas.identity.schemas import (
    BrowserSession,
    LoginRequest,
    Me,
    MfaChallenge,
    MfaLoginRequest,
    RefreshRequest,
    RegisterRequest,
    SessionRead,
    SignUpAccepted,
    SwitchTenantRequest,
    TokenPair,
)
from bizosaas.identity.sessions import (
    mfa_login,
    password_login,
    rotation,
    tenant_switch,
    user_sessions,
)
from bizosaas.identity.sessions.rotation import commit_before_failing
from bizosaas.kit.deps import DbSession, ReadSession

router = APIRouter(tags=["identity"])
web = APIRouter(include_in_schema=False)

PROBLEM_401: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the credential is not valid"}
}
JWKS_CACHE = "public, max-age=300"


def jwks_response(identity: Identity) -> Response:
    return Response(
        content=orjson.dumps(identity.keys.jwks()),
        media_type="application/json",
        headers={"cache-control": JWKS_CACHE},
    )


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify access tokens (JWKS)",
    response_description="A JSON Web Key Set",
)
async def jwks(identity: Identity) -> Response:
    return jwks_response(identity)


@web.get("/.well-known/jwks.json")
async def root_jwks(identity: Identity) -> Response:
    return jwks_response(identity)


SIGN_UP_ACCEPTED = (
    "Check your mailbox: we sent a message to this address. Open its link to confirm the "
    "address, then sign in."
)


@router.post(
    "/register",
    status_code=202,
    summary="Sign up: create a tenant and its first admin, who confirms their address by mail",
    description=(
        "Answers 202 with the same body whether or not the address has an account, so sign-up "
        "does not tell who has one. A new address gets the tenant, its admin and a mail with a "
        "confirmation link; an address with an account gets a mail saying someone tried. "
        "Sign in with `POST /login` (an unconfirmed owner can, but the tenant sends no "
        "invitations or other mail until the address is confirmed: 403 "
        "`identity.email_unverified`)."
    ),
    responses={
        422: {"description": "Weak password or invalid input"},
        429: {"description": "Too many sign-ups from this client address (see Retry-After)"},
    },
)
async def register(
    payload: RegisterRequest, request: Request, session: DbSession, identity: Identity
) -> SignUpAccepted:
    await registration.request_sign_up(
        session,
        identity=identity,
        email=payload.email,
        password=payload.password,
        full_name=payload.full_name,
        tenant_name=payload.tenant_name,
        ip=client_ip(request),
    )
    return SignUpAccepted(detail=SIGN_UP_ACCEPTED)


@router.post(
    "/login",
    summary="Log in with e-mail and password (step 1 of 2 with two-factor auth)",
    description=(
        "Answers the token pair. For an account with two-factor authentication the answer is "
        "401 `identity.mfa_required` carrying a single-use `mfa_token` (valid five minutes): "
        "send it with the code to `POST /login/mfa`. A `totp_code` sent here signs in in one "
        "request. A successful login sets the `bizosaas_device` cookie: sent back with later "
        "logins it shows the client signed in to the account before, so failed logins from "
        "elsewhere do not hold it back. After a few failed logins an account (or a client "
        "address) must wait before its next attempt (1 s, 2 s, 4 s ... up to a cap): "
        "429 `identity.login_throttled` with Retry-After until then."
    ),
    responses={
        **PROBLEM_401,
        429: {"description": "Too many failed logins (see Retry-After)"},
    },
)
async def login(
    payload: LoginRequest,
    request: Request,
    response: Response,
    session: DbSession,
    identity: Identity,
) -> TokenPair:
    device = presented_device(request)
    outcome = await password_login.authenticate_password(
        session,
        identity=identity,
        email=payload.email,
        password=payload.password,
        tenant_slug=payload.tenant,
        totp_code=payload.totp_code,
        ip=client_ip(request),
        user_agent=user_agent(request),
        device=device,
    )
    if isinstance(outcome, MfaChallenge):
        # The challenge row must outlive this 401 answer.
        await commit_before_failing(session)
        raise MfaRequired(
            "Send the code from your authenticator app with `mfa_token` to /login/mfa.",
            **outcome.model_dump(),
        )
    keep_device(identity, response, device)
    return outcome


@router.post(
    "/login/mfa",
    summary="Complete a login with the two-factor code (step 2 of 2)",
    description=(
        "Takes the `mfa_token` of the 401 `identity.mfa_required` answer and an authenticator "
        "or recovery code. A wrong code answers 401 `identity.invalid_mfa_code` with "
        "`attempts_left`; after five the challenge is dead. An unknown, expired, used or dead "
        "challenge answers 401 `identity.mfa_challenge_invalid`: log in with the password again."
    ),
    responses={
        **PROBLEM_401,
        429: {"description": "Too many failed logins (see Retry-After)"},
    },
)
async def login_mfa(
    payload: MfaLoginRequest,
    request: Request,
    response: Response,
    session: DbSession,
    identity: Identity,
) -> TokenPair:
    device = presented_device(request)
    tokens = await mfa_login.complete_mfa_login(
        session,
        identity=identity,
        challenge_token=payload.mfa_token,
        code=payload.code,
        tenant_slug=payload.tenant,
        ip=client_ip(request),
        user_agent=user_agent(request),
        device=device,
    )
    keep_device(identity, response, device)
    return tokens


@router.post("/refresh", summary="Rotate a refresh token", responses=PROBLEM_401)
async def refresh(payload: RefreshRequest, session: DbSession, identity: Identity) -> TokenPair:
    return await rotation.refresh(session, identity=identity, refresh_token=payload.refresh_token)


@router.post("/logout", status_code=204, summary="End this session", responses=PROBLEM_401)
async def logout(principal: CurrentUser, session: DbSession, identity: Identity) -> Response:
    assert principal.session_id is not None
    await user_sessions.logout(
        session, identity=identity, user_id=principal.subject, session_id=principal.session_id
    )
    return Response(status_code=204)


@router.post(
    "/logout-all", status_code=204, summary="End every session of this user", responses=PROBLEM_401
)
async def logout_all(principal: CurrentUser, session: DbSession, identity: Identity) -> Response:
    await user_sessions.logout_all(session, identity=identity, user_id=principal.subject)
    return Response(status_code=204)


@router.get("/me", summary="Who am I", responses=PROBLEM_401)
async def me(principal: CurrentUser, session: ReadSession) -> Me:
    return await profile.me(
        session,
        user_id=principal.subject,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        session_id=principal.session_id,
        roles=list(principal.roles),
        permissions=list(principal.permissions),
    )


@router.post(
    "/switch-tenant",
    summary="Tokens for another of my tenants (this session ends)",
    responses={**PROBLEM_401, 404: {"description": "Not a member of that tenant"}},
)
async def switch_tenant(
    payload: SwitchTenantRequest,
    principal: CurrentUser,
    request: Request,
    session: DbSession,
    identity: Identity,
) -> TokenPair | BrowserSession:
    assert principal.session_id is not None
    return await tenant_switch.switch_tenant(
        session,
        identity=identity,
        user_id=principal.subject,
        session_id=principal.session_id,
        tenant=payload.tenant,
        ip=client_ip(request),
        user_agent=user_agent(request),
    )


@router.get("/sessions", summary="My active sessions", responses=PROBLEM_401)
async def sessions(principal: CurrentUser, session: ReadSession) -> list[SessionRead]:
    rows = await user_sessions.list_sessions(session, user_id=principal.subject)
    return [
        SessionRead.model_validate(row).model_copy(
            update={"current": row.id == principal.session_id}
        )
        for row in rows
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    summary="End one of my sessions",
    responses={**PROBLEM_401, 404: {"description": "No such session of mine"}},
)
async def revoke_session(
    session_id: uuid.UUID, principal: CurrentUser, session: DbSession, identity: Identity
) -> Response:
    await user_sessions.revoke_session(
        session, identity=identity, user_id=principal.subject, session_id=session_id
    )
    return Response(status_code=204)


router.include_router(account_router)
router.include_router(tenant_router)
router.include_router(admin_router)
