"""Access tokens (EdDSA JWTs with `kid`) and the opaque secrets (refresh tokens, cookies,
API keys, one-time links).

Access token claims: `iss`, `aud` ("bizosaas"), `sub` (user id), `tid` (tenant id or null for
a platform-level super admin), `roles`, `sid` (session id), `sa` (super admin), `iat`, `exp`,
`jti`. Permissions are not in the token: every verifier derives them from `roles` through the
one permission matrix.

Two verifiers turn a token into a `kit.auth.Principal`:
* `LocalVerifier` uses the key store directly (the gateway and in-process modules).
* `JwksVerifier` needs nothing but the JWKS URL (split-mode services, other languages do the
  same with any JOSE library). It caches the document and fetches it again when a token names
  an unknown `kid`. It checks signature and expiry only: a split-mode service that cannot reach
  the session store (Redis) accepts a token of a revoked session until the token expires,
  which is why access tokens live 5 minutes by default. Session revocation is enforced by the
  gateway's authenticator within one second.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from bizosaas.identity.credentials.keys import ALGORITHM, KeyStore
from bizosaas.identity.models import SUPER_ADMIN_ROLE
from bizosaas.identity.permissions import permissions_for
from bizosaas.kit.auth import Principal, PrincipalKind
from bizosaas.kit.tenancy import trusted_scope

AUDIENCE = "bizosaas"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "aud"]
LEEWAY_SECONDS = 5

REFRESH_PREFIX = "bzr_"
COOKIE_PREFIX = "bzs_"
API_KEY_PREFIX = "bzk_"
INVITATION_PREFIX = "bzi_"
ONE_TIME_PREFIX = "bzt_"
MFA_CHALLENGE_PREFIX = "bzm_"


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired or signed by an unknown key."""


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


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        subject = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
        tenant = claims.get("tid")
        tenant_id = uuid.UUID(str(tenant)) if tenant else None
        roles = frozenset(str(role) for role in claims.get("roles") or [])
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidToken("token claims are malformed") from error
    super_admin = claims.get("sa") is True
    all_roles = roles | {SUPER_ADMIN_ROLE} if super_admin else roles
    return Principal(
        subject=subject,
        kind=PrincipalKind.user,
        scope=trusted_scope(tenant_id) if tenant_id else None,
        roles=all_roles,
        permissions=permissions_for(roles),
        session_id=session_id,
        is_super_admin=super_admin,
        claims=claims,
    )


def _kid_of(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken("not a JWT") from error
    kid = header.get("kid")
    if not isinstance(kid, str) or header.get("alg") != ALGORITHM:
        raise InvalidToken("token must be EdDSA-signed and name its key")
    return kid


def _decode(token: str, key: Ed25519PublicKey, issuer: str | None) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidToken("token expired") from error
    except jwt.PyJWTError as error:
        raise InvalidToken("token is not valid") from error
    return claims


class LocalVerifier:
    def __init__(self, keys: KeyStore, *, issuer: str | None = None) -> None:
        self._keys = keys
        self._issuer = issuer

    def claims(self, token: str) -> dict[str, Any]:
        key = self._keys.public_key(_kid_of(token))
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        return _decode(token, key, self._issuer)

    def verify(self, token: str) -> Principal:
        return principal_from_claims(self.claims(token))


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksVerifier:
    """Verify access tokens with only the JWKS document (no database, no shared secret).

    `JwksVerifier(url="https://gateway.example/.well-known/jwks.json")`; the document is cached
    for `max_age` seconds and fetched again at once (at most every `min_refetch_interval`
    seconds) when a token names a `kid` the cache does not hold, which is how a key rotation
    reaches every service.
    """

    def __init__(
        self,
        *,
        url: str,
        issuer: str | None = None,
        max_age: float = 300.0,
        min_refetch_interval: float = 1.0,
        fetch: JwksFetcher | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self._issuer = issuer
        self._max_age = max_age
        self._min_refetch_interval = min_refetch_interval
        self._fetch = fetch or self._http_fetch
        self._timeout = timeout
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _http_fetch(self) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(self.url, headers={"accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            document: dict[str, Any] = await response.json(content_type=None)
            return document

    async def refresh(self) -> None:
        document = await self._fetch()
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "kid" not in jwk:
                continue
            public = OKPAlgorithm.from_jwk(jwk)
            if isinstance(public, Ed25519PublicKey):
                keys[str(jwk["kid"])] = public
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def _key(self, kid: str) -> Ed25519PublicKey | None:
        age = time.monotonic() - self._fetched_at
        if kid in self._keys and age < self._max_age:
            return self._keys[kid]
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = age >= self._max_age
            if stale or (kid not in self._keys and age >= self._min_refetch_interval):
                await self.refresh()
        return self._keys.get(kid)

    async def claims(self, token: str) -> dict[str, Any]:
        key = await self._key(_kid_of(token))
        if key is None:
            raise InvalidToken("token signed by an unknown key")
        return _decode(token, key, self._issuer)

    async def verify(self, token: str) -> Principal:
        return principal_from_claims(await self.claims(token))
