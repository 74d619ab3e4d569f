"""The public storefront API: carts and checkout with no login, under
/api/brain/commerce/storefront/{store_slug}/.

The store is the active tenant with that slug (identity resolves it); the session acts for that
tenant only. A checkout is addressed by its unguessable token, which is all a guest holds; a
signed-in member of the store's tenant shops as a customer and reads their own orders.
Completion takes an `Idempotency-Key`, owned by the store and the checkout, so a retry (also
one whose first answer was lost) returns the first order and never places a second.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from bizosaas.commerce.api.common import errors
from bizosaas.commerce.auth import OwnOrdersReader
from bizosaas.commerce.exceptions import CommerceNotFound
from bizosaas.commerce.schemas_sales import (
    CheckoutCreate,
    CheckoutCreated,
    CheckoutLineAdd,
    CheckoutLineUpdate,
    CheckoutRead,
    CheckoutUpdate,
    CheckoutVoucher,
    OrderRead,
    OrderSummary,
)
from bizosaas.commerce.service import checkout, completion, orders
from bizosaas.identity.service import active_tenant_by_slug
from bizosaas.kit.auth import OptionalPrincipal, PrincipalKind
from bizosaas.kit.db import Database
from bizosaas.kit.deps import DbSession, get_database
from bizosaas.kit.idempotency import IdempotencyKey, IdempotentRoute, name_public_caller
from bizosaas.kit.tenancy import TenantScope, bind_tenant, trusted_scope

router = APIRouter(
    prefix="/storefront/{store_slug}", route_class=IdempotentRoute, tags=["commerce: storefront"]
)

# Not length-checked in the schema on purpose: a malformed slug or token names no store or
# checkout and answers 404 like any other unknown one, and the idempotency caller is always named.
StoreSlug = Annotated[str, Path(description="The store's slug.")]
Token = Annotated[str, Path(description="The checkout's token (from its creation).")]
CHECKOUT_CONFLICTS = "`commerce.checkout_completed`, `commerce.variant_unavailable`"


@dataclass(frozen=True, slots=True)
class Store:
    scope: TenantScope
    customer: checkout.Customer


async def store_of(
    store_slug: StoreSlug,
    database: Annotated[Database, Depends(get_database)],
    session: DbSession,
    principal: OptionalPrincipal,
) -> Store:
    """The store named in the path, with the request's session bound to it; 404
    `commerce.not_found` for an unknown or suspended store. A signed-in member of that store's
    tenant is its customer.

    The store is looked up in a short read-only unit of work of its own, so the request's
    session opens no transaction before the operation runs (an `Idempotency-Key` is reserved
    in between, and on SQLite a write transaction would hold the lock the reservation needs)."""
    async with database.unit_of_work(read_only=True) as lookup:
        tenant = await active_tenant_by_slug(lookup, slug=store_slug)
    if tenant is None:
        raise CommerceNotFound(f"No store {store_slug}.")
    # The tenant comes from the store's public slug, looked up in the database, not from a
    # credential: the storefront acts for the store whose page the visitor opened.
    scope = trusted_scope(tenant.id)
    await bind_tenant(session, scope)
    customer = checkout.Customer()
    if (
        principal is not None
        and principal.kind is PrincipalKind.user
        and principal.scope is not None
        and principal.scope.tenant_id == tenant.id
    ):
        customer = checkout.Customer(user_id=principal.subject)
    return Store(scope=scope, customer=customer)


StoreOf = Annotated[Store, Depends(store_of)]


async def checkout_caller(request: Request, store: StoreOf, token: Token) -> None:
    """Idempotency keys on a checkout belong to the store and that checkout."""
    name_public_caller(request, scope=store.scope, subject=checkout.token_hash(token))


@router.post(
    "/checkouts",
    status_code=201,
    summary="Start a checkout (guest, or the signed-in customer); answers its secret token",
    responses=errors(conflicts=CHECKOUT_CONFLICTS),
)
async def create_checkout(
    data: CheckoutCreate, store: StoreOf, session: DbSession
) -> CheckoutCreated:
    return await checkout.create_checkout(
        session, scope=store.scope, data=data, customer=store.customer
    )


@router.get("/checkouts/{token}", summary="A checkout with its totals", responses=errors())
async def read_checkout(token: Token, store: StoreOf, session: DbSession) -> CheckoutRead:
    return await checkout.read_checkout(session, scope=store.scope, token=token)


@router.patch(
    "/checkouts/{token}",
    summary="Set the e-mail, billing and shipping addresses, and shipping method",
    responses=errors(conflicts="`commerce.checkout_completed`, `commerce.shipping_unavailable`"),
)
async def update_checkout(
    token: Token, data: CheckoutUpdate, store: StoreOf, session: DbSession
) -> CheckoutRead:
    return await checkout.update_checkout(session, scope=store.scope, token=token, data=data)


@router.post(
    "/checkouts/{token}/lines",
    summary="Add a variant (or more of it) at the channel's current price",
    responses=errors(conflicts=CHECKOUT_CONFLICTS),
)
async def add_line(
    token: Token, data: CheckoutLineAdd, store: StoreOf, session: DbSession
) -> CheckoutRead:
    return await checkout.add_line(session, scope=store.scope, token=token, data=data)


@router.patch(
    "/checkouts/{token}/lines/{line_id}",
    summary="Change a line's quantity (the line takes the current price)",
    responses=errors(conflicts=CHECKOUT_CONFLICTS),
)
async def update_line(
    token: Token, line_id: uuid.UUID, data: CheckoutLineUpdate, store: StoreOf, session: DbSession
) -> CheckoutRead:
    return await checkout.update_line(
        session, scope=store.scope, token=token, line_id=line_id, quantity=data.quantity
    )


@router.delete(
    "/checkouts/{token}/lines/{line_id}",
    summary="Remove a line",
    responses=errors(conflicts="`commerce.checkout_completed`"),
)
async def remove_line(
    token: Token, line_id: uuid.UUID, store: StoreOf, session: DbSession
) -> CheckoutRead:
    return await checkout.remove_line(session, scope=store.scope, token=token, line_id=line_id)


@router.put(
    "/checkouts/{token}/voucher",
    summary="Use a voucher code (one per checkout; replaces another)",
    responses=errors(
        conflicts="`commerce.voucher_invalid`, `commerce.voucher_exhausted`, "
        "`commerce.checkout_completed`"
    ),
)
async def apply_voucher(
    token: Token, data: CheckoutVoucher, store: StoreOf, session: DbSession
) -> CheckoutRead:
    return await checkout.apply_voucher(session, scope=store.scope, token=token, code=data.code)


@router.delete(
    "/checkouts/{token}/voucher",
    summary="Stop using the voucher",
    responses=errors(conflicts="`commerce.checkout_completed`"),
)
async def remove_voucher(token: Token, store: StoreOf, session: DbSession) -> CheckoutRead:
    return await checkout.remove_voucher(session, scope=store.scope, token=token)


@router.post(
    "/checkouts/{token}/complete",
    status_code=201,
    summary="Place the order: allocate stock, count the voucher, number the order",
    dependencies=[Depends(checkout_caller), IdempotencyKey],
    responses=errors(
        conflicts="`commerce.insufficient_stock`, `commerce.checkout_incomplete`, "
        "`commerce.price_changed`, `commerce.variant_unavailable`, "
        "`commerce.shipping_unavailable`, `commerce.voucher_invalid`, "
        "`commerce.voucher_exhausted`, `commerce.checkout_completed`"
    ),
)
async def complete_checkout(token: Token, store: StoreOf, session: DbSession) -> OrderRead:
    actor = orders.Actor("customer", store.customer.user_id)
    return await completion.complete_checkout(session, scope=store.scope, token=token, actor=actor)


@router.get("/my/orders", summary="My orders in this store (signed-in customers)")
async def my_orders(
    principal: OwnOrdersReader, store: StoreOf, session: DbSession
) -> list[OrderSummary]:
    return await orders.list_orders(
        session, scope=store.scope, customer_user_id=_customer_id(store)
    )


@router.get("/my/orders/{order_id}", summary="One of my orders", responses=errors())
async def my_order(
    order_id: uuid.UUID, principal: OwnOrdersReader, store: StoreOf, session: DbSession
) -> OrderRead:
    return await orders.read_order(
        session, scope=store.scope, order_id=order_id, customer_user_id=_customer_id(store)
    )


def _customer_id(store: Store) -> uuid.UUID:
    """The signed-in customer; a credential of another store sees no orders here (404)."""
    if store.customer.user_id is None:
        raise CommerceNotFound("You have no orders in this store.")
    return store.customer.user_id
