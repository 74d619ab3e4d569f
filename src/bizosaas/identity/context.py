"""The identity runtime of one process: signing and data-encryption keys, password hasher,
throttle, session guard.

The module's startup hook builds it and installs it; service functions reach it with
`current()`, so their signatures stay `fn(session, *, ...)` for every caller (routers, web
pages, CLI, seeding). One process serves one identity configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bizosaas.identity.keys import KeyStore
from bizosaas.identity.passwords import Passwords
from bizosaas.identity.sessions import SessionGuard
from bizosaas.identity.throttle import LoginThrottle
from bizosaas.identity.tokens import LocalVerifier
from bizosaas.kit.crypto import Keyring
from bizosaas.kit.db import Database
from bizosaas.kit.permissions import PermissionCatalogue
from bizosaas.settings import Settings


@dataclass
class IdentityRuntime:
    settings: Settings
    keys: KeyStore
    passwords: Passwords
    throttle: LoginThrottle
    guard: SessionGuard
    verifier: LocalVerifier
    data_keys: Keyring
    """Encrypts secrets kept at rest (TOTP secrets): see kit/crypto.py."""
    database: Database | None = None
    redis: Redis | None = None
    """When set, refresh tokens live in Redis (see rotation.py) and revocations are marked there."""

    @property
    def issuer(self) -> str:
        return self.settings.base_url


_current: IdentityRuntime | None = None


def build(
    settings: Settings,
    *,
    database: Database | None = None,
    redis: Redis | None = None,
    permissions: PermissionCatalogue | None = None,
) -> IdentityRuntime:
    """`permissions`: the process's catalogue (the platform's matrix alone when omitted, for
    code that verifies no tokens: the CLI, seeding)."""
    keys = KeyStore.open(settings.data_dir / "keys")
    return IdentityRuntime(
        settings=settings,
        keys=keys,
        passwords=passwords_for(settings),
        throttle=LoginThrottle(
            per_account=settings.login_limit_per_account,
            per_ip=settings.login_limit_per_ip,
            redis_url=settings.redis_url,
        ),
        guard=SessionGuard(
            database=database,
            redis=redis,
            interval=settings.session_check_interval,
            # A revocation marker must outlive every credential of the session it ends.
            marker_ttl=max(settings.refresh_token_ttl, settings.browser_session_ttl) + 60,
        ),
        verifier=LocalVerifier(
            keys, issuer=settings.base_url, permissions=permissions or PermissionCatalogue()
        ),
        data_keys=data_keys_for(settings),
        database=database,
        redis=redis,
    )


def data_keys_for(settings: Settings, *, create: bool = True) -> Keyring:
    """The data-encryption keys `settings` name: the setting, else `<data dir>/keys/` (where
    a first key is written unless `create` is false: see Keyring.open)."""
    configured = settings.data_encryption_key
    return Keyring.open(
        settings.data_dir / "keys",
        configured=configured.get_secret_value() if configured else None,
        create=create,
    )


_PASSWORDS: dict[tuple[int, int, int], Passwords] = {}


def passwords_for(settings: Settings) -> Passwords:
    params = (settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism)
    if params not in _PASSWORDS:
        _PASSWORDS[params] = Passwords(
            time_cost=params[0], memory_cost=params[1], parallelism=params[2]
        )
    return _PASSWORDS[params]


def installed() -> IdentityRuntime | None:
    return _current


def install(runtime: IdentityRuntime | None) -> None:
    global _current  # noqa: PLW0603 - the one process-wide runtime, set at startup
    _current = runtime


def current() -> IdentityRuntime:
    if _current is None:
        raise RuntimeError("the identity module has not started in this process")
    return _current


def ensure(settings: Settings, *, database: Database | None = None) -> IdentityRuntime:
    """The installed runtime, or a new one for code that runs without the gateway (the CLI,
    demo seeding)."""
    if _current is None:
        install(build(settings, database=database))
    return current()
