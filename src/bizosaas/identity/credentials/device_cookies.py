"""Device cookies: a browser (or API client) that has signed in to an account before proves it
at the next login, and is then not held back by that account's login throttle.

As in OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a successful login
leaves a token naming the account and a random device id, sealed with the data-encryption keys
(kit/crypto.py: authenticated, so it cannot be forged or moved to another account, and
readable by every process of a scaled deployment). A guesser somewhere else can make the
account wait, but its owner, on a device they used before, still signs in with the right
password. A device token that fails too often loses that exemption (the throttle counts
failures per device id).

One cookie holds the tokens of the last few accounts signed in from the browser, newest
first, so a shared computer keeps them all.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from bizosaas.kit.crypto import DecryptionFailed, Keyring

DEVICE_COOKIE = "bizosaas_device"
MAX_ACCOUNTS = 4
MAX_COOKIE_LENGTH = 1200
_PURPOSE = b"bizosaas-device-cookie"
_SEPARATOR = "."


@dataclass(slots=True)
class LoginDevice:
    """The device cookie a login request came with (`presented`) and, once the login has
    succeeded, the cookie to send back (`renewed`)."""

    presented: str | None = None
    renewed: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceToken:
    user_id: uuid.UUID
    device_id: str
    issued_at: float


def _seal(keys: Keyring, token: DeviceToken) -> str:
    plain = f"{token.user_id}|{token.device_id}|{token.issued_at:.0f}"
    return keys.encrypt(plain, associated_data=_PURPOSE)


def _open(keys: Keyring, sealed: str) -> DeviceToken | None:
    try:
        user, device, issued = keys.decrypt(sealed, associated_data=_PURPOSE).split("|")
        return DeviceToken(uuid.UUID(user), device, float(issued))
    except (DecryptionFailed, ValueError):
        return None


def _tokens(keys: Keyring, cookie: str | None, *, now: float, ttl: float) -> list[DeviceToken]:
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
        return []
    opened = (_open(keys, part) for part in cookie.split(_SEPARATOR)[:MAX_ACCOUNTS])
    return [t for t in opened if t is not None and 0 <= now - t.issued_at < ttl]


def device_for(
    keys: Keyring, cookie: str | None, *, user_id: uuid.UUID, now: float, ttl: float
) -> str | None:
    """The device id the cookie holds for this account, if it holds a valid one."""
    for token in _tokens(keys, cookie, now=now, ttl=ttl):
        if token.user_id == user_id:
            return token.device_id
    return None


def renewed(
    keys: Keyring,
    cookie: str | None,
    *,
    user_id: uuid.UUID,
    device_id: str | None,
    now: float,
    ttl: float,
) -> str:
    """The cookie after a successful login: a fresh token for this account (keeping its
    device id, so failures counted against the device stay with it) ahead of the others'."""
    others = [t for t in _tokens(keys, cookie, now=now, ttl=ttl) if t.user_id != user_id]
    fresh = DeviceToken(user_id, device_id or secrets.token_urlsafe(12), now)
    return _SEPARATOR.join(_seal(keys, t) for t in [fresh, *others][:MAX_ACCOUNTS])
