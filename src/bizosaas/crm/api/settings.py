"""The tenant's CRM settings: custom field definitions and the record-level access rule."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from bizosaas.crm.api.common import errors
from bizosaas.crm.auth import AccessReader, AccessWriter, FieldReader, FieldWriter
from bizosaas.crm.models import RecordType
from bizosaas.crm.schemas import (
    AccessPolicyRead,
    CustomFieldCreate,
    CustomFieldRead,
    CustomFieldUpdate,
)
from bizosaas.crm.service import access, fields
from bizosaas.kit.auth import TenantSession, scope_of

router = APIRouter(tags=["crm: settings"])
FIELD_SHAPE = "`crm.invalid_custom_fields`: choices or currency that do not fit the kind"


@router.get("/fields", summary="Custom field definitions")
async def list_fields(
    principal: FieldReader, session: TenantSession, record_type: RecordType | None = None
) -> list[CustomFieldRead]:
    return await fields.list_fields(session, scope=scope_of(principal), record_type=record_type)


@router.post(
    "/fields",
    status_code=201,
    summary="Add a custom field to a record type",
    responses=errors(not_found=False, conflicts="`crm.code_taken`", status_422=FIELD_SHAPE),
)
async def create_field(
    data: CustomFieldCreate, principal: FieldWriter, session: TenantSession
) -> CustomFieldRead:
    return await fields.create_field(session, scope=scope_of(principal), data=data)


@router.get("/fields/{field_id}", summary="One custom field", responses=errors())
async def read_field(
    field_id: uuid.UUID, principal: FieldReader, session: TenantSession
) -> CustomFieldRead:
    return await fields.read_field(session, scope=scope_of(principal), field_id=field_id)


@router.patch(
    "/fields/{field_id}",
    summary="Change a custom field's label, choices or whether it is required",
    responses=errors(status_422=FIELD_SHAPE),
)
async def update_field(
    field_id: uuid.UUID, data: CustomFieldUpdate, principal: FieldWriter, session: TenantSession
) -> CustomFieldRead:
    return await fields.update_field(
        session, scope=scope_of(principal), field_id=field_id, data=data
    )


@router.delete(
    "/fields/{field_id}", status_code=204, summary="Remove a custom field", responses=errors()
)
async def delete_field(
    field_id: uuid.UUID, principal: FieldWriter, session: TenantSession
) -> Response:
    await fields.delete_field(session, scope=scope_of(principal), field_id=field_id)
    return Response(status_code=204)


@router.get("/access", summary="The record-level access rule of this tenant")
async def read_access(principal: AccessReader, session: TenantSession) -> AccessPolicyRead:
    return AccessPolicyRead(rule=await access.current_rule(session, scope=scope_of(principal)))


@router.put("/access", summary="Set the record-level access rule: everyone, team or owner")
async def set_access(
    data: AccessPolicyRead, principal: AccessWriter, session: TenantSession
) -> AccessPolicyRead:
    return await access.set_rule(session, scope=scope_of(principal), rule=data.rule)
