"""The one settings object. Every value comes from a `BIZOSAAS_` environment variable or `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
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

    environment: Environment = Environment.development
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
    database_pool_size: int = Field(default=10, ge=1, le=500)
    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: cache, pub/sub and limits are in-process."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="The URL users reach the gateway at (default http://host:port)."
    )
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.json
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
    outbox_poll_interval: float = Field(default=1.0, gt=0, le=60)
    demo_seed_on_first_run: bool = True

    @field_validator("extra_modules", "disabled_modules", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
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
