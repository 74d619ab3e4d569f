"""Checkout totals: the rules of service/pricing.py, line by line, in integer minor units, with
the rounding and stacking edge cases, and properties that hold for any basket (hypothesis)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.service.pricing import (
    PricedLine,
    PromotionRule,
    ShippingRule,
    VoucherRule,
    compute_totals,
    spread,
    tax_in,
)

TEES = uuid.uuid4()
MUGS = uuid.uuid4()


def line(price: int, quantity: int = 1, category: uuid.UUID | None = TEES) -> PricedLine:
    return PricedLine(uuid.uuid4(), price, quantity, uuid.uuid4(), category)


def test_gross_prices_contain_their_tax_rounded_per_line() -> None:
    # 19 % contained in 9.99: 9.99 * 0.19 / 1.19 = 1.5950... -> 1.60
    totals = compute_totals([line(999), line(999)], tax_rate_bp=1900)
    assert [item.tax_minor for item in totals.lines] == [160, 160]
    assert totals.tax_minor == 320
    assert totals.total_minor == 1998


def test_net_prices_get_their_tax_added() -> None:
    # 7.5 % of 3.33 = 0.24975 -> 0.25, added on top
    totals = compute_totals([line(333)], tax_rate_bp=750, prices_include_tax=False)
    assert totals.lines[0].tax_minor == 25
    assert totals.lines[0].total_minor == 358
    assert totals.total_minor == 358


def test_half_a_cent_rounds_away_from_zero() -> None:
    # 10 % of 0.05 = 0.005 -> 0.01
    promotion = PromotionRule(uuid.uuid4(), DiscountKind.percentage, percent_bp=1000)
    totals = compute_totals([line(5)], promotions=[promotion])
    assert totals.discount_minor == 1


def test_best_promotion_per_line_never_stacked() -> None:
    ten_percent = PromotionRule(uuid.uuid4(), DiscountKind.percentage, percent_bp=1000)
    three_off_tees = PromotionRule(
        uuid.uuid4(), DiscountKind.fixed, amount_minor=300, category_id=TEES
    )
    tee, mug = line(2000, 2), line(1000, 1, category=MUGS)
    totals = compute_totals([tee, mug], promotions=[ten_percent, three_off_tees])
    # tee: 10 % = 4.00 vs 3.00 x 2 = 6.00 -> 6.00; mug: only the 10 % applies -> 1.00
    assert [item.promotion_minor for item in totals.lines] == [600, 100]
    assert [item.promotion_id for item in totals.lines] == [three_off_tees.key, ten_percent.key]


def test_fixed_promotion_never_takes_a_line_below_zero() -> None:
    big = PromotionRule(uuid.uuid4(), DiscountKind.fixed, amount_minor=5000)
    totals = compute_totals([line(999, 3)], promotions=[big])
    assert totals.lines[0].total_minor == 0
    assert totals.total_minor == 0


def test_voucher_stacks_on_promotions_and_spreads_exactly() -> None:
    ten_percent = PromotionRule(uuid.uuid4(), DiscountKind.percentage, percent_bp=1000)
    voucher = VoucherRule("SAVE5", DiscountKind.fixed, amount_minor=500)
    totals = compute_totals(
        [line(1000), line(1000), line(1000)], promotions=[ten_percent], voucher=voucher
    )
    # 3 x 9.00 after the promotion; 5.00 spread 1.67 + 1.67 + 1.66
    assert [item.voucher_minor for item in totals.lines] == [167, 167, 166]
    assert totals.discount_minor == 300 + 500
    assert totals.total_minor == 2200


def test_voucher_minimum_spend_counts_goods_after_promotions() -> None:
    half = PromotionRule(uuid.uuid4(), DiscountKind.percentage, percent_bp=5000)
    voucher = VoucherRule("BIG", DiscountKind.percentage, percent_bp=1000, min_spend_minor=5000)
    refused = compute_totals([line(6000)], promotions=[half], voucher=voucher)
    assert not refused.voucher_applied and refused.voucher_refusal == "minimum_spend"
    assert refused.total_minor == 3000
    accepted = compute_totals([line(6000)], voucher=voucher)
    assert accepted.voucher_applied and accepted.total_minor == 5400


def test_fixed_voucher_never_exceeds_the_goods() -> None:
    voucher = VoucherRule("ALL", DiscountKind.fixed, amount_minor=10_000)
    totals = compute_totals(
        [line(1500)], voucher=voucher, shipping=ShippingRule(490), tax_rate_bp=1900
    )
    assert totals.discount_minor == 1500
    assert totals.shipping_minor == 490
    assert totals.total_minor == 490
    assert totals.tax_minor == tax_in(490, 1900, gross=True) == 78


def test_free_shipping_voucher_and_free_over_threshold() -> None:
    shipping = ShippingRule(490, free_over_minor=5000)
    assert compute_totals([line(4999)], shipping=shipping).shipping_minor == 490
    assert compute_totals([line(5000)], shipping=shipping).shipping_minor == 0
    # the threshold counts the goods after discounts
    ten_off = VoucherRule("TEN", DiscountKind.fixed, amount_minor=1000)
    assert compute_totals([line(5500)], shipping=shipping, voucher=ten_off).shipping_minor == 490
    free = VoucherRule("SHIP", DiscountKind.free_shipping)
    totals = compute_totals([line(100)], shipping=shipping, voucher=free)
    assert totals.shipping_minor == 0 and totals.discount_minor == 0 and totals.total_minor == 100


def test_zero_decimal_currency_amounts_stay_whole() -> None:
    # JPY: minor unit = yen. 8 % contained in 1,001 yen = 74.15 -> 74
    assert compute_totals([line(1001)], tax_rate_bp=800).tax_minor == 74


prices = st.integers(min_value=0, max_value=1_000_000)
quantities = st.integers(min_value=1, max_value=50)
percents = st.integers(min_value=0, max_value=10_000)
baskets = st.lists(st.tuples(prices, quantities, st.booleans()), min_size=1, max_size=8)


@given(
    basket=baskets,
    promotion_percent=percents,
    promotion_fixed=prices,
    voucher_kind=st.sampled_from(list(DiscountKind)),
    voucher_value=percents,
    min_spend=st.none() | prices,
    shipping=st.none() | st.tuples(prices, st.none() | prices),
    rate=st.integers(min_value=0, max_value=3000),
    gross=st.booleans(),
)
def test_totals_add_up_for_any_basket(
    basket: list[tuple[int, int, bool]],
    promotion_percent: int,
    promotion_fixed: int,
    voucher_kind: DiscountKind,
    voucher_value: int,
    min_spend: int | None,
    shipping: tuple[int, int | None] | None,
    rate: int,
    gross: bool,
) -> None:
    lines = [line(price, quantity, TEES if tee else MUGS) for price, quantity, tee in basket]
    promotions = [
        PromotionRule(uuid.uuid4(), DiscountKind.percentage, percent_bp=promotion_percent),
        PromotionRule(
            uuid.uuid4(), DiscountKind.fixed, amount_minor=promotion_fixed, category_id=TEES
        ),
    ]
    voucher = VoucherRule(
        "ANY",
        voucher_kind,
        percent_bp=voucher_value,
        amount_minor=voucher_value * 7,
        min_spend_minor=min_spend,
    )
    totals = compute_totals(
        lines,
        promotions=promotions,
        voucher=voucher,
        shipping=None if shipping is None else ShippingRule(*shipping),
        tax_rate_bp=rate,
        prices_include_tax=gross,
    )
    assert totals.subtotal_minor == sum(price * quantity for price, quantity, _ in basket)
    for item in totals.lines:
        assert 0 <= item.discount_minor <= item.subtotal_minor
        assert item.tax_minor >= 0
    goods = totals.subtotal_minor - totals.discount_minor
    assert goods >= 0
    assert sum(item.total_minor for item in totals.lines) == goods + (
        0 if gross else totals.tax_minor - totals.shipping_tax_minor
    )
    assert totals.total_minor == goods + totals.shipping_minor + (0 if gross else totals.tax_minor)
    if gross:
        assert totals.tax_minor <= totals.total_minor


@given(
    amount=st.integers(min_value=0, max_value=10**7),
    weights=st.lists(prices, min_size=1, max_size=10),
)
def test_spread_adds_up_exactly_and_stays_within_each_share(
    amount: int, weights: list[int]
) -> None:
    amount = min(amount, sum(weights))
    parts = spread(amount, weights)
    assert sum(parts) == amount
    assert all(0 <= part <= weight for part, weight in zip(parts, weights, strict=True))
