"""Per-tenant budgets for actions that reach outside or mint credentials.

Invitations send e-mail to addresses the tenant chooses, so a tenant (a fresh sign-up above
all) must not be a mail relay; API keys are credentials, minted by the handful. The budgets
are settings (`invitation_limit_per_tenant`, `api_key_limit_per_tenant`). Sign-ups have a budget
per client address (`sign_up_limit_per_ip`), so one client cannot mint tenants by the hundred
(each sends a confirmation mail). The counters live in memory, or in Redis when configured so
every process charges the same budget.
"""

from __future__ import annotations

import uuid

from limits.aio.strategies import MovingWindowRateLimiter

from bizosaas.identity.exceptions import ApiKeysThrottled, InvitationsThrottled, SignUpsThrottled
from bizosaas.kit.ratelimit import Quota, limits_storage
from bizosaas.settings import Settings


class TenantQuotas:
    def __init__(
        self,
        *,
        invitations: str,
        api_keys: str,
        sign_ups_per_ip: str = "20 per hour; 100 per day",
        redis_url: str | None = None,
    ) -> None:
        limiter = MovingWindowRateLimiter(
            limits_storage(redis_url, key_prefix="bizosaas:tenant-quota")
        )
        self.invitations = Quota("invitations", invitations, limiter)
        self.api_keys = Quota("api-keys", api_keys, limiter)
        self.sign_ups = Quota("sign-ups", sign_ups_per_ip, limiter)

    @classmethod
    def from_settings(cls, settings: Settings) -> TenantQuotas:
        return cls(
            invitations=settings.invitation_limit_per_tenant,
            api_keys=settings.api_key_limit_per_tenant,
            sign_ups_per_ip=settings.sign_up_limit_per_ip,
            redis_url=settings.redis_url,
        )

    async def charge_invitation(self, tenant_id: uuid.UUID) -> None:
        """Count one invitation, or raise 429 `identity.invitations_throttled`."""
        charge = await self.invitations.charge(tenant_id.hex)
        if not charge.allowed:
            raise InvitationsThrottled(
                f"This workspace has sent as many invitations as it may for now; "
                f"try again in {charge.retry_after} s.",
                headers={"Retry-After": str(charge.retry_after)},
                retry_after=charge.retry_after,
            )

    async def charge_api_key(self, tenant_id: uuid.UUID) -> None:
        """Count one new API key, or raise 429 `identity.api_keys_throttled`."""
        charge = await self.api_keys.charge(tenant_id.hex)
        if not charge.allowed:
            raise ApiKeysThrottled(
                f"This workspace has created as many API keys as it may for now; "
                f"try again in {charge.retry_after} s.",
                headers={"Retry-After": str(charge.retry_after)},
                retry_after=charge.retry_after,
            )

    async def charge_sign_up(self, ip: str | None) -> None:
        """Count one sign-up from client address `ip`, or raise 429
        `identity.sign_ups_throttled` (a request with no known address is not counted)."""
        if not ip:
            return
        charge = await self.sign_ups.charge(ip)
        if not charge.allowed:
            raise SignUpsThrottled(
                f"Too many sign-ups from your network; try again in {charge.retry_after} s.",
                headers={"Retry-After": str(charge.retry_after)},
                retry_after=charge.retry_after,
            )
