"""Who may do what in the CRM: the permissions the module declares, the role grants, and the
dependencies endpoints check them with. Which records a permitted caller then sees is the
tenant's record-level rule (access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bizosaas.kit.auth import Principal, require
from bizosaas.kit.permissions import Role

RESOURCES = {
    "contact": "people, companies and leads",
    "deal": "deals, moving them between stages, winning and losing them",
    "pipeline": "pipelines, their stages and the forecast",
    "activity": "tasks, calls, meetings, notes and the timelines",
    "field": "the tenant's custom field definitions",
    "access": "the tenant's record-level access rule",
}

CRM_PERMISSIONS: dict[str, str] = {
    **{f"crm.{name}:read": f"See {what}" for name, what in RESOURCES.items()},
    **{
        f"crm.{name}:write": f"Create, change and delete {what}" for name, what in RESOURCES.items()
    },
}

CRM_ROLE_GRANTS: dict[str, list[str]] = {Role.staff: ["crm.deal:write", "crm.activity:write"]}
"""Staff work their deals and activities (the platform's matrix gives them `crm.*:read` and
`crm.contact:write`); pipelines, custom fields and the access rule stay with managers."""

ContactReader = Annotated[Principal, Depends(require("crm.contact:read"))]
ContactWriter = Annotated[Principal, Depends(require("crm.contact:write"))]
DealReader = Annotated[Principal, Depends(require("crm.deal:read"))]
DealWriter = Annotated[Principal, Depends(require("crm.deal:write"))]
PipelineReader = Annotated[Principal, Depends(require("crm.pipeline:read"))]
PipelineWriter = Annotated[Principal, Depends(require("crm.pipeline:write"))]
ActivityReader = Annotated[Principal, Depends(require("crm.activity:read"))]
ActivityWriter = Annotated[Principal, Depends(require("crm.activity:write"))]
FieldReader = Annotated[Principal, Depends(require("crm.field:read"))]
FieldWriter = Annotated[Principal, Depends(require("crm.field:write"))]
AccessReader = Annotated[Principal, Depends(require("crm.access:read"))]
AccessWriter = Annotated[Principal, Depends(require("crm.access:write"))]
