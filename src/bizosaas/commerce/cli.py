"""`bizosaas commerce import|export`: the catalogue as CSV from the command line.

Same checks and layout as the API (`POST /imports`, `GET /exports/products.csv`), without the
upload size limit; the import shows a progress bar (checking, then importing) and its problems
as a table.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce.exceptions import ImportInvalid
from bizosaas.commerce.schemas import ImportProblem, ImportReport
from bizosaas.commerce.service import csv_export, csv_import
from bizosaas.identity import service as identity
from bizosaas.kit.db import Database
from bizosaas.kit.errors import Problem
from bizosaas.kit.tenancy import TenantScope, trusted_scope
from bizosaas.settings import ConfigurationError, load_settings

console = Console(stderr=True)
commerce_app = typer.Typer(help="Commerce: catalogue import and export.", no_args_is_help=True)
T = TypeVar("T")
TenantOption = Annotated[
    str | None, typer.Option(help="The store (tenant slug); may be left out if there is one.")
]


def _fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


async def _scope(session: AsyncSession, slug: str | None) -> TenantScope:
    tenants = await identity.admin_list_tenants(session)
    if slug is None and len(tenants) == 1:
        return trusted_scope(tenants[0].id)
    if slug is None:
        _fail("name the store with --tenant: " + ", ".join(t.slug for t in tenants))
    chosen = next((t for t in tenants if t.slug == slug), None)
    if chosen is None:
        _fail(f"no tenant with the slug {slug!r}")
    return trusted_scope(chosen.id)


def _run(tenant: str | None, action: Callable[[AsyncSession, TenantScope], Awaitable[T]]) -> T:
    """Run `action` in one committed unit of work bound to the store's tenant."""
    try:
        settings = load_settings()
    except ConfigurationError as error:
        _fail(str(error), code=2)

    async def main() -> T:
        database = Database.from_url(settings.effective_database_url)
        try:
            async with database.unit_of_work() as lookup:
                scope = await _scope(lookup, tenant)
            async with database.unit_of_work(scope) as session:
                return await action(session, scope)
        finally:
            await database.dispose()

    return asyncio.run(main())


def _problems_table(problems: list[ImportProblem]) -> Table:
    table = Table("row", "column", "problem")
    for problem in problems:
        table.add_row(str(problem.row), problem.column or "", problem.message)
    return table


@commerce_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, UTF-8.")],
    tenant: TenantOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only check the file; change nothing.")
    ] = False,
    channel: Annotated[
        str | None, typer.Option(help="Publish every imported product in this channel (slug).")
    ] = None,
) -> None:
    """Import products and variants from a CSV file (one row per variant; see
    docs/commerce.md for the columns). A file with any problem imports nothing."""
    with file.open("rb") as handle:
        rows = max(sum(1 for _ in handle) - 1, 0)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks = {"check": bar.add_task("checking", total=rows)}
    if not dry_run:
        tasks["apply"] = bar.add_task("importing", total=rows)

    def advance(phase: str, count: int) -> None:
        bar.advance(tasks[phase], count)

    async def action(session: AsyncSession, scope: TenantScope) -> ImportReport:
        with file.open(encoding="utf-8-sig", newline="") as lines:
            return await csv_import.import_catalogue(
                session,
                scope=scope,
                lines=lines,
                dry_run=dry_run,
                publish_in=channel,
                progress=advance,
            )

    try:
        with bar:
            report = _run(tenant, action)
    except ImportInvalid as invalid:
        problems = [ImportProblem.model_validate(p) for p in invalid.extensions["errors"]]
        Console().print(_problems_table(problems))
        _fail(invalid.detail)
    except UnicodeDecodeError:
        _fail("the file is not UTF-8 text")
    except Problem as problem:
        _fail(problem.detail)
    if report.errors:
        Console().print(_problems_table(report.errors))
        _fail(f"{len(report.errors)} problem(s); a real run would import nothing")
    verb = "would create" if dry_run else "created"
    typer.echo(
        f"{report.rows} rows: {verb} {report.products_created} products, "
        f"{report.variants_created} variants, {report.categories_created} categories, "
        f"{report.collections_created} collections; updated {report.products_updated} "
        f"products, {report.variants_updated} variants"
    )


@commerce_app.command("export")
def export_file(
    tenant: TenantOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: standard output).")
    ] = None,
) -> None:
    """Export every product and variant as CSV, in the layout `import` reads."""

    async def action(session: AsyncSession, scope: TenantScope) -> None:
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            async for chunk in csv_export.export_catalogue(session, scope=scope):
                sink.write(chunk)
        finally:
            if output:
                sink.close()

    _run(tenant, action)
