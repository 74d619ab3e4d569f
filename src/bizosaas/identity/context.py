"""The identity context of one process: settings, signing and data-encryption keys, password
hasher, login throttle, tenant quotas and session guard.

Identity's startup hook builds it from the process's `Services` and provides it as
`app.state.identity`; routers and pages receive it through the `Identity` dependency
(auth.py) and hand it to the use cases that need it as `identity=`. The CLI and demo seeding
build their own with `build(settings)`. Nothing here is process-global: two contexts (two
gateways in one test, say) never see each other's keys, throttle or guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bizosaas.identity.credentials.keys import KeyStore
from bizosaas.identity.credentials.passwords import Passwords
from bizosaas.identity.credentials.throttle import LoginThrottle
from bizosaas.identity.credentials.tokens import LocalVerifier
from bizosaas.identity.quotas import TenantQuotas
from bizosaas.identity.sessions.guard import SessionGuard
from bizosaas.kit.crypto import Keyring
from bizosaas.kit.db import Database
from bizosaas.kit.events import EventBus
from bizosaas.kit.jwks import LEEWAY_SECONDS
from bizosaas.kit.module import Services
from bizosaas.kit.permissions import PermissionCatalogue
from bizosaas.settings import Settings


@dataclass
class IdentityContext:
    settings: Settings
    keys: KeyStore
    passwords: Passwords
    throttle: LoginThrottle
    quotas: TenantQuotas
    """Per-tenant budgets of invitations and API keys (quotas.py)."""
    guard: SessionGuard
    verifier: LocalVerifier
    data_keys: Keyring
    """Encrypts secrets kept at rest (TOTP secrets): see kit/crypto.py."""
    permissions: PermissionCatalogue
    """The enabled modules' permissions and the role matrix (what tokens and keys may hold)."""
    database: Database | None = None
    redis: Redis | None = None
    """When set, refresh tokens live in Redis (see sessions/rotation.py) and revocations are
    marked there."""

    @property
    def issuer(self) -> str:
        return self.settings.base_url


def build(
    settings: Settings,
    *,
    database: Database | None = None,
    redis: Redis | None = None,
    permissions: PermissionCatalogue | None = None,
    bus: EventBus | None = None,
) -> IdentityContext:
    """`permissions`: the process's catalogue (the platform's matrix alone when omitted, for
    code that verifies no tokens: the CLI, seeding). `bus`: where ended sessions are announced
    (to the realtime hubs)."""
    keys = KeyStore.open(settings.data_dir / "keys")
    catalogue = permissions or PermissionCatalogue()
    return IdentityContext(
        settings=settings,
        keys=keys,
        passwords=passwords_for(settings),
        throttle=LoginThrottle.from_settings(settings, redis=redis),
        quotas=TenantQuotas.from_settings(settings),
        guard=SessionGuard(
            database=database,
            redis=redis,
            interval=settings.session_check_interval,
            # A revocation marker must outlive every credential of the session it ends.
            marker_ttl=max(settings.refresh_token_ttl, settings.browser_session_ttl) + 60,
            bus=bus,
            # An access token outlives its session's end by at most its lifetime and leeway.
            window=settings.access_token_ttl + LEEWAY_SECONDS + 60,
        ),
        verifier=LocalVerifier(keys, issuer=settings.base_url, permissions=catalogue),
        data_keys=data_keys_for(settings),
        permissions=catalogue,
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
"""Hashers by Argon2 parameters: building one hashes a dummy password, which is slow on
purpose, so contexts with the same parameters share one."""


def passwords_for(settings: Settings) -> Passwords:
    params = (settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism)
    if params not in _PASSWORDS:
        _PASSWORDS[params] = Passwords(
            time_cost=params[0], memory_cost=params[1], parallelism=params[2]
        )
    return _PASSWORDS[params]


def of(services: Services) -> IdentityContext:
    """The identity context identity's startup hook provided in this process (its event
    handlers run only where that hook ran)."""
    identity = services.provided["identity"]
    assert isinstance(identity, IdentityContext)
    return identity
