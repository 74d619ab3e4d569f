"""Identity API: password, e-mail verification and two-factor endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.identity.auth import CurrentUser, Identity, client_ip
from bizosaas.identity.credentials import totp
from bizosaas.identity.membership import account
from bizosaas.identity.schemas import (
    EmailRequest,
    PasswordChange,
    PasswordResetConfirm,
    RecoveryCodes,
    TokenConfirm,
    TotpCode,
    TotpDisable,
    TotpEnrolment,
)
from bizosaas.kit.deps import DbSession

router = APIRouter(tags=["identity: account"])


@router.post(
    "/password/change",
    status_code=204,
    summary="Change my password (my other sessions end)",
    responses={401: {"description": "Current password wrong"}, 422: {"description": "Weak"}},
)
async def change_password(
    payload: PasswordChange,
    principal: CurrentUser,
    request: Request,
    session: DbSession,
    identity: Identity,
) -> Response:
    await account.change_password(
        session,
        identity=identity,
        user_id=principal.subject,
        session_id=principal.session_id,
        current_password=payload.current_password,
        new_password=payload.new_password,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.post(
    "/password/reset/request",
    status_code=202,
    summary="E-mail a password reset link (same answer whether or not the account exists)",
)
async def request_password_reset(
    payload: EmailRequest, request: Request, session: DbSession, identity: Identity
) -> dict[str, str]:
    await account.request_password_reset(
        session, identity=identity, email=payload.email, ip=client_ip(request)
    )
    return {"detail": "If an account uses this address, a reset link is on its way."}


@router.post(
    "/password/reset/confirm",
    status_code=204,
    summary="Set a new password with a reset token (every session ends)",
    responses={400: {"description": "Token expired or used"}},
)
async def confirm_password_reset(
    payload: PasswordResetConfirm, request: Request, session: DbSession, identity: Identity
) -> Response:
    await account.confirm_password_reset(
        session,
        identity=identity,
        token=payload.token,
        new_password=payload.new_password,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.post("/email/verify/request", status_code=202, summary="Send me a verification link")
async def request_email_verification(
    principal: CurrentUser, session: DbSession, identity: Identity
) -> dict[str, bool]:
    sent = await account.request_email_verification(
        session, identity=identity, user_id=principal.subject
    )
    return {"sent": sent}


@router.post(
    "/email/verify/confirm",
    status_code=204,
    summary="Confirm an e-mail address with its token",
    responses={400: {"description": "Token expired or used"}},
)
async def verify_email(payload: TokenConfirm, session: DbSession) -> Response:
    await account.verify_email(session, token=payload.token)
    return Response(status_code=204)


@router.post(
    "/mfa/totp/enrol",
    summary="Start TOTP enrolment (secret, otpauth URI, QR code)",
    responses={409: {"description": "Two-factor authentication is already on"}},
)
async def enrol_totp(
    principal: CurrentUser, session: DbSession, identity: Identity
) -> TotpEnrolment:
    return await totp.enrol_totp(session, identity=identity, user_id=principal.subject)


@router.post(
    "/mfa/totp/confirm",
    summary="Turn TOTP on with a first code; answers the recovery codes (shown once)",
    responses={409: {"description": "Not enrolled, or already on"}},
)
async def confirm_totp(
    payload: TotpCode,
    principal: CurrentUser,
    request: Request,
    session: DbSession,
    identity: Identity,
) -> RecoveryCodes:
    return await totp.confirm_totp(
        session,
        identity=identity,
        user_id=principal.subject,
        code=payload.code,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        ip=client_ip(request),
    )


@router.post(
    "/mfa/totp/disable",
    status_code=204,
    summary="Turn TOTP off (password and code)",
    responses={409: {"description": "Two-factor authentication is not on"}},
)
async def disable_totp(
    payload: TotpDisable,
    principal: CurrentUser,
    request: Request,
    session: DbSession,
    identity: Identity,
) -> Response:
    await totp.disable_totp(
        session,
        identity=identity,
        user_id=principal.subject,
        password=payload.password,
        code=payload.code,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.post(
    "/mfa/recovery-codes",
    summary="Replace my recovery codes (needs a current code)",
    responses={409: {"description": "Two-factor authentication is not on"}},
)
async def regenerate_recovery_codes(
    payload: TotpCode,
    principal: CurrentUser,
    request: Request,
    session: DbSession,
    identity: Identity,
) -> RecoveryCodes:
    return await totp.regenerate_recovery_codes(
        session,
        identity=identity,
        user_id=principal.subject,
        code=payload.code,
        tenant_id=principal.scope.tenant_id if principal.scope else None,
        ip=client_ip(request),
    )
