"""CRM errors, each with a stable machine code (answered as problem+json)."""

from __future__ import annotations

from bizosaas.kit.errors import Conflict, InvalidInput, NotFound, Problem


def field_error(loc: list[str], msg: str, kind: str) -> dict[str, object]:
    """One entry of a 422 problem's `errors`, shaped as the request validator's own (`loc`,
    `msg`, `type`), so a client reads every 422 the same way."""
    return {"loc": loc, "msg": msg, "type": kind}


class CrmNotFound(NotFound):
    """A record the caller cannot see: missing, another tenant's, or one the tenant's
    record-level rule hides from them (none of which is confirmed)."""

    code = "crm.not_found"
    title = "Not found in this CRM"


class InvalidCustomFields(InvalidInput):
    """Custom field values that do not fit the tenant's definitions (unknown code, wrong kind,
    a choice not offered, a required field missing); `errors` lists every problem."""

    code = "crm.invalid_custom_fields"
    title = "Custom field values do not fit their definitions"


class InvalidPhone(InvalidInput):
    code = "crm.invalid_phone"
    title = "A phone number is not valid"


class InvalidOwner(InvalidInput):
    """An owner or assignee who is not a member of the tenant."""

    code = "crm.invalid_owner"
    title = "Owners and assignees must be members of this tenant"


class InvalidFilter(InvalidInput):
    code = "crm.invalid_filter"
    title = "A filter or sort is not valid"


class InvalidMerge(InvalidInput):
    code = "crm.invalid_merge"
    title = "A person cannot be merged into themselves"


class InvalidStage(Conflict):
    """A stage of another pipeline than the deal's, or a pipeline left without stages."""

    code = "crm.invalid_stage"
    title = "The stage does not belong to this pipeline"


class DealClosed(Conflict):
    code = "crm.deal_closed"
    title = "The deal is already won or lost"


class FieldCodeTaken(Conflict):
    code = "crm.code_taken"
    title = "A custom field of this code exists for this record type"


class NameTaken(Conflict):
    code = "crm.name_taken"
    title = "This name is already used in this CRM"


class InUse(Conflict):
    """A pipeline or stage that deals still sit in."""

    code = "crm.in_use"
    title = "Still in use"


class InvalidCursor(Problem):
    status = 400
    code = "crm.invalid_cursor"
    title = "The page cursor is not valid"
