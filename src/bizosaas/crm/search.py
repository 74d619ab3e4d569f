"""Finding records: full text, filters (built-in and custom fields), a sort order and keyset
pages, as one query per record type, always inside the caller's `Viewer` (access.py).

Full text matches every word of the query as a prefix over a record's `search_text`:
* PostgreSQL: `to_tsvector('simple', search_text) @@ to_tsquery('simple', 'word:* & ...')`,
  served by a GIN index over that expression per table (migration crm_0001);
* SQLite: the FTS5 table `<table>_search`, kept in step by triggers, `MATCH '"word"* AND ...'`.

Filters are `field:op:value` strings: `owner_id:eq:<uuid>`, `tag:has:vip`,
`created_at:gte:2026-01-01T00:00:00Z`, `phone:eq:+442083661177`, `custom.industry:eq:Retail`, `custom.seats:gte:10`,
`custom.regions:has:EU`. Sorts are `name`, `created`, `updated` (deals also `close_date`,
`amount`) or `custom.<code>` for a text, choice, date, number or money field, each with `-` for
descending. Sort keys that may be empty are compared through a stand-in (empty text, a very
small number) so the order is total and keyset pages never skip a row; ties break on the id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from typing import cast as cast_type

from sqlalchemy import Numeric, Select, and_, bindparam, cast, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm.access import Viewer
from bizosaas.crm.exceptions import InvalidCursor, InvalidFilter
from bizosaas.crm.models import (
    Company,
    CustomField,
    Deal,
    Employment,
    FieldKind,
    Lead,
    OwnedRecord,
    Person,
    RecordType,
)
from bizosaas.kit.pagination import CursorError, decode_cursor, encode_cursor

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8
EMPTY_NUMBER = Decimal("-1e15")
"""Stands in for a missing number when sorting: below every amount the API accepts."""

MODELS: Mapping[RecordType, type[OwnedRecord]] = {
    RecordType.person: Person,
    RecordType.company: Company,
    RecordType.lead: Lead,
    RecordType.deal: Deal,
}


def table_name(model: type[OwnedRecord]) -> str:
    return str(cast_type(Any, model).__tablename__)


def words(value: str, *, limit: int | None = MAX_WORDS) -> list[str]:
    """The words of `value`, lower case (a query keeps its first `MAX_WORDS`)."""
    found = [word.lower() for word in _WORD.findall(value)]
    return found if limit is None else found[:limit]


def text_filter(model: type[OwnedRecord], dialect: str, query_words: list[str]) -> Any:
    table = table_name(model)
    if dialect == "postgresql":
        tsquery = " & ".join(f"{word}:*" for word in query_words)
        return text(
            f"to_tsvector('simple', {table}.search_text) @@ to_tsquery('simple', :crm_tsquery)"
        ).bindparams(crm_tsquery=tsquery)
    match = " AND ".join(f'"{word}"*' for word in query_words)
    return model.id.in_(
        select(text("record_id"))
        .select_from(text(f"{table}_search"))
        .where(text(f"{table}_search MATCH :crm_match").bindparams(crm_match=match))
    )


# -- sorting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    name: str
    """As the client wrote it (`-custom.seats`): what the cursor is bound to."""
    expression: Any
    kind: str
    """How the cursor stores the key: `text`, `number`, `datetime` or `date`."""
    descending: bool


def _builtin_sorts(model: type[OwnedRecord]) -> dict[str, tuple[Any, str]]:
    names: dict[type[OwnedRecord], Any] = {
        Person: Person.sort_name,
        Company: Company.name,
        Lead: Lead.title,
        Deal: Deal.title,
    }
    name = names[model]
    sorts: dict[str, tuple[Any, str]] = {
        "name": (name, "text"),
        "created": (model.created_at, "datetime"),
        "updated": (model.updated_at, "datetime"),
    }
    if model is Deal:
        sorts["amount"] = (Deal.amount_minor, "number")
        sorts["close_date"] = (func.coalesce(Deal.expected_close_date, date(9999, 12, 31)), "date")
    return sorts


def _custom_value(model: type[OwnedRecord], code: str) -> Any:
    return model.custom[code].as_string()


def sort_key(model: type[OwnedRecord], raw: str, fields: Mapping[str, CustomField]) -> SortKey:
    descending = raw.startswith("-")
    name = raw.removeprefix("-")
    builtin = _builtin_sorts(model)
    if name in builtin:
        expression, kind = builtin[name]
        return SortKey(raw, expression, kind, descending)
    code = name.removeprefix("custom.")
    definition = fields.get(code) if name.startswith("custom.") else None
    if definition is None:
        known = ", ".join([*builtin, *(f"custom.{c}" for c in fields)])
        raise InvalidFilter(f"Cannot sort by {name!r}; sort by one of: {known}.")
    if definition.kind in (FieldKind.number, FieldKind.money):
        value = cast(_custom_value(model, code), Numeric(30, 12))
        return SortKey(raw, func.coalesce(value, EMPTY_NUMBER), "number", descending)
    if definition.kind in (FieldKind.text, FieldKind.choice, FieldKind.date):
        return SortKey(raw, func.coalesce(_custom_value(model, code), ""), "text", descending)
    raise InvalidFilter(f"A {definition.kind} field cannot be a sort order.")


def _cursor_value(kind: str, value: Any) -> str | int:
    if kind in {"datetime", "date"}:
        return str(value.isoformat())
    if kind == "number":
        return str(value)
    return str(value)


def _parse_cursor_value(kind: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a cursor key is text")
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "number":
        return Decimal(value)
    return value


# -- filters ---------------------------------------------------------------------------------

_BUILTIN_FILTERS: dict[str, str] = {
    "owner_id": "uuid",
    "source": "text",
    "tag": "list",
    "created_at": "datetime",
    "updated_at": "datetime",
}
_MODEL_FILTERS: dict[type[OwnedRecord], dict[str, str]] = {
    Person: {
        "lifecycle_stage": "text",
        "company_id": "employment",
        "email": "email",
        "phone": "phone",
    },
    Company: {"lifecycle_stage": "text", "domain": "text"},
    Lead: {"status": "text", "person_id": "uuid", "company_id": "uuid"},
    Deal: {
        "status": "text",
        "pipeline_id": "uuid",
        "stage_id": "uuid",
        "currency": "text",
        "person_id": "uuid",
        "company_id": "uuid",
        "expected_close_date": "date",
    },
}
_OPERATORS: dict[str, set[str]] = {
    "uuid": {"eq"},
    "text": {"eq"},
    "email": {"eq"},
    "phone": {"eq"},
    "employment": {"eq"},
    "list": {"has"},
    "datetime": {"gte", "lte"},
    "date": {"eq", "gte", "lte"},
    FieldKind.text: {"eq"},
    FieldKind.choice: {"eq"},
    FieldKind.boolean: {"eq"},
    FieldKind.multi_choice: {"has"},
    FieldKind.number: {"eq", "gte", "lte"},
    FieldKind.money: {"eq", "gte", "lte"},
    FieldKind.date: {"eq", "gte", "lte"},
}


def _compare(expression: Any, op: str, value: Any) -> Any:
    if op == "gte":
        return expression >= value
    if op == "lte":
        return expression <= value
    return expression == value


def _list_has(model: type[OwnedRecord], dialect: str, path: str, value: str, n: int) -> Any:
    """Whether the JSON array at `path` (a column, or `custom.<code>`) holds `value`."""
    table = table_name(model)
    name = f"crm_has_{n}"
    if path.startswith("custom."):
        code = path.removeprefix("custom.")  # a validated field code: [a-z][a-z0-9_]*
        source = (
            f"json_array_elements_text({table}.custom -> '{code}')"
            if dialect == "postgresql"
            else f"json_each({table}.custom, '$.\"{code}\"')"
        )
    else:
        source = (
            f"json_array_elements_text({table}.{path})"
            if dialect == "postgresql"
            else f"json_each({table}.{path})"
        )
    element = "element" if dialect == "postgresql" else "value"
    alias = " AS element" if dialect == "postgresql" else ""
    # Table, column and field code are ours (a code matches [a-z][a-z0-9_]*); the value is bound.
    sql = f"EXISTS (SELECT 1 FROM {source}{alias} WHERE {element} = :{name})"  # noqa: S608
    return text(sql).bindparams(bindparam(name, value))


def _typed(kind: str, raw: str) -> Any:
    if kind in {"uuid", "employment"}:
        return uuid.UUID(raw)
    if kind == "datetime":
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("a time needs its time zone")
        return parsed
    if kind in ("date", FieldKind.date):
        return date.fromisoformat(raw)
    if kind in (FieldKind.number, FieldKind.money):
        number = Decimal(raw)
        if not number.is_finite():
            raise ValueError("not a number")
        return number
    if kind == FieldKind.boolean:
        if raw not in ("true", "false"):
            raise ValueError("true or false")
        return raw == "true"
    return raw


def filter_clause(
    model: type[OwnedRecord],
    raw: str,
    fields: Mapping[str, CustomField],
    *,
    dialect: str,
    n: int = 0,
) -> Any:
    """The SQL condition of one `field:op:value` filter; `crm.invalid_filter` otherwise."""
    name, _, rest = raw.partition(":")
    op, _, value = rest.partition(":")
    custom = fields.get(name.removeprefix("custom.")) if name.startswith("custom.") else None
    kind = custom.kind if custom else {**_BUILTIN_FILTERS, **_MODEL_FILTERS[model]}.get(name)
    if kind is None:
        raise InvalidFilter(f"Cannot filter by {name!r}.")
    if op not in _OPERATORS[kind]:
        raise InvalidFilter(f"{name} takes {', '.join(sorted(_OPERATORS[kind]))}, not {op!r}.")
    try:
        typed = _typed(kind, value)
    except (ValueError, InvalidOperation) as error:
        raise InvalidFilter(f"{value!r} is not a value of {name}: {error}") from error
    if kind in ("list", FieldKind.multi_choice):
        path = name if custom else "tags"
        return _list_has(model, dialect, path, typed, n)
    if kind == "employment":
        return exists().where(Employment.person_id == Person.id, Employment.company_id == typed)
    if kind == "email":
        return _list_has(model, dialect, "emails", typed.lower(), n)
    if kind == "phone":
        return _list_has(model, dialect, "phones", typed, n)
    if custom is not None:
        expression = _custom_value(model, custom.code)
        if kind in (FieldKind.number, FieldKind.money):
            return _compare(cast(expression, Numeric(30, 12)), op, typed)
        if kind == FieldKind.boolean:
            return model.custom[custom.code].as_boolean().is_(typed)
        if kind == FieldKind.date:
            return _compare(expression, op, typed.isoformat())
        return expression == typed
    return _compare(getattr(model, name), op, typed)


# -- the query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordQuery:
    text: str | None = None
    filters: Sequence[str] = field(default_factory=tuple)
    sort: str = "name"
    cursor: str | None = None
    limit: int = 50


def build(
    model: type[OwnedRecord],
    query: RecordQuery,
    *,
    viewer: Viewer,
    fields: Mapping[str, CustomField],
    dialect: str,
) -> tuple[Select[Any], SortKey]:
    key = sort_key(model, query.sort, fields)
    statement = select(model, key.expression.label("sort_key")).where(
        model.tenant_id == viewer.scope.tenant_id, viewer.clause(model)
    )
    query_words = words(query.text or "")
    if query_words:
        statement = statement.where(text_filter(model, dialect, query_words))
    for n, raw in enumerate(query.filters):
        statement = statement.where(filter_clause(model, raw, fields, dialect=dialect, n=n))
    if query.cursor:
        try:
            last_key, last_id = decode_cursor(key.name, query.cursor, size=2)
            value = _parse_cursor_value(key.kind, last_key)
            row_id = uuid.UUID(str(last_id))
        except (CursorError, ValueError, InvalidOperation) as error:
            raise InvalidCursor("Use the next_cursor of a page with the same sort.") from error
        if key.descending:
            statement = statement.where(
                or_(key.expression < value, and_(key.expression == value, model.id < row_id))
            )
        else:
            statement = statement.where(
                or_(key.expression > value, and_(key.expression == value, model.id > row_id))
            )
    order = (
        (key.expression.desc(), model.id.desc()) if key.descending else (key.expression, model.id)
    )
    return statement.order_by(*order).limit(query.limit + 1), key


async def find(
    session: AsyncSession,
    model: type[OwnedRecord],
    query: RecordQuery,
    *,
    viewer: Viewer,
    fields: Mapping[str, CustomField],
) -> tuple[list[Any], str | None]:
    """A page of records the viewer may see, and the cursor of the next page (None on the last)."""
    dialect = session.get_bind().dialect.name
    statement, key = build(model, query, viewer=viewer, fields=fields, dialect=dialect)
    rows = list((await session.execute(statement)).all())
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last, last_key = rows[-1]
        next_cursor = encode_cursor(key.name, [_cursor_value(key.kind, last_key), str(last.id)])
    return [row[0] for row in rows], next_cursor
