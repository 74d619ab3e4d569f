"""Custom field definitions: per tenant and record type, what values each field takes."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository
from bizosaas.crm.exceptions import (
    CrmNotFound,
    FieldCodeTaken,
    InvalidCustomFields,
    field_error,
)
from bizosaas.crm.models import CustomField, FieldKind, RecordType
from bizosaas.crm.schemas import CustomFieldCreate, CustomFieldRead, CustomFieldUpdate
from bizosaas.crm.service.values import check_currency, unique
from bizosaas.kit.tenancy import TenantScope, bind_tenant

CHOICE_KINDS = (FieldKind.choice, FieldKind.multi_choice)


def field_read(definition: CustomField) -> CustomFieldRead:
    return CustomFieldRead(
        id=definition.id,
        record_type=RecordType(definition.record_type),
        code=definition.code,
        label=definition.label,
        kind=FieldKind(definition.kind),
        choices=list(definition.choices),
        currency=definition.currency,
        required=definition.required,
    )


async def definitions(
    session: AsyncSession, *, scope: TenantScope, record_type: RecordType
) -> dict[str, CustomField]:
    await bind_tenant(session, scope)
    rows = await repository.custom_fields(session, scope=scope, record_type=record_type)
    return {row.code: row for row in rows}


def _check_shape(kind: FieldKind, choices: list[str], currency: str | None) -> None:
    problems = []
    if kind in CHOICE_KINDS and not choices:
        problems.append("choices: a choice field offers at least one")
    if kind not in CHOICE_KINDS and choices:
        problems.append("choices: only choice fields have choices")
    if kind == FieldKind.money and currency is None:
        problems.append("currency: a money field names its currency")
    if kind != FieldKind.money and currency is not None:
        problems.append("currency: only money fields have a currency")
    if problems:
        raise InvalidCustomFields(
            "; ".join(problems),
            errors=[
                field_error(["body", p.split(":", 1)[0]], p.split(": ", 1)[1], "crm.invalid_field")
                for p in problems
            ],
        )


async def list_fields(
    session: AsyncSession, *, scope: TenantScope, record_type: RecordType | None
) -> list[CustomFieldRead]:
    await bind_tenant(session, scope)
    rows = await repository.custom_fields(session, scope=scope, record_type=record_type)
    return [field_read(row) for row in rows]


async def create_field(
    session: AsyncSession, *, scope: TenantScope, data: CustomFieldCreate
) -> CustomFieldRead:
    existing = await definitions(session, scope=scope, record_type=data.record_type)
    if data.code in existing:
        raise FieldCodeTaken(f"The {data.record_type} field {data.code} exists.")
    choices = unique(data.choices)
    _check_shape(data.kind, choices, data.currency)
    if data.currency:
        check_currency(data.currency)
    definition = CustomField(
        record_type=data.record_type,
        code=data.code,
        label=data.label,
        kind=data.kind,
        choices=choices,
        currency=data.currency,
        required=data.required,
        position=len(existing),
    )
    session.add(definition)
    await session.flush()
    return field_read(definition)


async def _found(session: AsyncSession, *, scope: TenantScope, field_id: uuid.UUID) -> CustomField:
    await bind_tenant(session, scope)
    definition = await repository.get(session, CustomField, scope=scope, row_id=field_id)
    if definition is None:
        raise CrmNotFound(f"No custom field {field_id} in this CRM.")
    return definition


async def read_field(
    session: AsyncSession, *, scope: TenantScope, field_id: uuid.UUID
) -> CustomFieldRead:
    return field_read(await _found(session, scope=scope, field_id=field_id))


async def update_field(
    session: AsyncSession, *, scope: TenantScope, field_id: uuid.UUID, data: CustomFieldUpdate
) -> CustomFieldRead:
    """Label, choices and whether it is required change; code, kind and currency do not (the
    stored values depend on them). Values of a removed choice stay until the record changes."""
    definition = await _found(session, scope=scope, field_id=field_id)
    if data.choices is not None:
        choices = unique(data.choices)
        _check_shape(FieldKind(definition.kind), choices, definition.currency)
        definition.choices = choices
    if data.label is not None:
        definition.label = data.label
    if data.required is not None:
        definition.required = data.required
    await session.flush()
    return field_read(definition)


async def delete_field(session: AsyncSession, *, scope: TenantScope, field_id: uuid.UUID) -> None:
    """The definition goes; values already stored stay in the records' JSON, unseen by filters
    and refused as unknown on the next change that names them."""
    definition = await _found(session, scope=scope, field_id=field_id)
    await session.delete(definition)
    await session.flush()
