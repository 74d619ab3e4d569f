"""Checkouts: a guest's or a customer's cart, its addresses, shipping method and voucher, and
its totals, always computed here (service/pricing.py) and never taken from the client.

A checkout is addressed by an unguessable token (32 random bytes); only its SHA-256 is stored,
so a database leak does not hand out carts. Prices are the channel's when a line is added or
changed; completion (service/completion.py) re-checks them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce import repository_sales as sales
from bizosaas.commerce.currencies import from_minor
from bizosaas.commerce.exceptions import (
    CheckoutCompleted,
    CommerceNotFound,
    ShippingUnavailable,
    VariantUnavailable,
    VoucherExhausted,
    VoucherInvalid,
)
from bizosaas.commerce.models import (
    Channel,
    Checkout,
    CheckoutLine,
    Product,
    ShippingMethod,
    ShippingZone,
    Variant,
    Voucher,
)
from bizosaas.commerce.schemas import PublicationRead
from bizosaas.commerce.schemas_sales import (
    Address,
    CheckoutCreate,
    CheckoutCreated,
    CheckoutLineAdd,
    CheckoutLineRead,
    CheckoutRead,
    CheckoutTotals,
    CheckoutUpdate,
    ShippingOption,
)
from bizosaas.commerce.service import discounts
from bizosaas.commerce.service.channels import is_visible
from bizosaas.commerce.service.pricing import PricedLine, ShippingRule, Totals, compute_totals
from bizosaas.kit.db import utcnow
from bizosaas.kit.tenancy import TenantScope, bind_tenant


@dataclass(frozen=True, slots=True)
class Customer:
    """Who is shopping: a signed-in member of the store's tenant, or a guest (no user id)."""

    user_id: uuid.UUID | None = None
    email: str | None = None


@dataclass(slots=True)
class PricedCheckout:
    """A checkout with everything its totals were computed from (completion snapshots it)."""

    checkout: Checkout
    channel: Channel
    rows: list[tuple[CheckoutLine, Variant, Product]]
    prices_include_tax: bool
    tax_rate_bp: int
    voucher: Voucher | None
    shipping: ShippingMethod | None
    options: list[tuple[ShippingMethod, int]]
    totals: Totals


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def find_checkout(
    session: AsyncSession, *, scope: TenantScope, token: str, open_only: bool = True
) -> Checkout:
    """The store's checkout with this token; 404 otherwise (another store's token included),
    and `commerce.checkout_completed` for a change to one that is an order already."""
    await bind_tenant(session, scope)
    checkout = await sales.checkout_by_token_hash(
        session, scope=scope, token_hash=token_hash(token)
    )
    if checkout is None:
        raise CommerceNotFound("No such checkout in this store.")
    if open_only and checkout.completed_at is not None:
        raise CheckoutCompleted("This checkout is an order already; start a new one.")
    return checkout


async def current_price(
    session: AsyncSession, *, scope: TenantScope, variant: Variant, channel: Channel, now: datetime
) -> int:
    """The variant's price in the channel, if it is for sale there now (priced, available, its
    product published); `commerce.variant_unavailable` otherwise."""
    price = await repository.price_of(
        session, scope=scope, variant_id=variant.id, channel_id=channel.id
    )
    publication = await repository.publication_of(
        session, scope=scope, product_id=variant.product_id, channel_id=channel.id
    )
    if (
        price is None
        or not price.is_available
        or publication is None
        or not is_visible(
            PublicationRead.model_validate(publication, from_attributes=True), now=now
        )
    ):
        raise VariantUnavailable(
            f"{variant.sku} is not for sale in this channel.", variant_id=str(variant.id)
        )
    return price.amount_minor


async def create_checkout(
    session: AsyncSession, *, scope: TenantScope, data: CheckoutCreate, customer: Customer
) -> CheckoutCreated:
    await bind_tenant(session, scope)
    channel = await sales.channel_by_slug(session, scope=scope, slug=data.channel)
    if channel is None or not channel.is_active:
        raise CommerceNotFound(f"No open channel {data.channel} in this store.")
    token = secrets.token_urlsafe(32)
    checkout = Checkout(
        token_hash=token_hash(token),
        channel_id=channel.id,
        customer_user_id=customer.user_id,
        email=(data.email or customer.email or None),
    )
    session.add(checkout)
    await session.flush()
    for line in data.lines:
        await _add_line(session, scope, checkout, channel, line)
    read = await read_priced(session, scope=scope, checkout=checkout)
    return CheckoutCreated(**read.model_dump(), token=token)


async def _add_line(
    session: AsyncSession,
    scope: TenantScope,
    checkout: Checkout,
    channel: Channel,
    data: CheckoutLineAdd,
) -> None:
    variant = await repository.get(session, Variant, scope=scope, row_id=data.variant_id)
    if variant is None:
        raise CommerceNotFound(f"No variant {data.variant_id} in this store.")
    price = await current_price(
        session, scope=scope, variant=variant, channel=channel, now=utcnow()
    )
    line = await sales.line_of_variant(
        session, scope=scope, checkout_id=checkout.id, variant_id=variant.id
    )
    if line is None:
        count = len(await sales.checkout_lines(session, scope=scope, checkout_id=checkout.id))
        session.add(
            CheckoutLine(
                checkout_id=checkout.id,
                variant_id=variant.id,
                quantity=data.quantity,
                unit_price_minor=price,
                position=count,
            )
        )
    else:
        line.quantity = min(line.quantity + data.quantity, 10_000)
        line.unit_price_minor = price
    checkout.updated_at = utcnow()
    await session.flush()


async def add_line(
    session: AsyncSession, *, scope: TenantScope, token: str, data: CheckoutLineAdd
) -> CheckoutRead:
    """Add the variant (or more of it), at the channel's current price."""
    checkout = await find_checkout(session, scope=scope, token=token)
    channel = await _channel(session, scope, checkout)
    await _add_line(session, scope, checkout, channel, data)
    return await read_priced(session, scope=scope, checkout=checkout)


async def update_line(
    session: AsyncSession, *, scope: TenantScope, token: str, line_id: uuid.UUID, quantity: int
) -> CheckoutRead:
    """Set a line's quantity; the line takes the channel's current price."""
    checkout = await find_checkout(session, scope=scope, token=token)
    line = await _line(session, scope, checkout, line_id)
    channel = await _channel(session, scope, checkout)
    variant = await repository.get(session, Variant, scope=scope, row_id=line.variant_id)
    assert variant is not None  # a line's variant cannot be deleted under it (foreign key)
    line.unit_price_minor = await current_price(
        session, scope=scope, variant=variant, channel=channel, now=utcnow()
    )
    line.quantity = quantity
    checkout.updated_at = utcnow()
    await session.flush()
    return await read_priced(session, scope=scope, checkout=checkout)


async def remove_line(
    session: AsyncSession, *, scope: TenantScope, token: str, line_id: uuid.UUID
) -> CheckoutRead:
    checkout = await find_checkout(session, scope=scope, token=token)
    await session.delete(await _line(session, scope, checkout, line_id))
    checkout.updated_at = utcnow()
    await session.flush()
    return await read_priced(session, scope=scope, checkout=checkout)


async def update_checkout(
    session: AsyncSession, *, scope: TenantScope, token: str, data: CheckoutUpdate
) -> CheckoutRead:
    """Set the e-mail, addresses and shipping method given (fields left out stay)."""
    checkout = await find_checkout(session, scope=scope, token=token)
    given = data.model_fields_set
    if "email" in given:
        checkout.email = data.email
    if "billing_address" in given:
        checkout.billing_address = _address(data.billing_address)
    if "shipping_address" in given:
        checkout.shipping_address = _address(data.shipping_address)
    if "shipping_method_id" in given:
        checkout.shipping_method_id = data.shipping_method_id
    checkout.updated_at = utcnow()
    await session.flush()
    priced = await price(session, scope=scope, checkout=checkout)
    if data.shipping_method_id is not None and priced.shipping is None:
        raise ShippingUnavailable(
            "This shipping method does not serve the shipping address (set the address first) "
            "or the parcel's weight."
        )
    return checkout_read(priced)


async def apply_voucher(
    session: AsyncSession, *, scope: TenantScope, token: str, code: str
) -> CheckoutRead:
    """Use the voucher with `code` (replacing any other: one voucher per checkout)."""
    checkout = await find_checkout(session, scope=scope, token=token)
    voucher = await sales.voucher_by_code(session, scope=scope, code=code)
    discounts.usable_voucher(voucher, channel_id=checkout.channel_id, now=utcnow())
    checkout.voucher_code = code.upper()
    checkout.updated_at = utcnow()
    await session.flush()
    return await read_priced(session, scope=scope, checkout=checkout)


async def remove_voucher(session: AsyncSession, *, scope: TenantScope, token: str) -> CheckoutRead:
    checkout = await find_checkout(session, scope=scope, token=token)
    checkout.voucher_code = None
    checkout.updated_at = utcnow()
    await session.flush()
    return await read_priced(session, scope=scope, checkout=checkout)


async def read_checkout(session: AsyncSession, *, scope: TenantScope, token: str) -> CheckoutRead:
    checkout = await find_checkout(session, scope=scope, token=token, open_only=False)
    return await read_priced(session, scope=scope, checkout=checkout)


# -- pricing a checkout -------------------------------------------------------------------------


async def price(
    session: AsyncSession, *, scope: TenantScope, checkout: Checkout, now: datetime | None = None
) -> PricedCheckout:
    """Load what the checkout's totals depend on and compute them. A voucher that is no longer
    usable, or a shipping method that no longer fits, is left out (and shown as such)."""
    now = now or utcnow()
    channel = await _channel(session, scope, checkout)
    rows = [
        (row[0], row[1], row[2])
        for row in await sales.checkout_lines(session, scope=scope, checkout_id=checkout.id)
    ]
    config = await sales.tax_config(session, scope=scope, channel_id=channel.id)
    country = (checkout.shipping_address or checkout.billing_address or {}).get("country")
    gross = config.prices_include_tax if config else True
    rate = 0
    if config is not None:
        rate = config.country_rates_bp.get(country or "", config.default_rate_bp)
    promotions = await sales.list_promotions(
        session, scope=scope, channel_id=channel.id, live_at=now
    )
    voucher = None
    if checkout.voucher_code:
        found = await sales.voucher_by_code(session, scope=scope, code=checkout.voucher_code)
        try:
            voucher = discounts.usable_voucher(found, channel_id=channel.id, now=now)
        except (VoucherInvalid, VoucherExhausted):
            voucher = None
    lines = [
        PricedLine(
            key=line.id,
            unit_price_minor=line.unit_price_minor,
            quantity=line.quantity,
            product_id=product.id,
            category_id=product.category_id,
        )
        for line, _, product in rows
    ]
    weight = sum((variant.weight_grams or 0) * line.quantity for line, variant, _ in rows)
    options = await _shipping_options(session, scope, channel.id, country, weight)
    shipping = next(
        (method for method, _ in options if method.id == checkout.shipping_method_id), None
    )
    totals = compute_totals(
        lines,
        promotions=[discounts.promotion_rule(row) for row in promotions],
        voucher=None if voucher is None else discounts.voucher_rule(voucher),
        shipping=None
        if shipping is None
        else ShippingRule(shipping.price_minor, shipping.free_over_minor),
        tax_rate_bp=rate,
        prices_include_tax=gross,
    )
    goods = totals.subtotal_minor - totals.discount_minor
    return PricedCheckout(
        checkout=checkout,
        channel=channel,
        rows=rows,
        prices_include_tax=gross,
        tax_rate_bp=rate,
        voucher=voucher,
        shipping=shipping,
        options=[(method, _shipping_price(method, goods)) for method, _ in options],
        totals=totals,
    )


def _shipping_price(method: ShippingMethod, goods_minor: int) -> int:
    if method.free_over_minor is not None and goods_minor >= method.free_over_minor:
        return 0
    return method.price_minor


async def _shipping_options(
    session: AsyncSession,
    scope: TenantScope,
    channel_id: uuid.UUID,
    country: str | None,
    weight_grams: int,
) -> list[tuple[ShippingMethod, int]]:
    """The channel's methods serving `country` whose weight limits fit the parcel."""
    if country is None:
        return []
    zones: list[ShippingZone] = [
        zone
        for zone in await sales.zones_of_channel(session, scope=scope, channel_id=channel_id)
        if country in zone.countries
    ]
    methods = await sales.methods_of_zones(session, scope=scope, zone_ids=[z.id for z in zones])
    return [
        (method, method.price_minor)
        for method in methods
        if (method.min_weight_grams is None or weight_grams >= method.min_weight_grams)
        and (method.max_weight_grams is None or weight_grams <= method.max_weight_grams)
    ]


def checkout_read(priced: PricedCheckout, *, order_id: uuid.UUID | None = None) -> CheckoutRead:
    currency = priced.channel.currency
    checkout = priced.checkout
    totals = priced.totals

    def money(amount_minor: int) -> Any:
        return from_minor(amount_minor, currency)

    lines = [
        CheckoutLineRead(
            id=line.id,
            variant_id=variant.id,
            sku=variant.sku,
            product_name=product.name,
            variant_name=variant.name,
            quantity=line.quantity,
            unit_price=money(line.unit_price_minor),
            subtotal=money(line_totals.subtotal_minor),
            promotion_discount=money(line_totals.promotion_minor),
            voucher_discount=money(line_totals.voucher_minor),
            tax=money(line_totals.tax_minor),
            total=money(line_totals.total_minor),
        )
        for (line, variant, product), line_totals in zip(priced.rows, totals.lines, strict=True)
    ]
    return CheckoutRead(
        id=checkout.id,
        channel_id=checkout.channel_id,
        currency=currency,
        email=checkout.email,
        customer_user_id=checkout.customer_user_id,
        prices_include_tax=priced.prices_include_tax,
        lines=lines,
        billing_address=None
        if checkout.billing_address is None
        else Address.model_validate(checkout.billing_address),
        shipping_address=None
        if checkout.shipping_address is None
        else Address.model_validate(checkout.shipping_address),
        shipping_method_id=None if priced.shipping is None else priced.shipping.id,
        shipping_options=[
            ShippingOption(id=method.id, name=method.name, price=money(amount))
            for method, amount in priced.options
        ],
        voucher_code=checkout.voucher_code,
        voucher_applied=totals.voucher_applied,
        voucher_refusal=totals.voucher_refusal
        if checkout.voucher_code is None or priced.voucher is not None
        else "not_usable",
        totals=CheckoutTotals(
            subtotal=money(totals.subtotal_minor),
            discount=money(totals.discount_minor),
            shipping=money(totals.shipping_minor),
            tax=money(totals.tax_minor),
            total=money(totals.total_minor),
        ),
        order_id=order_id,
    )


async def read_priced(
    session: AsyncSession, *, scope: TenantScope, checkout: Checkout
) -> CheckoutRead:
    order_id = None
    if checkout.completed_at is not None:
        order = await sales.order_of_checkout(session, scope=scope, checkout_id=checkout.id)
        order_id = None if order is None else order.id
    return checkout_read(await price(session, scope=scope, checkout=checkout), order_id=order_id)


async def _channel(session: AsyncSession, scope: TenantScope, checkout: Checkout) -> Channel:
    channel = await repository.get(session, Channel, scope=scope, row_id=checkout.channel_id)
    assert channel is not None  # a checkout's channel cannot be deleted under it (foreign key)
    return channel


async def _line(
    session: AsyncSession, scope: TenantScope, checkout: Checkout, line_id: uuid.UUID
) -> CheckoutLine:
    line = await sales.checkout_line(session, scope=scope, checkout_id=checkout.id, line_id=line_id)
    if line is None:
        raise CommerceNotFound(f"No line {line_id} in this checkout.")
    return line


def _address(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else address.model_dump(mode="json")
