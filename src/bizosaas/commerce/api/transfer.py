"""CSV import and export of the catalogue (the layout is in service/csv_columns.py and
docs/commerce.md)."""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import StreamingResponse

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import ProductReader, ProductWriter
from bizosaas.commerce.exceptions import ImportInvalid, ImportTooLarge
from bizosaas.commerce.schemas import ImportReport
from bizosaas.commerce.service import csv_export, csv_import
from bizosaas.kit.auth import TenantSession, scope_of
from bizosaas.kit.db import Database
from bizosaas.kit.deps import get_database
from bizosaas.kit.errors import PermissionDenied

router = APIRouter(tags=["commerce: import and export"])

MAX_IMPORT_BYTES = 50 * 1024 * 1024
"""An upload larger than this is refused (`commerce.import_too_large`); the CLI has no limit."""


def text_lines(binary: BinaryIO) -> Iterator[str]:
    """The lines of a UTF-8 file (a byte-order mark is skipped), decoded as they are read; a
    byte sequence that is not UTF-8 is a problem of the file, not a server error."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    try:
        for chunk in iter(lambda: binary.read(64 * 1024), b""):
            pending += decoder.decode(chunk)
            *complete, pending = pending.splitlines(keepends=True) or [""]
            yield from complete
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ImportInvalid(
            "The file is not UTF-8 text.",
            errors=[{"row": 0, "column": None, "message": f"not UTF-8: {error.reason}"}],
        ) from error
    if pending:
        yield pending


@router.post(
    "/imports",
    summary="Import products and variants from CSV (or check the file with a dry run)",
    responses=errors(
        not_found=False,
        conflicts=(
            "`commerce.import_invalid`: the file has problems (every one listed in `errors`, "
            "with its row and column); nothing was imported"
        ),
        status_413="`commerce.import_too_large`: the file is over 50 MB",
    ),
)
async def import_products(
    principal: ProductWriter,
    session: TenantSession,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, one row per variant.")],
    dry_run: Annotated[
        bool, Form(description="Only check the file and report what it would do.")
    ] = False,
    channel: Annotated[
        str | None,
        Form(max_length=200, description="Publish every imported product in this channel."),
    ] = None,
) -> ImportReport:
    if file.size is not None and file.size > MAX_IMPORT_BYTES:
        raise ImportTooLarge(f"Import files are limited to {MAX_IMPORT_BYTES // 2**20} MB.")
    return await csv_import.import_catalogue(
        session,
        scope=scope_of(principal),
        lines=text_lines(file.file),
        dry_run=dry_run,
        publish_in=channel or None,
    )


@router.get(
    "/exports/products.csv",
    summary="Export every product and variant as CSV (the layout the import reads)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per variant."}},
)
async def export_products(
    principal: ProductReader, database: Annotated[Database, Depends(get_database)]
) -> StreamingResponse:
    if principal.scope is None:
        raise PermissionDenied("This endpoint acts within a tenant; use a tenant credential.")
    scope = principal.scope

    async def chunks() -> AsyncIterator[bytes]:
        # Its own read-only unit of work: the response streams after the endpoint returned.
        async with database.unit_of_work(scope, read_only=True) as session:
            async for text in csv_export.export_catalogue(session, scope=scope):
                yield text.encode()

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )
