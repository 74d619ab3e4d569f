"""Login throttling per account and per client address (the `limits` library).

Only failures count: a person who types their password right is never slowed down, while a
guesser is stopped after a few tries per account and a few dozen per address. Counters live
in memory, or in Redis when configured so every gateway process shares them.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from bizosaas.identity.exceptions import LoginThrottled


def _storage(redis_url: str | None) -> Storage:
    if redis_url:
        uri = "async+" + redis_url if redis_url.startswith(("redis://", "rediss://")) else redis_url
        return RedisStorage(uri, implementation="redispy", key_prefix="bizosaas:limits")
    return MemoryStorage()


class LoginThrottle:
    def __init__(
        self,
        *,
        per_account: str,
        per_ip: str,
        mail_per_account: str = "5 per hour",
        redis_url: str | None = None,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(_storage(redis_url))
        self._per_account: RateLimitItem = parse(per_account)
        self._per_ip: RateLimitItem = parse(per_ip)
        self._mail_per_account: RateLimitItem = parse(mail_per_account)

    @staticmethod
    def _account_key(email: str) -> str:
        # Hashed so the store holds no e-mail addresses.
        return hashlib.sha256(email.lower().encode()).hexdigest()[:32]

    def _checks(self, email: str, ip: str | None) -> list[tuple[RateLimitItem, str, str]]:
        checks = [(self._per_account, "login-account", self._account_key(email))]
        if ip:
            checks.append((self._per_ip, "login-ip", ip))
        return checks

    async def check(self, *, email: str, ip: str | None) -> None:
        """Raise `LoginThrottled` (429 with Retry-After) while either budget is spent."""
        for item, namespace, identifier in self._checks(email, ip):
            if not await self._limiter.test(item, namespace, identifier):
                stats = await self._limiter.get_window_stats(item, namespace, identifier)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise LoginThrottled(
                    "Too many failed logins. Try again later.",
                    headers={"Retry-After": str(retry_after)},
                    retry_after=retry_after,
                )

    async def failed(self, *, email: str, ip: str | None) -> None:
        for item, namespace, identifier in self._checks(email, ip):
            await self._limiter.hit(item, namespace, identifier)

    async def succeeded(self, *, email: str) -> None:
        await self._limiter.clear(self._per_account, "login-account", self._account_key(email))

    async def allow_mail(self, *, email: str) -> bool:
        """Whether another account e-mail (reset link, verification) may go to this address:
        a few an hour, so the forms cannot be used to flood someone's mailbox."""
        return await self._limiter.hit(self._mail_per_account, "mail", self._account_key(email))
