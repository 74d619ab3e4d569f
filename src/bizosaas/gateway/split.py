"""Split mode: one module served as its own process (`bizosaas serve --only <module>`).

The process mounts just that module (plus health and metrics), verifies access tokens with
the gateway's JWKS (no database access to identity, no shared secret), and, with
`--register <gateway-url>`, registers itself with the gateway, heartbeats at a third of its
TTL and deregisters on shutdown. The gateway then routes `/api/brain/<module>/...` here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

import aiohttp
import structlog
from starlette.requests import Request

from bizosaas.identity.credentials.tokens import JwksVerifier
from bizosaas.kit.auth import Principal
from bizosaas.kit.errors import Unauthenticated
from bizosaas.kit.tasks import cancel_and_wait
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

JWKS_PATH = "/api/brain/auth/.well-known/jwks.json"
HEALTH_PATH = "/api/brain/health"


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


class BearerAuthenticator:
    """An `Authenticator` for split-mode services: the bearer token, checked by `verifier`."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def authenticate(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Send a bearer access token.")
        try:
            return await self._verifier.verify(token.strip())
        except Exception as error:  # the verifier's own error kinds: all mean "not valid"
            raise Unauthenticated(
                "The access token is not valid.", headers={"WWW-Authenticate": "Bearer"}
            ) from error


def jwks_url(settings: Settings) -> str | None:
    if settings.jwks_url:
        return settings.jwks_url
    if settings.register_url:
        return settings.register_url.rstrip("/") + JWKS_PATH
    return None


def split_authenticator(settings: Settings) -> BearerAuthenticator | None:
    """Identity's JWKS verifier behind the bearer scheme: signature and expiry are checked
    with the gateway's published keys (fetched again when a token names a new `kid`)."""
    url = jwks_url(settings)
    return BearerAuthenticator(JwksVerifier(url=url)) if url else None


def advertised_url(settings: Settings) -> str:
    base = settings.advertise_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/api/brain/{settings.serve_only}"


class Registrar:
    """Registers this process with the gateway and keeps the registration alive."""

    def __init__(self, settings: Settings) -> None:
        assert settings.register_url and settings.serve_only
        self._settings = settings
        self._gateway = settings.register_url.rstrip("/")
        self._ttl = settings.gateway_registry_ttl
        self._instance: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        token = self._settings.service_token
        return {"authorization": f"Bearer {token.get_secret_value()}"} if token else {}

    async def register(self) -> None:
        assert self._session is not None
        payload: dict[str, Any] = {
            "name": self._settings.serve_only,
            "url": advertised_url(self._settings),
            "health_path": HEALTH_PATH,
            "ttl": self._ttl,
        }
        async with self._session.post(
            f"{self._gateway}/api/brain/registry/services", json=payload, headers=self._headers()
        ) as response:
            if response.status != 201:
                raise RuntimeError(f"gateway refused registration: HTTP {response.status}")
            self._instance = (await response.json())["id"]
        log.info("split_registered", gateway=self._gateway, service=self._settings.serve_only)

    async def _heartbeat_loop(self) -> None:
        assert self._session is not None
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                if self._instance is None:
                    await self.register()
                    continue
                url = (
                    f"{self._gateway}/api/brain/registry/services/{self._settings.serve_only}"
                    f"/instances/{self._instance}/heartbeat"
                )
                async with self._session.put(url, headers=self._headers()) as response:
                    if response.status == 404:
                        await self.register()
            except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
                log.warning("split_heartbeat_failed", error=str(error))

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            await self.register()
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
            # The gateway may start later: keep trying in the background.
            log.warning("split_registration_failed", error=str(error))
        self._task = asyncio.create_task(self._heartbeat_loop(), name="split-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._session is not None:
            if self._instance is not None:
                url = (
                    f"{self._gateway}/api/brain/registry/services/{self._settings.serve_only}"
                    f"/instances/{self._instance}"
                )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with self._session.delete(url, headers=self._headers()):
                        pass
            await self._session.close()
