"""Checkout totals: a pure function of the lines, the discounts that apply, the shipping method
and the tax settings. No database here, so the rules are tested on their own (tests/commerce/
test_pricing.py, with hypothesis) and the checkout, the order and the API all show the same
numbers.

All arithmetic is on integer minor units (cents); a fraction of a minor unit appears only in a
percentage or a tax, and is rounded there, line by line, half away from zero (the rounding of
`currencies.quantize`). The rules, in order (docs/commerce.md, "Discounts"):

1. A line's subtotal is unit price x quantity.
2. Promotions (automatic, no code): each line gets the one promotion that takes most off it;
   promotions never stack on a line. A fixed promotion is an amount off each unit.
3. Voucher (at most one per checkout), on top of the promotions: its minimum spend is checked
   against the goods after promotions. A percentage or fixed voucher is spread over the lines
   in proportion to what they still cost (largest remainder, so the parts add up exactly); a
   fixed voucher never takes more than the goods cost. A free-shipping voucher zeroes shipping.
4. Shipping: the method's price, or nothing when the goods after discounts cost at least its
   free-over threshold.
5. Tax per line (and on shipping) at the destination country's rate: for prices entered gross
   the tax is the part of the amount it contains, amount x r / (1 + r); for net prices it is
   added, amount x r.
6. Total: goods after discounts + shipping, + tax when prices are net.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bizosaas.commerce.models import DiscountKind

BASIS_POINTS = 10_000
"""100 % in basis points: rates and percentages are stored as integers of 0.01 %."""


@dataclass(frozen=True, slots=True)
class PricedLine:
    key: uuid.UUID
    unit_price_minor: int
    quantity: int
    product_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class PromotionRule:
    """A percentage (`percent_bp`) or a fixed amount off each unit (`amount_minor`) of the lines
    in `category_id` / `product_id` (None: any)."""

    key: uuid.UUID
    kind: DiscountKind
    percent_bp: int = 0
    amount_minor: int = 0
    category_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None

    def matches(self, line: PricedLine) -> bool:
        if self.product_id is not None and line.product_id != self.product_id:
            return False
        return self.category_id is None or line.category_id == self.category_id


@dataclass(frozen=True, slots=True)
class VoucherRule:
    code: str
    kind: DiscountKind
    percent_bp: int = 0
    amount_minor: int = 0
    min_spend_minor: int | None = None


@dataclass(frozen=True, slots=True)
class ShippingRule:
    price_minor: int
    free_over_minor: int | None = None


@dataclass(frozen=True, slots=True)
class LineTotals:
    key: uuid.UUID
    quantity: int
    unit_price_minor: int
    subtotal_minor: int
    promotion_minor: int
    voucher_minor: int
    tax_minor: int
    total_minor: int
    """What the line costs the customer: after discounts, tax included."""
    promotion_id: uuid.UUID | None

    @property
    def discount_minor(self) -> int:
        return self.promotion_minor + self.voucher_minor


@dataclass(frozen=True, slots=True)
class Totals:
    lines: list[LineTotals]
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    shipping_tax_minor: int
    tax_minor: int
    total_minor: int
    voucher_applied: bool
    voucher_refusal: str | None = None
    """Why a given voucher gave nothing (the minimum spend not reached), else None."""


def percent_of(amount_minor: int, percent_bp: int) -> int:
    """`amount x percent`, rounded half up to a whole minor unit."""
    exact = Decimal(amount_minor) * Decimal(percent_bp) / BASIS_POINTS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_in(amount_minor: int, rate_bp: int, *, gross: bool) -> int:
    """The tax on `amount` at `rate`: contained in it (gross prices) or on top (net)."""
    if rate_bp == 0 or amount_minor == 0:
        return 0
    rate = Decimal(rate_bp) / BASIS_POINTS
    exact = Decimal(amount_minor) * rate / (1 + rate) if gross else Decimal(amount_minor) * rate
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def promotion_discount(line: PricedLine, rule: PromotionRule) -> int:
    subtotal = line.unit_price_minor * line.quantity
    if rule.kind is DiscountKind.percentage:
        return min(subtotal, percent_of(subtotal, rule.percent_bp))
    if rule.kind is DiscountKind.fixed:
        return min(subtotal, rule.amount_minor * line.quantity)
    return 0


def spread(amount_minor: int, weights: Sequence[int]) -> list[int]:
    """`amount` split over `weights` in proportion, in whole minor units that add up to it
    exactly (largest remainder; ties go to the earlier line). `amount <= sum(weights)`."""
    total = sum(weights)
    if total == 0 or amount_minor == 0:
        return [0] * len(weights)
    shares = [amount_minor * weight // total for weight in weights]
    remainders = sorted(
        range(len(weights)), key=lambda i: (-(amount_minor * weights[i] % total), i)
    )
    for index in remainders[: amount_minor - sum(shares)]:
        shares[index] += 1
    return shares


def compute_totals(
    lines: Sequence[PricedLine],
    *,
    promotions: Sequence[PromotionRule] = (),
    voucher: VoucherRule | None = None,
    shipping: ShippingRule | None = None,
    tax_rate_bp: int = 0,
    prices_include_tax: bool = True,
) -> Totals:
    subtotals = [line.unit_price_minor * line.quantity for line in lines]
    best: list[tuple[int, uuid.UUID | None]] = []
    for line in lines:
        offers = [
            (promotion_discount(line, rule), rule.key) for rule in promotions if rule.matches(line)
        ]
        best.append(max(offers, key=lambda offer: offer[0], default=(0, None)))
    after_promotions = [
        subtotal - discount for subtotal, (discount, _) in zip(subtotals, best, strict=True)
    ]
    goods = sum(after_promotions)

    voucher_parts = [0] * len(lines)
    voucher_applied = False
    refusal: str | None = None
    free_shipping = False
    if voucher is not None:
        if voucher.min_spend_minor is not None and goods < voucher.min_spend_minor:
            refusal = "minimum_spend"
        else:
            voucher_applied = True
            if voucher.kind is DiscountKind.free_shipping:
                free_shipping = True
            else:
                off = (
                    percent_of(goods, voucher.percent_bp)
                    if voucher.kind is DiscountKind.percentage
                    else voucher.amount_minor
                )
                voucher_parts = spread(min(off, goods), after_promotions)

    line_totals: list[LineTotals] = []
    for line, subtotal, (promotion, promotion_id), remaining, voucher_part in zip(
        lines, subtotals, best, after_promotions, voucher_parts, strict=True
    ):
        amount = remaining - voucher_part
        tax = tax_in(amount, tax_rate_bp, gross=prices_include_tax)
        line_totals.append(
            LineTotals(
                key=line.key,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                subtotal_minor=subtotal,
                promotion_minor=promotion,
                voucher_minor=voucher_part,
                tax_minor=tax,
                total_minor=amount if prices_include_tax else amount + tax,
                promotion_id=promotion_id,
            )
        )
    discounted_goods = goods - sum(voucher_parts)
    shipping_minor = 0
    if shipping is not None and not free_shipping:
        reached = (
            shipping.free_over_minor is not None and discounted_goods >= shipping.free_over_minor
        )
        shipping_minor = 0 if reached else shipping.price_minor
    shipping_tax = tax_in(shipping_minor, tax_rate_bp, gross=prices_include_tax)
    tax = sum(line.tax_minor for line in line_totals) + shipping_tax
    total = discounted_goods + shipping_minor + (0 if prices_include_tax else tax)
    return Totals(
        lines=line_totals,
        subtotal_minor=sum(subtotals),
        discount_minor=sum(line.discount_minor for line in line_totals),
        shipping_minor=shipping_minor,
        shipping_tax_minor=shipping_tax,
        tax_minor=tax,
        total_minor=total,
        voucher_applied=voucher_applied,
        voucher_refusal=refusal,
    )
