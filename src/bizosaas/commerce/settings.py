"""Commerce's own settings: `BIZOSAAS_COMMERCE_*`."""

from __future__ import annotations

from pydantic import Field

from bizosaas.kit.module import ModuleSettings


class CommerceSettings(ModuleSettings):
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        pattern=r"^https?://[^\s/]+(:[0-9]+)?/?$",
        description="Where the Stripe SDK sends API requests (scheme, host and port). Tests "
        "point it at a local fake; leave it alone otherwise.",
    )
    stripe_network_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="How often the Stripe SDK retries a request that failed on the network "
        "(each retry carries the same Idempotency-Key, so it never charges twice).",
    )
    stripe_timeout: float = Field(
        default=30.0, gt=0, le=120, description="Seconds to wait for one Stripe request."
    )
