"""Login throttling: growing delays per account, per client address and per device, never a
hard lock (OWASP Authentication Cheat Sheet; Keycloak's brute-force detection).

Only failures count. After `login_free_failures_per_account` failures an account's next
attempt must wait `login_first_delay` seconds, then twice as long after each further failure,
up to `login_max_delay`; while it waits every attempt is answered 429 with Retry-After and its
password is not even checked (so waiting attempts teach a guesser nothing). Failures are
forgotten `login_failure_reset` seconds after the latest one, or at once by a successful login
or an administrator's unlock.

Holding the account back must not lock its owner out, so a device that signed in to the
account before (its device cookie, credentials/device_cookies.py) is exempt from the account's
and the address's delays; its own failures count against the device, which loses the
exemption after `login_free_failures_per_device` of them.

A client address counts *distinct* failures (account and password pairs: a mail client
retrying a stale password counts once) and gets far more of them
(`login_free_failures_per_ip`), so an office behind one address is not slowed by a few
people's typos, while a spray of one password over many accounts is.

Counters live in memory, or in Redis when configured so every gateway process shares them
(credentials/failure_store.py). The e-mail budget (`allow_mail`) is a plain moving window.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from bizosaas.identity.credentials.failure_store import (
    Failures,
    FailureStore,
    MemoryFailureStore,
    RedisFailureStore,
)
from bizosaas.identity.exceptions import LoginThrottled
from bizosaas.kit.ratelimit import limits_storage
from bizosaas.settings import Settings


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_per_account: int = 5
    free_per_ip: int = 100
    free_per_device: int = 10
    first_delay: float = 1.0
    max_delay: float = 900.0
    forget_after: float = 12 * 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            free_per_account=settings.login_free_failures_per_account,
            free_per_ip=settings.login_free_failures_per_ip,
            free_per_device=settings.login_free_failures_per_device,
            first_delay=settings.login_first_delay,
            max_delay=float(settings.login_max_delay),
            forget_after=float(settings.login_failure_reset),
        )

    def delay(self, failures: int, *, free: int) -> float:
        """How long the attempt after `failures` failures must wait after the latest one."""
        if failures < free:
            return 0.0
        # The exponent is capped so a long attack cannot overflow the float.
        return min(self.first_delay * 2.0 ** min(failures - free, 64), self.max_delay)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """Who is trying: the (normalised) e-mail address, the client address, and the device id
    of a valid device cookie for this very account, if one came along."""

    email: str
    ip: str | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountThrottle:
    failures: int
    retry_after: int
    """Seconds until the next attempt is allowed (0: now)."""


def account_key(email: str) -> str:
    # Hashed so the store holds no e-mail addresses.
    return "account:" + hashlib.sha256(email.lower().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(
        self,
        *,
        policy: ThrottlePolicy,
        store: FailureStore,
        mail_per_account: str = "5 per hour",
        mail_storage: Storage | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self._store = store
        self._clock = clock
        self._mail_limiter = MovingWindowRateLimiter(mail_storage or MemoryStorage())
        self._mail_per_account: RateLimitItem = parse(mail_per_account)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        redis: Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> LoginThrottle:
        """Counters in Redis when the settings name one (`redis`, when given, is that
        server's client), else in this process."""
        policy = ThrottlePolicy.from_settings(settings)
        store: FailureStore
        if settings.redis_url:
            client = redis or Redis.from_url(settings.redis_url)
            store = RedisFailureStore(client, forget_after=policy.forget_after)
        else:
            store = MemoryFailureStore(forget_after=policy.forget_after)
        return cls(
            policy=policy,
            store=store,
            mail_storage=limits_storage(settings.redis_url, key_prefix="bizosaas:limits"),
            clock=clock,
        )

    def now(self) -> float:
        return self._clock()

    async def device_trusted(self, device_id: str | None) -> bool:
        """Whether a device cookie's holder is exempt from the account and address delays:
        it has not failed too often itself."""
        if device_id is None:
            return False
        failures = await self._store.read("device:" + device_id, now=self._clock())
        return failures.count < self.policy.free_per_device

    def _watched(self, attempt: LoginAttempt, *, trusted: bool) -> list[tuple[str, int]]:
        policy = self.policy
        keys: list[tuple[str, int]] = []
        if attempt.device_id is not None:
            keys.append(("device:" + attempt.device_id, policy.free_per_device))
        if not trusted:
            keys.append((account_key(attempt.email), policy.free_per_account))
            if attempt.ip:
                keys.append(("ip:" + attempt.ip, policy.free_per_ip))
        return keys

    def _wait(self, failures: Failures, *, free: int, now: float) -> float:
        delay = self.policy.delay(failures.count, free=free)
        return max(0.0, failures.last + delay - now) if delay else 0.0

    async def check(self, attempt: LoginAttempt, *, trusted: bool) -> None:
        """Raise `LoginThrottled` (429 with Retry-After) while the attempt must wait."""
        now = self._clock()
        wait = 0.0
        for key, free in self._watched(attempt, trusted=trusted):
            failures = await self._store.read(key, now=now)
            wait = max(wait, self._wait(failures, free=free, now=now))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise LoginThrottled(
                f"Too many failed sign-ins. Try again in {_duration(retry_after)}.",
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )

    async def failed(self, attempt: LoginAttempt, *, trusted: bool, fingerprint: str) -> bool:
        """Count a failed attempt. `fingerprint` names what was tried (a keyed digest of the
        address and password) so the client address counts distinct failures only.

        True when this failure started holding the account back and nobody was told yet in
        this episode: the caller alerts the owner (once, not per attempt)."""
        now = self._clock()
        if attempt.device_id is not None:
            await self._store.add("device:" + attempt.device_id, now=now)
        if trusted:
            return False  # the owner's device mistyped: the account is not under attack
        key = account_key(attempt.email)
        failures = await self._store.add(key, now=now)
        if attempt.ip:
            await self._store.add("ip:" + attempt.ip, now=now, distinct=fingerprint)
        if failures.count >= self.policy.free_per_account:
            return await self._store.claim_alert(key)
        return False

    async def succeeded(self, attempt: LoginAttempt, *, trusted: bool) -> None:
        """The right password (and second factor): the device's failures are forgotten, and
        the account's too unless the login came from a trusted device (the owner signing in
        at home does not end the episode a guesser elsewhere started). The address's stay, or
        one account of a guesser would reset them."""
        if not trusted:
            await self._store.clear(account_key(attempt.email))
        if attempt.device_id is not None:
            await self._store.clear("device:" + attempt.device_id)

    async def account_status(self, *, email: str) -> AccountThrottle:
        now = self._clock()
        failures = await self._store.read(account_key(email), now=now)
        wait = self._wait(failures, free=self.policy.free_per_account, now=now)
        return AccountThrottle(failures=failures.count, retry_after=math.ceil(wait))

    async def unlock(self, *, email: str) -> AccountThrottle:
        """Forget the account's failures (an administrator's unlock); answer what they were."""
        before = await self.account_status(email=email)
        await self._store.clear(account_key(email))
        return before

    async def allow_mail(self, *, email: str) -> bool:
        """Whether another account e-mail (reset link, verification) may go to this address:
        a few an hour, so the forms cannot be used to flood someone's mailbox."""
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
        return await self._mail_limiter.hit(self._mail_per_account, "mail", digest)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"
