"""TOTP two-factor authentication (RFC 6238) with single-use recovery codes.

Enrolment stores a new secret and answers the otpauth URI (and a QR code of it); the factor is
on only after the user confirms one code. The secret is stored encrypted (AES-GCM under the
data-encryption key, bound to the user's id: kit/crypto.py); a secret stored in plain text by an
older version is encrypted at the module's start or, failing that, the next time it is used.
Each code is accepted once (the last used time step is kept), with one step of clock drift
either way. Ten recovery codes are issued on confirmation, stored hashed, each usable once in
place of a code.
"""

from __future__ import annotations

import io
import secrets
import time
import uuid
from typing import Literal

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import audit, runtime
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import (
    InvalidCredentials,
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnrolled,
    UserNotFound,
)
from bizosaas.identity.models import RecoveryCode, User
from bizosaas.identity.schemas import RecoveryCodes, TotpEnrolment
from bizosaas.identity.tokens import hash_secret
from bizosaas.kit import crypto
from bizosaas.kit.db import utcnow

ISSUER = "BizOSaaS"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


def _normalise_recovery(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


async def _user(session: AsyncSession, user_id: object) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def totp_associated_data(user_id: uuid.UUID) -> bytes:
    return b"users.totp_secret:" + user_id.bytes


def _seal(user: User, secret: str) -> str:
    return runtime.current().data_keys.encrypt(
        secret, associated_data=totp_associated_data(user.id)
    )


def totp_secret(user: User) -> str | None:
    """The user's TOTP secret in clear; a legacy plain-text one is encrypted in place."""
    stored = user.totp_secret
    if stored is None:
        return None
    if not crypto.is_sealed(stored):
        user.totp_secret = _seal(user, stored)
        return stored
    return runtime.current().data_keys.decrypt(
        stored, associated_data=totp_associated_data(user.id)
    )


async def seal_plain_secrets(session: AsyncSession) -> int:
    """Encrypt every TOTP secret still stored in plain text (kept by an older version); safe to
    run in several processes at once. Answers how many were sealed."""
    keys = runtime.current().data_keys
    rows = await session.execute(
        select(User.id, User.totp_secret).where(
            User.totp_secret.is_not(None), User.totp_secret.not_like(f"{crypto.SCHEME}:%")
        )
    )
    sealed = 0
    for user_id, secret in rows.all():
        if secret is None:
            continue
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.totp_secret == secret)
            .values(totp_secret=keys.encrypt(secret, associated_data=totp_associated_data(user_id)))
            .execution_options(synchronize_session=False)
        )
        sealed += getattr(result, "rowcount", 0)
    return sealed


def _matching_step(secret: str, code: str) -> int | None:
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = time.time()
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if secrets.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


async def verify_second_factor(
    session: AsyncSession, *, user: User, code: str
) -> Literal["totp", "recovery"] | None:
    """Check a TOTP code or a recovery code for `user`, spending it; None when neither."""
    secret = totp_secret(user)
    if secret is None:
        return None
    step = _matching_step(secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None
        user.totp_last_step = step
        return "totp"
    spent = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_secret(_normalise_recovery(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return "recovery" if getattr(spent, "rowcount", 0) == 1 else None


async def enrol_totp(session: AsyncSession, *, user_id: object) -> TotpEnrolment:
    user = await _user(session, user_id)
    if user.totp_enabled_at is not None:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    user.totp_secret = _seal(user, secret)
    user.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=_qr_svg(uri))


async def _new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_secret(_normalise_recovery(code)))
        for code in codes
    )
    await session.flush()
    return codes


async def _audit(
    session: AsyncSession,
    user: User,
    action: AuditAction,
    tenant_id: uuid.UUID | None,
    ip: str | None,
) -> None:
    if tenant_id is not None:
        await audit.record(session, tenant_id=tenant_id, action=action, actor_id=user.id, ip=ip)


async def confirm_totp(
    session: AsyncSession,
    *,
    user_id: object,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> RecoveryCodes:
    user = await _user(session, user_id)
    if user.totp_enabled_at is not None:
        raise MfaAlreadyEnabled()
    secret = totp_secret(user)
    if secret is None:
        raise MfaNotEnrolled("Start with enrolment to get a secret.")
    step = _matching_step(secret, code)
    if step is None:
        raise InvalidMfaCode()
    user.totp_last_step = step
    user.totp_enabled_at = utcnow()
    codes = await _new_recovery_codes(session, user)
    await _audit(session, user, AuditAction.mfa_enabled, tenant_id, ip)
    return RecoveryCodes(recovery_codes=codes)


async def disable_totp(
    session: AsyncSession,
    *,
    user_id: object,
    password: str,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> None:
    user = await _user(session, user_id)
    if user.totp_enabled_at is None:
        raise MfaNotEnrolled()
    valid, _ = await runtime.current().passwords.verify(password, user.password_hash)
    if not valid:
        raise InvalidCredentials("The password is wrong.")
    if await verify_second_factor(session, user=user, code=code) is None:
        raise InvalidMfaCode()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await _audit(session, user, AuditAction.mfa_disabled, tenant_id, ip)


async def regenerate_recovery_codes(
    session: AsyncSession,
    *,
    user_id: object,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> RecoveryCodes:
    user = await _user(session, user_id)
    if user.totp_enabled_at is None:
        raise MfaNotEnrolled()
    if await verify_second_factor(session, user=user, code=code) is None:
        raise InvalidMfaCode()
    codes = await _new_recovery_codes(session, user)
    await _audit(session, user, AuditAction.mfa_recovery_regenerated, tenant_id, ip)
    return RecoveryCodes(recovery_codes=codes)


async def remaining_recovery_codes(session: AsyncSession, *, user_id: object) -> int:
    rows = await session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
        )
    )
    return len(rows.all())
