"""The store's workspace pages (`/app/commerce/...`): products with bulk edit, a product with
its variants' prices and stock, and inventory. Every change goes through the same service
functions as the staff API, so the same rules and errors apply; a refused change is flashed and
changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.commerce import repository
from bizosaas.commerce.schemas import (
    ChannelRead,
    PriceSet,
    ProductRead,
    ProductUpdate,
    PublicationSet,
)
from bizosaas.commerce.service import catalog, channels, inventory, listing
from bizosaas.kit.errors import Problem
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.kit.tenancy import TenantScope
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import (
    WebRoute,
    act_and_redirect,
    flash,
    read_form,
    read_form_with_list,
    redirect,
)

router = APIRouter(prefix="/app/commerce", include_in_schema=False, route_class=WebRoute)
ProductReader = Annotated[Viewer, Depends(require_permission("commerce.product:read"))]
ProductWriter = Annotated[Viewer, Depends(require_permission("commerce.product:write"))]
InventoryReader = Annotated[Viewer, Depends(require_permission("commerce.inventory:read"))]
InventoryWriter = Annotated[Viewer, Depends(require_permission("commerce.inventory:write"))]
NAV_LINKS = (
    NavLink(
        WebApp.workspace,
        "business",
        "Products",
        "/app/commerce/products",
        permission="commerce.product:read",
        icon="box",
    ),
    NavLink(
        WebApp.workspace,
        "business",
        "Inventory",
        "/app/commerce/inventory",
        permission="commerce.inventory:read",
        icon="list",
    ),
)
PRODUCTS = "/app/commerce/products"
BULK_ACTIONS = {
    "publish": "Publish in the channel",
    "unpublish": "Unpublish in the channel",
    "category": "Move to the category",
}
MAX_BULK = 200


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _chosen_channel(all_channels: list[ChannelRead], wanted: uuid.UUID | None) -> Any:
    return next(
        (c for c in all_channels if c.id == wanted), all_channels[0] if all_channels else None
    )


def _price_range(product: ProductRead, channel: ChannelRead | None) -> tuple[Any, Any]:
    if channel is None:
        return None, None
    amounts = [
        price.amount
        for variant in product.variants
        for price in variant.prices
        if price.channel_id == channel.id
    ]
    return (min(amounts), max(amounts)) if amounts else (None, None)


def _published(product: ProductRead, channel: ChannelRead | None) -> bool:
    return channel is not None and any(
        p.channel_id == channel.id and p.is_published for p in product.publications
    )


async def _stock_totals(
    session: AsyncSession, scope: TenantScope, products: list[ProductRead]
) -> dict[uuid.UUID, int | None]:
    """Free stock per product over its variants that track inventory (None: none track it)."""
    variant_ids = [v.id for p in products for v in p.variants if v.track_inventory]
    free = await repository.free_stock(session, scope=scope, variant_ids=variant_ids)
    totals: dict[uuid.UUID, int | None] = {}
    for product in products:
        tracked = [free[v.id] for v in product.variants if v.track_inventory]
        totals[product.id] = sum(tracked) if tracked else None
    return totals


# -- products --------------------------------------------------------------------------------


@router.get("/products")
async def products(
    request: Request,
    viewer: ProductReader,
    session: WorkspaceSession,
    *,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    scope = workspace_scope(viewer)
    categories = await catalog.list_categories(session, scope=scope)
    all_channels = await channels.list_channels(session, scope=scope)
    chosen = _chosen_channel(all_channels, _uuid(channel))
    category_id = _uuid(category)
    if category_id not in {c.id for c in categories}:
        category_id = None
    try:
        found = await listing.find_products(
            session, scope=scope, text=q, category_id=category_id, cursor=cursor, limit=50
        )
    except Problem as problem:  # a cursor from another search: start again from the top
        flash(request, problem.detail, "error")
        return redirect(request, PRODUCTS)
    totals = await _stock_totals(session, scope, found.items)
    rows = [
        {
            "product": product,
            "price": _price_range(product, chosen),
            "published": _published(product, chosen),
            "stock": totals[product.id],
        }
        for product in found.items
    ]
    filters = {
        "q": q or "",
        "category": str(category_id or ""),
        "channel": str(chosen.id) if chosen else "",
    }
    context = {
        "title": "Products",
        "lead": "Everything your store sells. Tick products to publish, unpublish or move several at once.",
        "rows": rows,
        "categories": categories,
        "category_names": {c.id: c.name for c in categories},
        "channels": all_channels,
        "channel": chosen,
        "filters": filters,
        "next_query": {k: v for k, v in filters.items() if v},
        "next_cursor": found.next_cursor,
        "bulk_actions": BULK_ACTIONS,
        "can_edit": viewer.can("commerce.product:write"),
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/products.html", context)


async def _apply_bulk(
    session: AsyncSession,
    scope: TenantScope,
    product_ids: list[uuid.UUID],
    action: str,
    target: uuid.UUID,
) -> int:
    for product_id in product_ids:
        if action == "category":
            await catalog.update_product(
                session,
                scope=scope,
                product_id=product_id,
                data=ProductUpdate(category_id=target),
            )
        else:
            await channels.publish(
                session,
                scope=scope,
                product_id=product_id,
                channel_id=target,
                data=PublicationSet(is_published=action == "publish"),
            )
    return len(product_ids)


@router.post("/products/bulk")
async def bulk_edit(request: Request, viewer: ProductWriter, session: WorkspaceSession) -> Response:
    """One change to every ticked product, all or nothing."""
    values, ticked = await read_form_with_list(request, "product")
    back = values.get("back", PRODUCTS)
    back = back if back.startswith(PRODUCTS) else PRODUCTS
    product_ids = [pid for pid in map(_uuid, ticked) if pid is not None]
    action = values.get("action", "")
    target = _uuid(values.get("category_id") if action == "category" else values.get("channel_id"))
    if not product_ids or len(product_ids) > MAX_BULK:
        flash(request, f"Tick between 1 and {MAX_BULK} products.", "error")
        return redirect(request, back)
    if action not in BULK_ACTIONS or target is None:
        flash(request, "Choose what to do, and the channel or category it applies to.", "error")
        return redirect(request, back)
    changed = _apply_bulk(session, workspace_scope(viewer), product_ids, action, target)
    return await act_and_redirect(
        request,
        session,
        changed,
        done=lambda count: f"{count} product{'s' if count != 1 else ''} changed.",
        to=back,
    )


@router.get("/products/{product_id}")
async def product_detail(
    request: Request, product_id: uuid.UUID, viewer: ProductReader, session: WorkspaceSession
) -> Response:
    scope = workspace_scope(viewer)
    product = await listing.read_product(session, scope=scope, product_id=product_id)
    warehouses = await inventory.list_warehouses(session, scope=scope)
    variant_ids = [v.id for v in product.variants]
    stock = {
        (row.variant_id, row.warehouse_id): row
        for variant_id in variant_ids
        for row in await inventory.stock_of_variant(session, scope=scope, variant_id=variant_id)
    }
    context = {
        "title": product.name,
        "lead": f"Slug {product.slug} · {len(product.variants)} variant(s)",
        "product": product,
        "categories": await catalog.list_categories(session, scope=scope),
        "channels": await channels.list_channels(session, scope=scope),
        "warehouses": warehouses,
        "stock": stock,
        "publications": {p.channel_id: p for p in product.publications},
        "can_edit": viewer.can("commerce.product:write"),
        "can_stock": viewer.can("commerce.inventory:write"),
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/product.html", context)


@router.post("/products/{product_id}")
async def save_product(
    request: Request, product_id: uuid.UUID, viewer: ProductWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    here = f"{PRODUCTS}/{product_id}"
    try:
        data = ProductUpdate(
            name=values.get("name", "").strip() or None,
            category_id=_uuid(values.get("category_id")),
            description_html=values.get("description_html", ""),
            seo_title=values.get("seo_title", "").strip() or None,
            seo_description=values.get("seo_description", "").strip() or None,
        )
    except ValueError:
        flash(request, "Check the name (up to 250 characters) and the SEO fields.", "error")
        return redirect(request, here)
    saved = catalog.update_product(
        session, scope=workspace_scope(viewer), product_id=product_id, data=data
    )
    return await act_and_redirect(request, session, saved, done=lambda _: "Product saved.", to=here)


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < 10**9 else None


@router.post("/variants/{variant_id}/price")
async def set_price(
    request: Request, variant_id: uuid.UUID, viewer: ProductWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    back = f"{PRODUCTS}/{_uuid(values.get('product_id')) or ''}".rstrip("/")
    amount, channel_id = _decimal(values.get("amount")), _uuid(values.get("channel_id"))
    if amount is None or channel_id is None:
        flash(request, "Enter a price of 0 or more, such as 12.50.", "error")
        return redirect(request, back)
    changed = channels.set_price(
        session,
        scope=workspace_scope(viewer),
        variant_id=variant_id,
        channel_id=channel_id,
        data=PriceSet(amount=amount, is_available=values.get("is_available") == "1"),
    )
    return await act_and_redirect(
        request, session, changed, done=lambda p: f"Price set to {p.amount} {p.currency}.", to=back
    )


@router.post("/products/{product_id}/publication")
async def set_publication(
    request: Request, product_id: uuid.UUID, viewer: ProductWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    here = f"{PRODUCTS}/{product_id}"
    channel_id = _uuid(values.get("channel_id"))
    if channel_id is None:
        flash(request, "Choose a channel.", "error")
        return redirect(request, here)
    shown = values.get("is_published") == "1"
    changed = channels.publish(
        session,
        scope=workspace_scope(viewer),
        product_id=product_id,
        channel_id=channel_id,
        data=PublicationSet(is_published=shown),
    )
    done = "Published." if shown else "Unpublished."
    return await act_and_redirect(request, session, changed, done=lambda _: done, to=here)


# -- inventory -------------------------------------------------------------------------------


@router.post("/variants/{variant_id}/stock")
async def set_stock(
    request: Request, variant_id: uuid.UUID, viewer: InventoryWriter, session: WorkspaceSession
) -> Response:
    values = await read_form(request)
    back = values.get("back", "/app/commerce/inventory")
    back = back if back.startswith("/app/commerce/") else "/app/commerce/inventory"
    warehouse_id = _uuid(values.get("warehouse_id"))
    quantity = values.get("quantity", "").strip()
    if warehouse_id is None or not quantity.isdigit() or int(quantity) > 1_000_000_000:
        flash(request, "Enter a whole number of units, 0 or more.", "error")
        return redirect(request, back)
    changed = inventory.set_stock(
        session,
        scope=workspace_scope(viewer),
        variant_id=variant_id,
        warehouse_id=warehouse_id,
        quantity=int(quantity),
    )
    return await act_and_redirect(
        request, session, changed, done=lambda s: f"Stock set to {s.quantity}.", to=back
    )


@router.get("/inventory")
async def inventory_page(
    request: Request,
    viewer: InventoryReader,
    session: WorkspaceSession,
    low: bool = False,
) -> Response:
    scope = workspace_scope(viewer)
    warehouses = await inventory.list_warehouses(session, scope=scope)
    rows = await inventory.stock_levels(session, scope=scope, low_only=low)
    context = {
        "title": "Inventory",
        "lead": "What each warehouse can still sell, and what allocations hold. A variant is low "
        "at or below its low-stock threshold (sold out without one).",
        "warehouses": warehouses,
        "rows": rows,
        "low": low,
        "can_stock": viewer.can("commerce.inventory:write"),
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/inventory.html", context)
