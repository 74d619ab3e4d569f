"""The store's channels, delivery and tax in the workspace (`/app/commerce/channels`): each
channel with its currency, its shipping zones and methods and its tax settings, and forms to
add a channel, a zone, a method, and to set the tax. Changes go through the same use cases as
the staff API; a refused change is shown as a message and changes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from bizosaas.commerce.currencies import MINOR_UNITS
from bizosaas.commerce.schemas import ChannelCreate
from bizosaas.commerce.schemas_sales import ShippingMethodCreate, ShippingZoneCreate, TaxConfigSet
from bizosaas.commerce.service import channels, shipping
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/app/commerce/channels", include_in_schema=False, route_class=WebRoute)
ChannelReader = Annotated[Viewer, Depends(require_permission("commerce.channel:read"))]
ChannelWriter = Annotated[Viewer, Depends(require_permission("commerce.channel:write"))]
ShippingWriter = Annotated[Viewer, Depends(require_permission("commerce.shipping:write"))]
NAV_LINK = NavLink(
    WebApp.workspace,
    "business",
    "Channels",
    "/app/commerce/channels",
    permission="commerce.channel:read",
    icon="server",
)
HERE = "/app/commerce/channels"
INVALID = "Check the form: {problem}"


def _refused(request: Request, error: ValidationError | ValueError) -> Response:
    problem = "a value is not valid."
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        problem = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}."
    flash(request, INVALID.format(problem=problem), "error")
    return redirect(request, HERE)


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text.strip() else None
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None


@router.get("")
async def channel_list(
    request: Request, viewer: ChannelReader, session: WorkspaceSession
) -> Response:
    scope = workspace_scope(viewer)
    all_channels = await channels.list_channels(session, scope=scope)
    zones = await shipping.list_zones(session, scope=scope)
    context: dict[str, Any] = {
        "title": "Channels and delivery",
        "lead": "Where the store sells, in which currency, where it delivers and the tax it charges.",
        "channels": all_channels,
        "zones": {c.id: [z for z in zones if z.channel_id == c.id] for c in all_channels},
        "taxes": {
            c.id: await shipping.read_tax(session, scope=scope, channel_id=c.id)
            for c in all_channels
        },
        "currencies": sorted(MINOR_UNITS),
        "can_edit": viewer.can("commerce.channel:write"),
        "can_ship": viewer.can("commerce.shipping:write"),
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/channels.html", context)


@router.post("")
async def add_channel(
    request: Request, viewer: ChannelWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    try:
        data = ChannelCreate(
            name=values.get("name", "").strip(),
            slug=values.get("slug", "").strip(),
            currency=values.get("currency", ""),
        )
    except ValidationError as error:
        return _refused(request, error)
    made = channels.create_channel(session, scope=workspace_scope(viewer), data=data)
    return await act_and_redirect(
        request, session, made, done=lambda c: f"Channel {c.name} created.", to=HERE
    )


@router.post("/{channel_id}/zones")
async def add_zone(
    request: Request, channel_id: uuid.UUID, viewer: ShippingWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    countries = [c for c in values.get("countries", "").replace(",", " ").upper().split() if c]
    try:
        data = ShippingZoneCreate(
            channel_id=channel_id, name=values.get("name", "").strip(), countries=countries
        )
    except ValidationError as error:
        return _refused(request, error)
    made = shipping.create_zone(session, scope=workspace_scope(viewer), data=data)
    return await act_and_redirect(
        request, session, made, done=lambda z: f"Zone {z.name} added.", to=HERE
    )


@router.post("/zones/{zone_id}/methods")
async def add_method(
    request: Request, zone_id: uuid.UUID, viewer: ShippingWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    try:
        data = ShippingMethodCreate(
            name=values.get("name", "").strip(),
            price=_amount(values.get("price", "")) or Decimal(0),
            free_over=_amount(values.get("free_over", "")),
        )
    except (ValidationError, ValueError) as error:
        return _refused(request, error)
    made = shipping.add_method(session, scope=workspace_scope(viewer), zone_id=zone_id, data=data)
    return await act_and_redirect(
        request, session, made, done=lambda m: f"Delivery method {m.name} added.", to=HERE
    )


@router.post("/{channel_id}/tax")
async def set_tax(
    request: Request, channel_id: uuid.UUID, viewer: ShippingWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    try:
        data = TaxConfigSet(
            prices_include_tax=values.get("prices_include_tax") == "1",
            default_rate=_amount(values.get("default_rate", "")) or Decimal(0),
        )
    except (ValidationError, ValueError) as error:
        return _refused(request, error)
    current = await shipping.read_tax(session, scope=workspace_scope(viewer), channel_id=channel_id)
    data = data.model_copy(update={"country_rates": current.country_rates})
    saved = shipping.set_tax(
        session, scope=workspace_scope(viewer), channel_id=channel_id, data=data
    )
    return await act_and_redirect(request, session, saved, done=lambda _: "Tax saved.", to=HERE)
