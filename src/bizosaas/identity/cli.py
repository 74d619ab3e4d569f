"""`bizosaas tenants|users|keys`: identity administration from the command line."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn, TypeVar

import typer
from redis.asyncio import Redis
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.keys import KeyStore
from bizosaas.identity.membership import platform_admin
from bizosaas.identity.membership.registration import add_membership, create_tenant, create_user
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import TenantRead
from bizosaas.identity.sessions import user_sessions
from bizosaas.kit.db import Database
from bizosaas.kit.errors import Problem
from bizosaas.kit.events import RedisEventBus
from bizosaas.kit.permissions import Role
from bizosaas.settings import ConfigurationError, Settings, load_settings

console = Console(stderr=True)
tenants_app = typer.Typer(help="Tenants: create and list.", no_args_is_help=True)
users_app = typer.Typer(help="Users: create, list, unlock, logout.", no_args_is_help=True)
keys_app = typer.Typer(help="Access-token signing keys.", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as error:
        _fail(str(error), code=2)


def _run(action: Callable[[AsyncSession, IdentityContext], Awaitable[T]]) -> T:
    """Run `action` in one committed unit of work, with an identity context built from the
    settings; problems become a clean error message."""
    settings = _settings()

    async def main() -> T:
        database = Database.from_url(settings.effective_database_url)
        # With Redis, the context reaches what the gateways share: a session ended here gets
        # its revocation marker there and is announced on the bus (realtime sockets close).
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        bus = RedisEventBus(redis) if redis is not None else None
        identity = context.build(settings, database=database, redis=redis, bus=bus)
        try:
            async with database.unit_of_work() as session:
                return await action(session, identity)
        finally:
            await database.dispose()
            if redis is not None:
                await redis.aclose()

    try:
        return asyncio.run(main())
    except Problem as problem:
        _fail(problem.detail)


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="Display name, e.g. 'Acme Coffee Roasters'.")],
    slug: Annotated[str | None, typer.Option(help="URL name (default: from the name).")] = None,
) -> None:
    """Create a tenant."""

    async def action(session: AsyncSession, _identity: IdentityContext) -> str:
        tenant = await create_tenant(session, name=name, slug=slug)
        return f"{tenant.slug}\t{tenant.id}"

    typer.echo(_run(action))


@tenants_app.command("list")
def tenants_list() -> None:
    """List every tenant."""

    async def action(session: AsyncSession, _identity: IdentityContext) -> list[TenantRead]:
        return await platform_admin.admin_list_tenants(session)

    tenants = _run(action)
    table = Table("slug", "name", "status", "id")
    for tenant in tenants:
        table.add_row(tenant.slug, tenant.name, tenant.status, str(tenant.id))
    Console().print(table)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="E-mail address (the login).")],
    *,
    full_name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    tenant: Annotated[str | None, typer.Option(help="Add to this tenant (slug).")] = None,
    role: Annotated[Role, typer.Option(help="Role in --tenant.")] = Role.staff,
    super_admin: Annotated[
        bool, typer.Option("--super-admin", help="Platform administrator.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="BIZOSAAS_NEW_USER_PASSWORD",
            help="Password (default: a random one, printed once).",
        ),
    ] = None,
) -> None:
    """Create a user, optionally a super admin and/or a member of a tenant."""
    chosen = password or secrets.token_urlsafe(12)

    async def action(session: AsyncSession, identity: IdentityContext) -> str:
        target = None
        if tenant is not None:
            target = await accounts.tenant_by_slug(session, slug=tenant)
            if target is None:
                _fail(f"no tenant with slug {tenant!r}")
        user = await create_user(
            session,
            identity=identity,
            email=email,
            password=chosen,
            full_name=full_name or email.split("@", 1)[0],
            super_admin=super_admin,
            verified=True,
        )
        if target is not None:
            await add_membership(session, tenant=target, user=user, role=role)
        return str(user.id)

    user_id = _run(action)
    typer.echo(f"{email.strip().lower()}\t{user_id}")
    if password is None:
        console.print(f"password (shown once): [bold]{chosen}[/]")


@users_app.command("list")
def users_list(
    query: Annotated[str | None, typer.Option("--query", "-q", help="Filter by text.")] = None,
) -> None:
    """List users."""

    async def action(
        session: AsyncSession, _identity: IdentityContext
    ) -> list[tuple[str, str, str]]:
        users = await platform_admin.admin_list_users(session, query=query, limit=1000)
        return [(u.email, u.full_name, "super admin" if u.is_super_admin else "") for u in users]

    table = Table("email", "name", "")
    for row in _run(action):
        table.add_row(*row)
    Console().print(table)


@users_app.command("unlock")
def users_unlock(
    email: Annotated[str, typer.Argument(help="E-mail address of the account.")],
) -> None:
    """Forget an account's failed logins, so its next attempt does not have to wait (audited)."""
    if not _settings().redis_url:
        _fail(
            "without BIZOSAAS_REDIS_URL the failed-login counters live in the running server's "
            "memory: unlock the account in the admin console (/admin/users) instead"
        )

    async def action(session: AsyncSession, identity: IdentityContext) -> int:
        user = await accounts.user_by_email(session, email=accounts.normalise_email(email))
        if user is None:
            _fail(f"no account with the address {email!r}")
        unlocked = await platform_admin.admin_unlock_login(
            session, identity=identity, user_id=user.id
        )
        return unlocked.failures_cleared

    cleared = _run(action)
    typer.echo(f"{email.strip().lower()}\tunlocked ({cleared} failed logins forgotten)")


@users_app.command("logout")
def users_logout(
    email: Annotated[str, typer.Argument(help="E-mail address of the account.")],
) -> None:
    """End every session of an account: its tokens and browser sessions stop working in every
    gateway (at once with Redis, where the revocation is marked, and its open realtime
    sockets close; within a few seconds without)."""

    async def action(session: AsyncSession, identity: IdentityContext) -> int:
        user = await accounts.user_by_email(session, email=accounts.normalise_email(email))
        if user is None:
            _fail(f"no account with the address {email!r}")
        return await user_sessions.logout_all(session, identity=identity, user_id=user.id)

    ended = _run(action)
    typer.echo(f"{email.strip().lower()}\t{ended} session{'s' if ended != 1 else ''} ended")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key current. Tokens signed by older keys stay valid until they
    expire; running gateways switch to the new key within seconds."""
    settings = _settings()
    key = KeyStore.open(settings.data_dir / "keys").rotate()
    typer.echo(f"new signing key: {key.kid}")


@keys_app.command("list")
def keys_list() -> None:
    """Show the published keys (the first one signs)."""
    settings = _settings()
    for jwk in KeyStore.open(settings.data_dir / "keys").jwks()["keys"]:
        typer.echo(jwk["kid"])
