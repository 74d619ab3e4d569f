"""What every CRM endpoint shares: the documented error answers, the caller's `Viewer`, and
the query parameters of the record listings.

The gateway documents 401, 403, 404, 422 and the rest from each route's dependencies and
parameters (gateway/operations.py); an endpoint adds here what only it can say.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm.access import Viewer
from bizosaas.crm.schemas import Filter
from bizosaas.crm.search import RecordQuery
from bizosaas.crm.service import access
from bizosaas.kit.auth import Principal
from bizosaas.kit.text import SingleLine

Responses = dict[int | str, dict[str, Any]]

NOT_FOUND = (
    "`crm.not_found`: no such record in your CRM (another tenant's, and one the tenant's "
    "record-level rule hides from you, answer the same)"
)


def errors(*, conflicts: str | None = None, not_found: bool = True, **more: str) -> Responses:
    """Documented answers: 404 `crm.not_found` (unless `not_found` is False), 409 with the
    `conflicts` codes, and `more` as `{"status_400": "what"}`-style extras."""
    answers: Responses = {}
    if not_found:
        answers[404] = {"description": NOT_FOUND}
    if conflicts:
        answers[409] = {"description": f"Refused: {conflicts}"}
    for status, description in more.items():
        answers[int(status.removeprefix("status_"))] = {"description": description}
    return answers


LIST_ERRORS = errors(
    not_found=False,
    status_400="`crm.invalid_cursor`: a cursor of another sort order or not from this API",
    status_422="`crm.invalid_filter`: a filter or sort the record type does not have",
)
RECORD_ERRORS = (
    "`crm.invalid_phone`, `crm.invalid_custom_fields`, `crm.invalid_owner`, "
    "`request.validation_failed`"
)


async def viewer_of(session: AsyncSession, principal: Principal) -> Viewer:
    return await access.viewer_for(session, principal=principal)


def record_query(
    q: Annotated[
        SingleLine | None,
        Query(max_length=200, description="Words to find (each as a prefix)."),
    ] = None,
    filter: Annotated[
        list[Filter],
        Query(description="`field:op:value` (`tag:has:vip`, `custom.seats:gte:10`); repeatable."),
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    sort: Annotated[
        str,
        Query(
            max_length=80,
            pattern=r"^-?(name|created|updated|amount|close_date|custom\.[a-z][a-z0-9_]*)$",
            description="`name`, `created`, `updated`, `custom.<code>`; `-` for descending.",
        ),
    ] = "name",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RecordQuery:
    return RecordQuery(text=q, filters=tuple(filter), sort=sort, cursor=cursor, limit=limit)
