"""The storefront's cart and checkout pages: `/store/<slug>/cart`, `/checkout`, and the order
confirmation. They drive the same checkout service as the storefront API.

The browser holds its cart as the checkout's secret token in a cookie scoped to the store's
path (`bizosaas_cart`, Path=/store/<slug>, HttpOnly, SameSite=Lax): each store has its own
cart, and no other page or site reads it. These pages are personal, so they are never cached.

Forgery: the forms on the cart and checkout pages carry the shell's CSRF token. "Add to cart"
sits on the product page, which is the same for every visitor (cached, no token), so that one
POST is accepted only when the browser says it comes from this site (`Origin`, else
`Referer`, per OWASP's origin check); the cookie's SameSite=Lax keeps the cart itself from
cross-site requests besides.

Placing the order can be sent twice (a double click, a retry after a lost answer): the
checkout completes once, and the second request finds it completed and shows the same order.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.commerce.exceptions import CheckoutCompleted, CommerceNotFound
from bizosaas.commerce.payments.context import Payments
from bizosaas.commerce.schemas_sales import (
    Address,
    CheckoutCreate,
    CheckoutLineAdd,
    CheckoutRead,
    CheckoutUpdate,
)
from bizosaas.commerce.service import (
    checkout,
    completion,
    order_payments,
    orders,
    shipping,
    storefront,
)
from bizosaas.commerce.service.storefront import Store
from bizosaas.kit.auth import OptionalPrincipal, PrincipalKind
from bizosaas.kit.deps import DbSession
from bizosaas.kit.errors import PermissionDenied, Problem
from bizosaas.web.forms import Form as FormFields
from bizosaas.web.shell import (
    WebRoute,
    act_and_redirect,
    flash,
    is_secure,
    read_form,
    redirect,
    render,
)

router = APIRouter(prefix="/store/{store_slug}", include_in_schema=False, route_class=WebRoute)
CART_COOKIE = "bizosaas_cart"
CART_DAYS = 30
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "street_1",
    "street_2",
    "postal_code",
    "city",
    "country",
)


def _cart_token(request: Request) -> str | None:
    token = request.cookies.get(CART_COOKIE)
    return token if token and 20 <= len(token) <= 100 else None


def _keep_cart(request: Request, response: Response, store: Store, token: str) -> Response:
    response.set_cookie(
        CART_COOKIE,
        token,
        max_age=CART_DAYS * 86400,
        path=f"/store/{store.slug}",
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
    )
    return response


def _same_site_post(request: Request) -> None:
    """Refuse a POST that the browser says comes from another site (see the module docstring)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None or source == "null":
        raise PermissionDenied("This form must be sent from the store's own pages.")
    parts = urlsplit(source)
    if (parts.scheme, parts.netloc) != (request.url.scheme, request.url.netloc):
        raise PermissionDenied("This form must be sent from the store's own pages.")


def _customer(store: Store, principal: Any) -> checkout.Customer:
    """A signed-in member of the store's tenant shops as its customer; anyone else as a guest."""
    if (
        principal is not None
        and principal.kind is PrincipalKind.user
        and principal.scope is not None
        and principal.scope.tenant_id == store.scope.tenant_id
    ):
        return checkout.Customer(user_id=principal.subject)
    return checkout.Customer()


async def _open_cart(session: AsyncSession, store: Store, token: str | None) -> CheckoutRead | None:
    """The browser's cart in this store, unless it has none or it became an order."""
    if token is None:
        return None
    try:
        cart = await checkout.read_checkout(session, scope=store.scope, token=token)
    except CommerceNotFound:
        return None
    return None if cart.order_id is not None else cart


def _show(request: Request, store: Store, template: str, context: dict[str, Any]) -> Response:
    values = {
        "store": store,
        "categories": [],
        "top_categories": [],
        "description": None,
        "filters": None,
        "category": None,
        "money": lambda amount: storefront.money(amount, store.currency),
        **context,
    }
    return render(request, template, values)


@router.post("/cart/lines")
async def add_to_cart(
    request: Request, store_slug: str, session: DbSession, principal: OptionalPrincipal
) -> Response:
    """Add `quantity` (1 by default) of `variant_id`, starting a cart when the browser has none."""
    _same_site_post(request)
    store = await storefront.open_store(session, slug=store_slug)
    cart = f"/store/{store.slug}/cart"
    form = await request.form()
    try:
        line = CheckoutLineAdd(
            variant_id=uuid.UUID(str(form.get("variant_id", ""))),
            quantity=int(str(form.get("quantity") or 1)),
        )
    except ValueError:  # a malformed id, or a quantity out of 1 to 10,000
        flash(request, "Choose a product and a quantity from 1 to 10,000.", "error")
        return redirect(request, cart)
    token = _cart_token(request)
    try:
        if await _open_cart(session, store, token) is None:
            created = await checkout.create_checkout(
                session,
                scope=store.scope,
                data=CheckoutCreate(channel=store.channel_slug),
                customer=_customer(store, principal),
            )
            token = created.token
        assert token is not None
        await checkout.add_line(session, scope=store.scope, token=token, data=line)
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
        return redirect(request, cart)
    flash(request, "Added to your cart.")
    return _keep_cart(request, redirect(request, cart), store, token)


@router.get("/cart")
async def cart_page(request: Request, store_slug: str, session: DbSession) -> Response:
    store = await storefront.open_store(session, slug=store_slug)
    cart = await _open_cart(session, store, _cart_token(request))
    return _show(request, store, "commerce/store/cart.html", {"title": "Your cart", "cart": cart})


async def _cart_of(request: Request, session: AsyncSession, store_slug: str) -> tuple[Store, str]:
    store = await storefront.open_store(session, slug=store_slug)
    token = _cart_token(request)
    if await _open_cart(session, store, token) is None:
        raise CommerceNotFound("Your cart is empty: add a product first.")
    assert token is not None
    return store, token


@router.post("/cart/lines/{line_id}")
async def change_line(
    request: Request, store_slug: str, line_id: uuid.UUID, session: DbSession
) -> Response:
    values = await read_form(request)
    store, token = await _cart_of(request, session, store_slug)
    quantity = values.get("quantity", "").strip()
    to = f"/store/{store.slug}/cart"
    if not quantity.isdigit() or int(quantity) > 10_000:
        flash(request, "Enter a quantity from 0 to 10,000.", "error")
        return redirect(request, to)
    if int(quantity) == 0:
        action = checkout.remove_line(session, scope=store.scope, token=token, line_id=line_id)
        return await act_and_redirect(
            request, session, action, done=lambda _: "Removed from your cart.", to=to
        )
    action = checkout.update_line(
        session, scope=store.scope, token=token, line_id=line_id, quantity=int(quantity)
    )
    return await act_and_redirect(request, session, action, done=lambda _: "Cart updated.", to=to)


@router.post("/cart/voucher")
async def voucher(request: Request, store_slug: str, session: DbSession) -> Response:
    values = await read_form(request)
    store, token = await _cart_of(request, session, store_slug)
    to = f"/store/{store.slug}/cart"
    code = values.get("code", "").strip()
    if values.get("remove") == "1":
        action: Any = checkout.remove_voucher(session, scope=store.scope, token=token)
        return await act_and_redirect(
            request, session, action, done=lambda _: "Voucher removed.", to=to
        )
    if not code or len(code) > 50:
        flash(request, "Enter the voucher's code.", "error")
        return redirect(request, to)
    action = checkout.apply_voucher(session, scope=store.scope, token=token, code=code)
    applied = f"Voucher {code.upper()} applied."
    return await act_and_redirect(request, session, action, done=lambda _: applied, to=to)


async def _shippable_countries(session: AsyncSession, store: Store) -> list[str]:
    zones = await shipping.list_zones(session, scope=store.scope)
    return sorted(
        {c for zone in zones if zone.channel_id == store.channel_id for c in zone.countries}
    )


@router.get("/checkout")
async def checkout_page(request: Request, store_slug: str, session: DbSession) -> Response:
    store = await storefront.open_store(session, slug=store_slug)
    cart = await _open_cart(session, store, _cart_token(request))
    if cart is None or not cart.lines:
        flash(request, "Your cart is empty: add a product first.", "error")
        return redirect(request, f"/store/{store.slug}/cart")
    address = cart.shipping_address.model_dump() if cart.shipping_address else {}
    context = {
        "title": "Checkout",
        "cart": cart,
        "countries": await _shippable_countries(session, store),
        "values": {"email": cart.email or "", **{k: v or "" for k, v in address.items()}},
        "errors": {},
    }
    return _show(request, store, "commerce/store/checkout.html", context)


def _address_from(form: FormFields) -> Address | None:
    for name in ("first_name", "last_name", "street_1", "city", "country"):
        form.require(name, "Fill this in.")
    if not form.ok:
        return None
    try:
        return Address(
            first_name=form.get("first_name"),
            last_name=form.get("last_name"),
            street_1=form.get("street_1"),
            street_2=form.get("street_2") or None,
            postal_code=form.get("postal_code"),
            city=form.get("city"),
            country=form.get("country").upper(),
        )
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "__all__"
            form.errors.setdefault(name, "Check this field.")
        return None


@router.post("/checkout")
async def save_details(request: Request, store_slug: str, session: DbSession) -> Response:
    """The e-mail and the shipping address (billing to the same address), then the options."""
    form = FormFields(await read_form(request))
    store, token = await _cart_of(request, session, store_slug)
    email = form.email()
    address = _address_from(form)
    if address is None or not form.ok:
        cart = await checkout.read_checkout(session, scope=store.scope, token=token)
        context = {
            "title": "Checkout",
            "cart": cart,
            "countries": await _shippable_countries(session, store),
            "values": form.values,
            "errors": form.errors,
        }
        response = _show(request, store, "commerce/store/checkout.html", context)
        response.status_code = 422
        return response
    data = CheckoutUpdate(
        email=email,
        shipping_address=address,
        billing_address=address,
        shipping_method_id=None,
    )
    action = checkout.update_checkout(session, scope=store.scope, token=token, data=data)
    to = f"/store/{store.slug}/checkout#delivery"
    return await act_and_redirect(
        request, session, action, done=lambda _: "Details saved: now choose the delivery.", to=to
    )


@router.post("/checkout/shipping")
async def choose_shipping(request: Request, store_slug: str, session: DbSession) -> Response:
    values = await read_form(request)
    store, token = await _cart_of(request, session, store_slug)
    to = f"/store/{store.slug}/checkout#delivery"
    try:
        method = uuid.UUID(values.get("shipping_method_id", ""))
    except ValueError:
        flash(request, "Choose how to deliver the order.", "error")
        return redirect(request, to)
    action = checkout.update_checkout(
        session, scope=store.scope, token=token, data=CheckoutUpdate(shipping_method_id=method)
    )
    return await act_and_redirect(
        request, session, action, done=lambda _: "Delivery chosen.", to=to
    )


@router.post("/checkout/place")
async def place_order(
    request: Request,
    store_slug: str,
    session: DbSession,
    principal: OptionalPrincipal,
    payments: Payments,
) -> Response:
    await read_form(request)
    store = await storefront.open_store(session, slug=store_slug)
    token = _cart_token(request)
    done = f"/store/{store.slug}/checkout/complete"
    if token is None:
        flash(request, "Your cart is empty: add a product first.", "error")
        return redirect(request, f"/store/{store.slug}/cart")
    actor = orders.Actor("customer", _customer(store, principal).user_id)
    try:
        order = await completion.complete_checkout(
            session, scope=store.scope, token=token, actor=actor
        )
        # The storefront's pages take payment by bank transfer or cash on delivery (the manual
        # provider): the payment stays pending until the store marks the money received.
        await order_payments.pay_order(
            session, context=payments, scope=store.scope, order_id=order.id, provider_name="manual"
        )
    except CheckoutCompleted:
        await session.rollback()  # sent twice: the first request placed it
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
        return redirect(request, f"/store/{store.slug}/checkout")
    return redirect(request, done)


@router.get("/checkout/complete")
async def confirmation(request: Request, store_slug: str, session: DbSession) -> Response:
    store = await storefront.open_store(session, slug=store_slug)
    token = _cart_token(request)
    placed = None
    if token is not None:
        try:
            cart = await checkout.read_checkout(session, scope=store.scope, token=token)
        except CommerceNotFound:
            cart = None
        if cart is not None and cart.order_id is not None:
            placed = await orders.read_order(session, scope=store.scope, order_id=cart.order_id)
    if placed is None:
        return redirect(request, f"/store/{store.slug}/cart")
    return _show(
        request, store, "commerce/store/confirmation.html", {"title": "Thank you", "order": placed}
    )
