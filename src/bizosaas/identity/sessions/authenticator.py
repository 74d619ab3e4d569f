"""The gateway's `kit.auth.Authenticator`: access tokens, API keys and the browser cookie.

* `Authorization: Bearer <JWT>`: signature, expiry and issuer checked with the local key store,
  then the session must still be alive (`SessionGuard`, at most 0.5 s stale across processes).
* `Authorization: Bearer bzk_...` or `X-API-Key: bzk_...`: an API key, found in its tenant
  (named in the key), proved by its hash, not revoked or expired, tenant active.
* Cookie `bizosaas_session`: a browser session, resolved to the same principal a token of that
  session would give; the principal is remembered briefly, the session check is the same.

Client-supplied tenant headers play no part: the tenant is the verified credential's.
"""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import Request

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.api_keys import parse_api_key
from bizosaas.identity.credentials.tokens import API_KEY_PREFIX, COOKIE_PREFIX, hash_secret
from bizosaas.identity.exceptions import InvalidAccessCredential, SessionRevoked
from bizosaas.identity.models import (
    SessionChannel,
    TenantStatus,
    api_key_status,
)
from bizosaas.identity.repository import accounts, auth_sessions, credentials
from bizosaas.kit.auth import Principal, PrincipalKind
from bizosaas.kit.db import Database, utcnow
from bizosaas.kit.jwks import InvalidToken
from bizosaas.kit.permissions import SUPER_ADMIN_ROLE, PermissionCatalogue
from bizosaas.kit.tenancy import bind_tenant, trusted_scope

SESSION_COOKIE = "bizosaas_session"
API_KEY_HEADER = "x-api-key"
LAST_USED_RESOLUTION = timedelta(seconds=60)
_PRINCIPAL_CACHE_SECONDS = 5.0
_MAX_CACHED = 10_000


class IdentityAuthenticator:
    def __init__(
        self, identity: IdentityContext, database: Database, permissions: PermissionCatalogue
    ) -> None:
        self._identity = identity
        self._database = database
        self._permissions = permissions
        self._cookie_principals: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, request: Request) -> Principal | None:
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            credential = credential.strip()
            if scheme.lower() != "bearer" or not credential:
                raise InvalidAccessCredential("Use `Authorization: Bearer <token>`.")
            if credential.startswith(API_KEY_PREFIX):
                return await self.api_key_principal(credential)
            return await self.token_principal(credential)
        api_key = request.headers.get(API_KEY_HEADER)
        if api_key:
            return await self.api_key_principal(api_key.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self.cookie_principal(cookie)
        return None

    async def token_principal(self, token: str) -> Principal:
        try:
            principal = self._identity.verifier.verify(token)
        except InvalidToken as error:
            raise InvalidAccessCredential(
                f"The access token is not valid ({error}).",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        assert principal.session_id is not None
        if not await self._identity.guard.is_active(principal.session_id):
            raise SessionRevoked(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return principal

    async def cookie_principal(self, cookie: str) -> Principal | None:
        if not cookie.startswith(COOKIE_PREFIX):
            return None
        key = hash_secret(cookie)
        cached = self._cookie_principals.get(key)
        principal = cached[1] if cached and cached[0] > time.monotonic() else None
        if principal is None:
            principal = await self._load_cookie_principal(key)
            if principal is None:
                self._cookie_principals.pop(key, None)
                return None
            if len(self._cookie_principals) >= _MAX_CACHED:
                self._cookie_principals.clear()
            self._cookie_principals[key] = (time.monotonic() + _PRINCIPAL_CACHE_SECONDS, principal)
        assert principal.session_id is not None
        if not await self._identity.guard.is_active(principal.session_id):
            self._cookie_principals.pop(key, None)
            return None
        return principal

    async def _load_cookie_principal(self, cookie_hash: str) -> Principal | None:
        async with self._database.sessionmaker() as session:
            row = await auth_sessions.browser_session_by_cookie(session, cookie_hash=cookie_hash)
            if row is None:
                return None
            auth_session, user = row
            if (
                auth_session.revoked_at is not None
                or auth_session.expires_at <= utcnow()
                or not user.is_active
            ):
                return None
            roles: list[str] = []
            if auth_session.tenant_id is not None:
                member = await accounts.active_tenant_membership(
                    session, user_id=user.id, tenant_id=auth_session.tenant_id
                )
                if member is None:
                    return None
                roles = [member.role]
        all_roles = frozenset(roles) | ({SUPER_ADMIN_ROLE} if user.is_super_admin else set())
        return Principal(
            subject=user.id,
            kind=PrincipalKind.user,
            scope=trusted_scope(auth_session.tenant_id) if auth_session.tenant_id else None,
            roles=all_roles,
            permissions=self._permissions.permissions_for(roles),
            session_id=auth_session.id,
            is_super_admin=user.is_super_admin,
            # `exp` as in a token: when the credential stops being valid (the realtime hub
            # closes the socket then).
            claims={
                "channel": SessionChannel.browser.value,
                "exp": auth_session.expires_at.timestamp(),
            },
        )

    async def api_key_principal(self, key: str) -> Principal:
        tenant_id = parse_api_key(key) if key.startswith(API_KEY_PREFIX) else None
        if tenant_id is None:
            raise InvalidAccessCredential("The API key is not valid.")
        now = utcnow()
        async with self._database.unit_of_work() as session:
            # The tenant named in the key only narrows the search; the hash proves the key.
            scope = trusted_scope(tenant_id)
            await bind_tenant(session, scope)
            row = await credentials.api_key_by_hash(session, scope=scope, key_hash=hash_secret(key))
            if row is None:
                raise InvalidAccessCredential("The API key is not valid.")
            api_key, tenant_status = row
            if (
                api_key_status(api_key.revoked_at, api_key.expires_at, now) != "active"
                or tenant_status != TenantStatus.active.value
            ):
                raise InvalidAccessCredential("The API key is revoked or expired.")
            if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
                api_key.last_used_at = now
            principal = Principal(
                subject=api_key.id,
                kind=PrincipalKind.api_key,
                scope=trusted_scope(api_key.tenant_id),
                permissions=frozenset(api_key.permissions),
                claims={"created_by": str(api_key.created_by), "name": api_key.name},
            )
        return principal
