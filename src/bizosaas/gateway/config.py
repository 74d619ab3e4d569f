"""Gateway configuration: remote services, rate-limit rules and cache rules.

Sources, merged in this order (later wins for a service of the same name):
`BIZOSAAS_GATEWAY_CONFIG_FILE` (TOML or JSON), `BIZOSAAS_GATEWAY_SERVICES` (JSON object of
services) and `BIZOSAAS_GATEWAY_POLICIES` (JSON with `rate_limits` and `cache`). The file is
re-read when the registry is reloaded; environment values are fixed for the process's life.
See docs/gateway.md for the format.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bizosaas.settings import ConfigurationError, Settings


class ServiceSpec(BaseModel):
    """A remote service: where its instances are and how to talk to them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: tuple[str, ...] = ()
    """Base URLs; `/api/brain/<name>/<rest>` is proxied to `<url>/<rest>`."""
    timeout: float = Field(default=10.0, gt=0, le=3600)
    """Seconds to wait for the response (and between body chunks): past it, 504."""
    connect_timeout: float = Field(default=2.0, gt=0, le=60)
    health_path: str | None = None
    """Absolute path on each instance's origin for active health checks (none: passive only)."""
    retries: int = Field(default=1, ge=0, le=5)
    """Extra attempts for idempotent requests on connection failure or a broken response."""
    balancer: Literal["round_robin", "least_outstanding"] = "round_robin"
    forward_credentials: bool = True
    """Pass the caller's bearer token on (our services verify it); off for third parties."""

    @field_validator("urls", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return tuple(url.rstrip("/") for url in value)


Per = Literal["ip", "user", "tenant"]


class RateLimitRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = "*"
    """Service name (first path segment after /api/brain/), `*` for all."""
    route: str = "*"
    """Glob on the path after the service segment, e.g. `/orders/*`."""
    methods: tuple[str, ...] = ()
    """Empty: every method."""
    limit: str = "3000/minute"
    """`limits` notation: `100/minute`, `10/second;1000/hour` is two rules."""
    per: Per = "ip"
    """Whose budget: the client IP, the user, or the tenant (anonymous callers fall back to IP)."""
    name: str = ""
    """Stable key part; defaults to the rule's position, so name rules you reorder."""


class CacheRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    route: str = "*"
    ttl: float = Field(gt=0, le=86_400)
    vary: tuple[Literal["tenant", "user"], ...] = ("tenant", "user")
    """What the response depends on besides the URL; `[]` for public responses."""
    invalidate_on: tuple[str, ...] | None = None
    """Event name patterns that invalidate it; default `<service>.*`."""
    max_bytes: int = Field(default=1024 * 1024, ge=1)
    name: str = ""

    @property
    def invalidation_patterns(self) -> tuple[str, ...]:
        if self.invalidate_on is not None:
            return self.invalidate_on
        return (f"{self.service}.*",)


DEFAULT_RATE_LIMITS = (RateLimitRule(name="default-ip"),)


@dataclass(frozen=True)
class GatewayConfig:
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    rate_limits: tuple[RateLimitRule, ...] = DEFAULT_RATE_LIMITS
    cache: tuple[CacheRule, ...] = ()


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"BIZOSAAS_GATEWAY_CONFIG_FILE: cannot read {path}: {error}"
        ) from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"BIZOSAAS_GATEWAY_CONFIG_FILE: {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"BIZOSAAS_GATEWAY_CONFIG_FILE: {path} must hold a table")
    return data


def _read_json(value: str, setting: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"{setting}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{setting}: must be a JSON object")
    return data


def load_gateway_config(settings: Settings) -> GatewayConfig:
    """Read and validate every gateway configuration source; errors name the setting at fault."""
    data: dict[str, Any] = {}
    if settings.gateway_config_file is not None:
        data = _read_file(settings.gateway_config_file)
    services = dict(data.get("services", {}))
    if settings.gateway_services:
        services.update(_read_json(settings.gateway_services, "BIZOSAAS_GATEWAY_SERVICES"))
    policies: dict[str, Any] = {k: data[k] for k in ("rate_limits", "cache") if k in data}
    if settings.gateway_policies:
        policies.update(_read_json(settings.gateway_policies, "BIZOSAAS_GATEWAY_POLICIES"))
    try:
        specs = {name: ServiceSpec.model_validate(spec) for name, spec in services.items()}
        rate_limits = tuple(
            RateLimitRule.model_validate(rule)
            for rule in policies.get("rate_limits", [r.model_dump() for r in DEFAULT_RATE_LIMITS])
        )
        cache = tuple(CacheRule.model_validate(rule) for rule in policies.get("cache", []))
    except ValidationError as error:
        raise ConfigurationError(f"gateway configuration: {error}") from None
    for name in specs:
        if not name or not name.replace("-", "").isalnum() or not name.islower():
            raise ConfigurationError(f"gateway service name {name!r} must be a lowercase segment")
    return GatewayConfig(services=specs, rate_limits=rate_limits, cache=cache)
