"""Access tokens (EdDSA JWTs with `kid`) and the opaque secrets (refresh tokens, cookies,
API keys, one-time links).

The claims, their checks and the `Principal` they make are shared with every other verifier
(kit/jwks.py); `LocalVerifier` checks a token with the key store directly (the gateway and
in-process modules), and derives permissions through the process's permission catalogue.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from bizosaas.identity.credentials.keys import KeyStore
from bizosaas.kit.auth import Principal
from bizosaas.kit.jwks import ALGORITHM, AUDIENCE, decode_claims, kid_of, principal_from_claims

# Shared with every verifier (kit/jwks.py); importable here as before.
from bizosaas.kit.jwks import InvalidToken as InvalidToken  # noqa: PLC0414
from bizosaas.kit.permissions import PermissionCatalogue

REFRESH_PREFIX = "bzr_"
COOKIE_PREFIX = "bzs_"
API_KEY_PREFIX = "bzk_"
INVITATION_PREFIX = "bzi_"
ONE_TIME_PREFIX = "bzt_"
MFA_CHALLENGE_PREFIX = "bzm_"
_MAX_REMEMBERED_TOKENS = 50_000


def new_secret(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """Opaque secrets are 256-bit random values: a fast hash is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int
    jti: str


def issue_access_token(
    keys: KeyStore,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    roles: list[str],
    session_id: uuid.UUID,
    super_admin: bool,
    ttl: int,
    issuer: str,
) -> AccessToken:
    now = int(time.time())
    jti = uuid.uuid4().hex
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "tid": str(tenant_id) if tenant_id else None,
        "roles": roles,
        "sid": str(session_id),
        "sa": super_admin,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
    }
    key = keys.current
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return AccessToken(token=token, expires_in=ttl, jti=jti)


class LocalVerifier:
    """Verify access tokens with the local key store.

    A verified token is remembered until its `exp` (the signature check is most of an
    authenticated request's own cost, and a client sends the same token for minutes): a
    remembered token is accepted only while its key is still published and before its
    expiry, so a retired key or an expired token is refused as if never seen. Session
    revocation is not the verifier's concern: the session guard checks it on every request.
    """

    def __init__(
        self,
        keys: KeyStore,
        *,
        permissions: PermissionCatalogue,
        issuer: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._permissions = permissions
        self._issuer = issuer
        self._clock = clock
        self._verified: dict[str, tuple[float, str, Principal]] = {}

    def claims(self, token: str) -> dict[str, Any]:
        key = self._keys.public_key(kid_of(token))
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        return decode_claims(token, key, self._issuer)

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            expires_at, kid, principal = remembered
            if self._clock() < expires_at and self._keys.still_publishes(kid):
                return principal
            del self._verified[token]
        claims = self.claims(token)
        principal = principal_from_claims(claims, self._permissions)
        if len(self._verified) >= _MAX_REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (float(claims["exp"]), kid_of(token), principal)
        return principal
