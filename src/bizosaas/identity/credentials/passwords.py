"""Password hashing (Argon2id, off the event loop) and the password policy.

Hashes use the configured Argon2id parameters (OWASP minimum by default: m=19 MiB, t=2,
p=1). A hash made with other parameters still verifies, and is replaced by a fresh hash on the
next successful login. Unknown accounts are verified against a dummy hash so a login for an
address that does not exist takes as long as one that does.
"""

from __future__ import annotations

import asyncio
import unicodedata
from functools import lru_cache
from importlib import resources

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from bizosaas.identity.exceptions import WeakPassword

MAX_PASSWORD_LENGTH = 256


class Passwords:
    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),)
        )
        self._dummy_hash = self._hash.hash("not a password: makes unknown accounts slow too")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(valid, new_hash): new_hash is set when the stored hash should be upgraded."""
        if password_hash is None:
            await asyncio.to_thread(self._hash.verify, password, self._dummy_hash)
            return False, None
        return await asyncio.to_thread(self._hash.verify_and_update, password, password_hash)

    async def burn(self, password: str) -> None:
        """Spend the time of one verification (for accounts that do not exist)."""
        await asyncio.to_thread(self._hash.verify, password, self._dummy_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (
        resources.files("bizosaas.identity.credentials")
        .joinpath("common_passwords.txt")
        .read_text("utf-8")
    )
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_password_policy(password: str, *, min_length: int, email: str | None = None) -> str:
    """Return the normalised password or raise `WeakPassword` saying what to change.

    NIST SP 800-63B rules: a minimum length, a generous maximum, no composition rules, and a
    check against passwords known from breaches (a list shipped with the package, checked
    offline), plus the account's own e-mail address.
    """
    normalised = _normalise(password)
    if len(normalised) < min_length:
        raise WeakPassword(f"Use at least {min_length} characters.", reason="too_short")
    if len(normalised) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.", reason="too_long")
    lowered = normalised.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        raise WeakPassword(
            "This password is too common: it appears in lists of breached passwords.",
            reason="common",
        )
    if email:
        local = email.split("@", 1)[0].lower()
        if lowered == email.lower() or (len(local) >= 4 and lowered.startswith(local)):
            raise WeakPassword("Do not base the password on your e-mail address.", reason="email")
    return normalised
