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
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.tokens import hash_secret
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import (
    InvalidCredentials,
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnrolled,
    UserNotFound,
)
from bizosaas.identity.models import RecoveryCode, User
from bizosaas.identity.records import audit
from bizosaas.identity.repository import accounts, credentials
from bizosaas.identity.schemas import RecoveryCodes, TotpEnrolment
from bizosaas.kit import crypto
from bizosaas.kit.crypto import Keyring
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
    user = await accounts.user_by_id(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    return user


def totp_associated_data(user_id: uuid.UUID) -> bytes:
    return b"users.totp_secret:" + user_id.bytes


def _seal(data_keys: Keyring, user: User, secret: str) -> str:
    return data_keys.encrypt(secret, associated_data=totp_associated_data(user.id))


def totp_secret(user: User, *, data_keys: Keyring) -> str | None:
    """The user's TOTP secret in clear; a legacy plain-text one is encrypted in place."""
    stored = user.totp_secret
    if stored is None:
        return None
    if not crypto.is_sealed(stored):
        user.totp_secret = _seal(data_keys, user, stored)
        return stored
    return data_keys.decrypt(stored, associated_data=totp_associated_data(user.id))


async def seal_plain_secrets(session: AsyncSession, *, data_keys: Keyring) -> int:
    """Encrypt every TOTP secret still stored in plain text (kept by an older version); safe to
    run in several processes at once. Answers how many were sealed."""
    sealed = 0
    for user_id, secret in await credentials.plain_totp_secrets(session):
        if secret is None:
            continue
        sealed += await credentials.replace_totp_secret(
            session,
            user_id=user_id,
            stored=secret,
            replacement=data_keys.encrypt(secret, associated_data=totp_associated_data(user_id)),
        )
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
    session: AsyncSession, *, data_keys: Keyring, user: User, code: str
) -> Literal["totp", "recovery"] | None:
    """Check a TOTP code or a recovery code for `user`, spending it; None when neither."""
    secret = totp_secret(user, data_keys=data_keys)
    if secret is None:
        return None
    step = _matching_step(secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return None
        user.totp_last_step = step
        return "totp"
    spent = await credentials.spend_recovery_code(
        session, user_id=user.id, code_hash=hash_secret(_normalise_recovery(code))
    )
    return "recovery" if spent else None


async def enrol_totp(
    session: AsyncSession, *, identity: IdentityContext, user_id: object
) -> TotpEnrolment:
    user = await _user(session, user_id)
    if user.totp_enabled_at is not None:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    user.totp_secret = _seal(identity.data_keys, user, secret)
    user.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=_qr_svg(uri))


async def _new_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    await credentials.delete_recovery_codes(session, user_id=user.id)
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
    identity: IdentityContext,
    user_id: object,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> RecoveryCodes:
    user = await _user(session, user_id)
    if user.totp_enabled_at is not None:
        raise MfaAlreadyEnabled()
    secret = totp_secret(user, data_keys=identity.data_keys)
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
    identity: IdentityContext,
    user_id: object,
    password: str,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> None:
    user = await _user(session, user_id)
    if user.totp_enabled_at is None:
        raise MfaNotEnrolled()
    valid, _ = await identity.passwords.verify(password, user.password_hash)
    if not valid:
        raise InvalidCredentials("The password is wrong.")
    if (
        await verify_second_factor(session, data_keys=identity.data_keys, user=user, code=code)
        is None
    ):
        raise InvalidMfaCode()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await credentials.delete_recovery_codes(session, user_id=user.id)
    await _audit(session, user, AuditAction.mfa_disabled, tenant_id, ip)


async def regenerate_recovery_codes(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    user_id: object,
    code: str,
    tenant_id: uuid.UUID | None = None,
    ip: str | None = None,
) -> RecoveryCodes:
    user = await _user(session, user_id)
    if user.totp_enabled_at is None:
        raise MfaNotEnrolled()
    if (
        await verify_second_factor(session, data_keys=identity.data_keys, user=user, code=code)
        is None
    ):
        raise InvalidMfaCode()
    codes = await _new_recovery_codes(session, user)
    await _audit(session, user, AuditAction.mfa_recovery_regenerated, tenant_id, ip)
    return RecoveryCodes(recovery_codes=codes)


async def remaining_recovery_codes(session: AsyncSession, *, user_id: object) -> int:
    return await credentials.count_unused_recovery_codes(session, user_id=user_id)
