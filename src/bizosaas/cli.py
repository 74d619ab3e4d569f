"""The `bizosaas` command."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bizosaas import __version__
from bizosaas.commerce.cli import commerce_app
from bizosaas.demo import is_seeded, read_credentials, seed_demo
from bizosaas.gateway.platform import Platform
from bizosaas.identity.cli import keys_app, tenants_app, users_app
from bizosaas.kit import migrate
from bizosaas.kit.catalog import events_markdown
from bizosaas.kit.contract import ModuleContractError, load_declarations
from bizosaas.kit.db import Database
from bizosaas.kit.net import bind_error
from bizosaas.kit.observability import configure_logging
from bizosaas.kit.permissions import ROLES
from bizosaas.kit.settings_doc import effective_values, markdown_reference
from bizosaas.kit.workers import default_workers, shares_state
from bizosaas.modules import ModuleLoadError, disabled_modules, enabled_modules
from bizosaas.settings import ConfigurationError, LogFormat, Settings, load_settings
from bizosaas.workflows.devserver import DevServerError, TemporalDevServer
from bizosaas.workflows.worker import WORKER, ModuleWorker, WorkerError, has_work

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
app.add_typer(commerce_app, name="commerce")


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, once they and every enabled module's declarations check out."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = load_settings(**clean)
        load_declarations(enabled_modules(settings), disabled=disabled_modules(settings))
    except (ConfigurationError, ModuleLoadError, ModuleContractError) as error:
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
    except (migrate.MigrationRefused, migrate.MigrationHistoryError) as error:
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
    migrate.upgrade(settings.effective_migration_url, modules=enabled_modules(settings))
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


def _workers(settings: Settings, chosen: int | None) -> int:
    """`--workers`, else one per core when processes share state (`kit/workers.py`)."""
    workers = chosen or default_workers(settings)
    if workers > 1 and not shares_state(settings):
        console.print(
            f"[yellow]warning:[/] {workers} processes without PostgreSQL and Redis do not share "
            "the cache, events and rate limits: pages may show stale data"
        )
    return workers


def _run_server(settings: Settings, *, workers: int = 1) -> None:
    configure_logging(level=settings.log_level, json=settings.log_format is LogFormat.json)
    console.print(f"  {workers} HTTP worker process{'es' if workers > 1 else ''}")
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
        # The supervisor kills a worker that does not answer its ping in time; a worker still
        # importing the platform on a busy machine can take far longer than uvicorn's 5 s.
        timeout_worker_healthcheck=60,
    )


def _export(settings: Settings, **values: object) -> None:
    """Child worker processes rebuild Settings from the environment: pass CLI overrides on."""
    for key, value in values.items():
        if value is not None:
            os.environ[f"BIZOSAAS_{key.upper()}"] = str(value)


HostOption = Annotated[str | None, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (default 8001).")]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=64,
        help="HTTP worker processes (default: one per CPU core on PostgreSQL with Redis, else 1).",
    ),
]


@app.command()
def up(host: HostOption = None, port: PortOption = None, workers: WorkersOption = None) -> None:
    """All-in-one: migrate, seed demo data on first run, start the Temporal dev server, and
    serve the platform with one Temporal worker for the modules (in the server's process, or
    beside its HTTP worker processes when there are several)."""
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
        processes = _workers(settings, workers)
        temporal_worker: subprocess.Popen[bytes] | None = None
        if temporal is not None or settings.temporal_address:
            if processes == 1:
                # One process does it all: the gateway also runs the modules' Temporal worker.
                _export(settings, temporal_worker=True)
            else:
                # One worker for the platform, not one per HTTP process.
                _export(settings, temporal_worker=False)
                temporal_worker = _start_temporal_worker(settings)
        _print_welcome(settings)
        try:
            _run_server(settings, workers=processes)
        finally:
            if temporal_worker is not None:
                _stop_process(temporal_worker)
    finally:
        if temporal is not None:
            with console.status("Stopping the Temporal dev server ..."):
                temporal.stop()


def _start_temporal_worker(settings: Settings) -> subprocess.Popen[bytes] | None:
    """`bizosaas worker` as a child process, with this process's environment."""
    if not has_work(enabled_modules(settings)):
        return None
    return subprocess.Popen([sys.executable, "-m", "bizosaas", "worker"])


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    ui_url = f"http://127.0.0.1:{server.ui_port}" if server.ui_port else None
    _export(settings, temporal_address=server.address, temporal_ui_url=ui_url)
    if ui_url:
        console.print(f"  Temporal UI: {ui_url}")


QueueOption = Annotated[
    str | None,
    typer.Option(help="Workload queue to poll: default, agents or io (default: all three)."),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        min=2, max=1000, help="Most activities, and most workflow tasks, run at once (default 20)."
    ),
]


@app.command()
def worker(queue: QueueOption = None, concurrency: ConcurrencyOption = None) -> None:
    """Run a Temporal worker for every enabled module's workflows and activities, until
    SIGINT or SIGTERM (scaled mode; `up` runs one inside its own process)."""
    settings = settings_or_exit(
        temporal_task_queue=queue, temporal_worker_concurrency=concurrency, temporal_worker=True
    )
    if not settings.temporal_address:
        fail(
            "BIZOSAAS_TEMPORAL_ADDRESS is not set: the worker needs a Temporal frontend "
            "(host:port). `bizosaas up` runs a worker of its own beside its dev server.",
            code=2,
        )
    if not has_work(enabled_modules(settings)):
        fail("no enabled module declares workflows or activities: nothing to run", code=2)
    configure_logging(level=settings.log_level, json=settings.log_format is LogFormat.json)
    with database_errors(settings):
        try:
            asyncio.run(_run_worker(settings))
        except (WorkerError, RuntimeError) as error:
            fail(str(error))


async def _run_worker(settings: Settings) -> None:
    """Start the process's services and its worker, without HTTP; stop both on a signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    platform = Platform.build(settings)
    await platform.start()
    try:
        worker = platform.services.provided.get(WORKER)
        if not isinstance(worker, ModuleWorker):
            raise WorkerError("no Temporal worker started")
        console.print(
            f"[green]✓[/] worker polling task queues {', '.join(worker.task_queues)} "
            f"at {settings.temporal_address} (Ctrl+C stops it)"
        )
        stopped = asyncio.create_task(stop.wait())
        running = asyncio.create_task(worker.wait())
        await asyncio.wait({stopped, running}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if running.done() and running.exception() is not None:
            raise WorkerError(f"the Temporal worker stopped: {running.exception()}")
        running.cancel()
    finally:
        with console.status("Stopping the worker ..."):
            await platform.stop()
    console.print("[green]✓[/] worker stopped")


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: WorkersOption = None,
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
    _run_server(settings, workers=_workers(settings, workers))


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision (default: the platform and every module).")
    ] = "heads",
) -> None:
    """Apply migrations up to REVISION (as the owner role), the enabled modules' included."""
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    step(
        f"Upgraded to {revision}",
        lambda: migrate.upgrade(settings.effective_migration_url, revision, modules=modules),
        settings,
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, or `<module>@base` to take a module out.")
    ] = "-1",
) -> None:
    """Revert migrations down to REVISION (default: one step, when the database has one head)."""
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    step(
        f"Downgraded to {revision}",
        lambda: migrate.downgrade(settings.effective_migration_url, revision, modules=modules),
        settings,
    )


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does.")],
    module: Annotated[str, typer.Option(help="The enabled module the migration belongs to.")],
    autogenerate: Annotated[
        bool, typer.Option(help="Fill it in from the models' differences with the database.")
    ] = False,
) -> None:
    """Write a new migration in MODULE's migrations folder (its first opens the module's branch)."""
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    owner = next((m for m in modules if m.name == module), None)
    if owner is None:
        fail(f"no enabled module is named {module!r}", code=2)
    created: list[Path] = []
    step(
        f"Revision written for {module}",
        lambda: created.append(
            migrate.new_revision(
                settings.effective_migration_url,
                owner,
                message,
                modules=modules,
                autogenerate=autogenerate,
            )
        ),
        settings,
    )
    console.print(f"  {created[0]}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revisions and the code's heads (the platform's and each module's)."""
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    with database_errors(settings):
        current = migrate.applied_revisions(settings.effective_migration_url, modules)
        heads = migrate.head_revisions(modules)
    typer.echo(f"current: {', '.join(current) or '(empty database)'}")
    typer.echo(f"heads:   {', '.join(heads)}")
    if current != heads:
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
    # Only the owner's URL is needed: the application's own URL names the role being made.
    if not settings.effective_migration_url.startswith("postgresql"):
        fail(
            "create-app-role applies to PostgreSQL; set BIZOSAAS_MIGRATION_DATABASE_URL "
            "(the table owner's URL)"
        )
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
        try:
            modules = enabled_modules(load_settings())
        except (ConfigurationError, ModuleLoadError) as error:
            fail(str(error), code=2)
        typer.echo(markdown_reference(modules), nl=False)
        return
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    declarations = load_declarations(modules)
    table = Table("Variable", "Value", title="Effective configuration", title_justify="left")
    for variable, value in effective_values(settings, modules, declarations.settings):
        table.add_row(variable, value)
    Console().print(table)


@app.command("events")
def show_events(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference with payload schemas.")
    ] = False,
) -> None:
    """List every enabled module's events, or their reference (docs/events.md) as Markdown."""
    modules = enabled_modules(settings_or_exit())
    if markdown:
        typer.echo(events_markdown(modules), nl=False)
        return
    table = Table("Event", "Module", "Payload fields", "Meaning", title="Events")
    for module in modules:
        for event in module.events:
            fields = ", ".join(event.schema.model_fields)
            table.add_row(event.name, module.name, fields, event.description)
    Console().print(table)


@app.command("modules")
def list_modules(
    permissions: Annotated[
        bool,
        typer.Option("--permissions", help="List every declared permission and who holds it."),
    ] = False,
) -> None:
    """List the enabled modules and what each plugs in (routes, permissions, migrations ...)."""
    settings = settings_or_exit()
    modules = enabled_modules(settings)
    output = Console(width=max(Console().width, 120))
    if permissions:
        catalogue = load_declarations(modules).permissions
        listing = Table("Permission", "Module", "Allows", "Roles", title="Declared permissions")
        for name, declared in sorted(catalogue.declared.items()):
            holders = [role for role in ROLES if catalogue.role_covers(role, name)]
            listing.add_row(name, declared.module, declared.description, ", ".join(holders))
        output.print(listing)
        return
    try:
        script = migrate.check_history(modules)
    except migrate.MigrationHistoryError as error:
        fail(str(error), code=2)
    table = Table(
        "Name",
        "Title",
        "Routes",
        "Permissions",
        "Migrations",
        "Events",
        "Workflows",
        "Toolsets",
        title="Enabled modules",
        title_justify="left",
    )
    for module in modules:
        routes = sum(len(r.routes) for r in (module.router, module.web) if r is not None)
        table.add_row(
            module.name,
            module.title,
            str(routes),
            str(len(module.permissions)),
            str(len(migrate.module_revisions(script, module))),
            str(len(module.events)),
            str(len(module.workflows)),
            str(len(module.toolsets)),
        )
    output.print(table)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
