"""The store's vouchers in the workspace (`/app/commerce/discounts`): every voucher with its
use, a form for a new one, and switching one off or on; the automatic promotions are listed
beside them. Changes go through the discounts use cases, so the API's rules apply."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.schemas_sales import VoucherCreate, VoucherUpdate
from bizosaas.commerce.service import channels, discounts
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.forms import Form
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, act_and_redirect, read_form

router = APIRouter(prefix="/app/commerce/discounts", include_in_schema=False, route_class=WebRoute)
DiscountReader = Annotated[Viewer, Depends(require_permission("commerce.discount:read"))]
DiscountWriter = Annotated[Viewer, Depends(require_permission("commerce.discount:write"))]
NAV_LINK = NavLink(
    WebApp.workspace,
    "business",
    "Discounts",
    "/app/commerce/discounts",
    permission="commerce.discount:read",
    icon="badge",
)
HERE = "/app/commerce/discounts"
NEW_VOUCHER: TypeAdapter[VoucherCreate] = TypeAdapter(VoucherCreate)
KINDS = {
    DiscountKind.percentage.value: "Percentage off",
    DiscountKind.fixed.value: "Fixed amount off",
    DiscountKind.free_shipping.value: "Free delivery",
}


async def _show(
    request: Request,
    viewer: Viewer,
    session: WorkspaceSession,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    scope = workspace_scope(viewer)
    all_channels = await channels.list_channels(session, scope=scope)
    context: dict[str, Any] = {
        "title": "Discounts",
        "lead": "Vouchers customers type at checkout, and promotions that apply by themselves.",
        "vouchers": await discounts.list_vouchers(session, scope=scope),
        "promotions": await discounts.list_promotions(session, scope=scope),
        "channels": {c.id: c for c in all_channels},
        "channel_options": [(str(c.id), f"{c.name} ({c.currency})") for c in all_channels],
        "kinds": KINDS,
        "kind_options": list(KINDS.items()),
        "can_edit": viewer.can("commerce.discount:write"),
        "values": values or {"kind": DiscountKind.percentage.value},
        "errors": errors or {},
    }
    response = page(request, WebApp.workspace, viewer, "commerce/workspace/discounts.html", context)
    if errors:
        response.status_code = 422
    return response


@router.get("")
async def discount_list(
    request: Request, viewer: DiscountReader, session: WorkspaceSession
) -> Response:
    return await _show(request, viewer, session)


def _decimal(form: Form, name: str) -> Decimal | None:
    text = form.get(name)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        form.errors[name] = "Enter a number, such as 10 or 4.50."
        return None


@router.post("")
async def create_voucher(
    request: Request, viewer: DiscountWriter, session: WorkspaceSession
) -> Response:
    form = Form(await read_form(request))
    code = form.require("code", "Enter the code customers will type.")
    channel = form.require("channel_id", "Choose a channel.")
    kind = form.choice("kind", KINDS, "Choose what the voucher gives.")
    value = _decimal(form, "value")
    limit = form.get("usage_limit")
    if limit and not limit.isdigit():
        form.errors["usage_limit"] = "Enter a whole number, or leave it empty."
    if not form.ok:
        return await _show(request, viewer, session, values=form.values, errors=form.errors)
    fields: dict[str, Any] = {
        "channel_id": channel,
        "code": code,
        "name": form.get("name"),
        "kind": kind,
        "usage_limit": int(limit) if limit else None,
    }
    if kind == DiscountKind.percentage.value:
        fields["percentage"] = value
    elif kind == DiscountKind.fixed.value:
        fields["amount"] = value
    try:
        data = NEW_VOUCHER.validate_python(fields)
    except (ValidationError, ValueError) as error:
        message = "Check the code (letters, digits, - and _), the value and the limit."
        if isinstance(error, ValidationError) and error.errors():
            message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        form.errors["__all__"] = message
        return await _show(request, viewer, session, values=form.values, errors=form.errors)
    created = discounts.create_voucher(session, scope=workspace_scope(viewer), data=data)
    return await act_and_redirect(
        request, session, created, done=lambda v: f"Voucher {v.code} created.", to=HERE
    )


@router.post("/vouchers/{voucher_id}/active")
async def switch_voucher(
    request: Request, voucher_id: uuid.UUID, viewer: DiscountWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    active = values.get("is_active") == "1"
    changed = discounts.update_voucher(
        session,
        scope=workspace_scope(viewer),
        voucher_id=voucher_id,
        data=VoucherUpdate(is_active=active),
    )
    said = "on" if active else "off"
    return await act_and_redirect(
        request, session, changed, done=lambda v: f"Voucher {v.code} is {said}.", to=HERE
    )
