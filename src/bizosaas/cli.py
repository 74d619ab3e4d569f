"""The `bizosaas` command."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bizosaas import __version__
from bizosaas.demo import is_seeded, read_credentials, seed_demo
from bizosaas.identity.cli import keys_app, tenants_app, users_app
from bizosaas.kit import migrate
from bizosaas.kit.db import Database
from bizosaas.kit.net import bind_error
from bizosaas.kit.observability import configure_logging
from bizosaas.kit.settings_doc import effective_values, markdown_reference
from bizosaas.modules import ModuleLoadError, enabled_modules
from bizosaas.settings import ConfigurationError, LogFormat, Settings, load_settings
from bizosaas.workflows.devserver import DevServerError, TemporalDevServer

console = Console(stderr=True)
app = typer.Typer(
    name="bizosaas",
    help="BizOSaaS: run the platform, its database and its demo data.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations and roles.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = load_settings(**clean)
        enabled_modules(settings)
    except (ConfigurationError, ModuleLoadError) as error:
        fail(str(error), code=2)
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """Turn a database that cannot be reached, or a migration that refuses to run, into one
    clear line instead of a traceback."""
    try:
        yield
    except migrate.MigrationRefused as error:
        fail(str(error))
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        target = make_url(settings.effective_migration_url).render_as_string(hide_password=True)
        fail(f"database {target}: {reason}")


def ensure_port_free(host: str, port: int) -> None:
    error = bind_error(host, port)
    if error is None:
        return
    if error.errno == errno.EADDRINUSE:
        fail(
            f"port {port} on {host} is already in use. Stop the other process or "
            f"choose another port with --port (or BIZOSAAS_PORT)."
        )
    fail(f"cannot listen on {host}:{port}: {error.strerror}")


def step(label: str, action: Callable[[], object], settings: Settings) -> None:
    started = time.perf_counter()
    with console.status(f"{label} ..."), database_errors(settings):
        action()
    console.print(f"[green]✓[/] {label} [dim]({time.perf_counter() - started:.1f}s)[/]")


def _migrate(settings: Settings) -> None:
    migrate.upgrade(settings.effective_migration_url)
    app_role = migrate.role_of(settings.effective_database_url)
    owner = migrate.role_of(settings.effective_migration_url)
    if settings.uses_postgres and app_role and app_role != owner:
        migrate.grant_app_role(settings.effective_migration_url, app_role)


async def _seed(settings: Settings, *, only_first_run: bool) -> bool:
    database = Database.from_url(settings.effective_database_url)
    try:
        if only_first_run and await is_seeded(database):
            return False
        await seed_demo(database, settings, say=lambda text: console.print(f"  [dim]{text}[/]"))
        return True
    finally:
        await database.dispose()


def _print_welcome(settings: Settings) -> None:
    table = Table(title="BizOSaaS is running", show_header=False, title_justify="left")
    table.add_row("URL", settings.base_url)
    table.add_row("API docs", f"{settings.base_url}/api/brain/docs")
    table.add_row("Health", f"{settings.base_url}/api/brain/health")
    for who, login, password in read_credentials(settings):
        table.add_row(who, f"{login}  /  {password}")
    table.add_row("Data", str(settings.data_dir.resolve()))
    console.print(table)


def _run_server(settings: Settings, *, workers: int = 1) -> None:
    configure_logging(level=settings.log_level, json=settings.log_format is LogFormat.json)
    uvicorn.run(
        "bizosaas.gateway.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        # Forwarding headers are the gateway's to judge (BIZOSAAS_TRUSTED_PROXIES); uvicorn's
        # own default would believe any request from 127.0.0.1.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def _export(settings: Settings, **values: object) -> None:
    """Child worker processes rebuild Settings from the environment: pass CLI overrides on."""
    for key, value in values.items():
        if value is not None:
            os.environ[f"BIZOSAAS_{key.upper()}"] = str(value)


HostOption = Annotated[str | None, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (default 8001).")]


@app.command()
def up(host: HostOption = None, port: PortOption = None) -> None:
    """Embedded all-in-one: migrate, seed demo data on first run, start the Temporal dev
    server, and serve the platform."""
    settings = settings_or_exit(host=host, port=port)
    _export(settings, host=host, port=port)
    ensure_port_free(settings.host, settings.port)
    console.print(f"[bold]BizOSaaS {__version__}[/] (data in {settings.data_dir.resolve()})")
    # Uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so the
    # Temporal dev server is stopped too instead of being orphaned.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    temporal = _launch_temporal(settings)  # boots while the database is prepared
    try:
        step("Database migrated", lambda: _migrate(settings), settings)
        if settings.demo_seed_on_first_run:
            seeded: list[bool] = []
            step(
                "Demo data checked",
                lambda: seeded.append(asyncio.run(_seed(settings, only_first_run=True))),
                settings,
            )
            if seeded and seeded[0]:
                console.print("  demo data created")
        if temporal is not None:
            _await_temporal(settings, temporal)
        _print_welcome(settings)
        _run_server(settings)
    finally:
        if temporal is not None:
            with console.status("Stopping the Temporal dev server ..."):
                temporal.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _launch_temporal(settings: Settings) -> TemporalDevServer | None:
    if settings.temporal_address or not settings.temporal_dev_server:
        return None
    server = TemporalDevServer(
        data_dir=settings.data_dir.resolve() / "temporal",
        host="127.0.0.1",
        port=settings.temporal_dev_port,
        ui_port=settings.temporal_dev_port + 1000 if settings.temporal_dev_port else None,
        namespace=settings.temporal_namespace,
    )
    try:
        server.launch()
    except DevServerError as error:
        fail(str(error))
    return server


def _await_temporal(settings: Settings, server: TemporalDevServer) -> None:
    try:
        step("Temporal dev server started", server.wait_ready, settings)
    except DevServerError as error:
        fail(str(error))
    _export(settings, temporal_address=server.address)
    if server.ui_port:
        console.print(f"  Temporal UI: http://127.0.0.1:{server.ui_port}")


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    only: Annotated[
        str | None, typer.Option(help="Split mode: serve just this module as its own service.")
    ] = None,
    register: Annotated[
        str | None, typer.Option(help="Split mode: gateway URL to register with (and heartbeat).")
    ] = None,
) -> None:
    """Serve the gateway (no migrations, no seeding): the scaled-out production entry point.
    With --only, serve one module for a gateway to route to (docs/gateway.md)."""
    if register and not only:
        fail("--register needs --only <module>", code=2)
    settings = settings_or_exit(host=host, port=port, serve_only=only, register_url=register)
    if only and only not in {module.name for module in enabled_modules(settings)}:
        fail(f"no enabled module is named {only!r}", code=2)
    _export(settings, host=host, port=port, serve_only=only, register_url=register)
    ensure_port_free(settings.host, settings.port)
    _run_server(settings, workers=workers)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (as the owner role)."""
    settings = settings_or_exit()
    step(
        f"Upgraded to {revision}",
        lambda: migrate.upgrade(settings.effective_migration_url, revision),
        settings,
    )


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step)."""
    settings = settings_or_exit()
    step(
        f"Downgraded to {revision}",
        lambda: migrate.downgrade(settings.effective_migration_url, revision),
        settings,
    )


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the code's head."""
    settings = settings_or_exit()
    with database_errors(settings):
        current = migrate.current_revision(settings.effective_migration_url)
    head = migrate.head_revision()
    typer.echo(f"current: {current or '(empty database)'}")
    typer.echo(f"head:    {head}")
    if current != head:
        typer.echo("run `bizosaas db upgrade` to migrate")


@db_app.command("create-app-role")
def db_create_app_role(
    role: Annotated[str, typer.Argument(help="Role the application connects as.")],
    password: Annotated[
        str | None, typer.Option(envvar="BIZOSAAS_APP_ROLE_PASSWORD", help="Login password.")
    ] = None,
) -> None:
    """PostgreSQL: create ROLE (not owner, not superuser) and grant it row access to every table."""
    settings = settings_or_exit()
    if not settings.uses_postgres:
        fail("create-app-role applies to PostgreSQL; set BIZOSAAS_DATABASE_URL")
    try:
        with database_errors(settings):
            migrate.grant_app_role(settings.effective_migration_url, role, password=password)
    except ValueError as error:
        fail(str(error), code=2)
    console.print(f"[green]✓[/] role {role} can use the tables; row-level security applies to it")


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo tenants, users and data (idempotent)."""
    settings = settings_or_exit()
    step("Demo data seeded", lambda: asyncio.run(_seed(settings, only_first_run=False)), settings)
    for who, login, password in read_credentials(settings):
        console.print(f"  {who}: {login} / {password}")


@app.command("settings")
def show_settings(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the configuration reference instead.")
    ] = False,
) -> None:
    """Print the effective configuration (secrets masked), or the reference as Markdown."""
    if markdown:
        typer.echo(markdown_reference(), nl=False)
        return
    table = Table("Variable", "Value", title="Effective configuration", title_justify="left")
    for variable, value in effective_values(settings_or_exit()):
        table.add_row(variable, value)
    Console().print(table)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
