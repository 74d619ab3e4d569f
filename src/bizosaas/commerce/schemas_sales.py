"""Commerce API input and output for selling: shipping, tax, vouchers and promotions,
checkouts and orders (the catalogue's schemas are in schemas.py, whose conventions hold here:
money is `Decimal`, a JSON string on output; percentages are `Decimal` with two places)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    JsonValue,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from bizosaas.commerce.countries import COUNTRIES
from bizosaas.commerce.models import DiscountKind
from bizosaas.commerce.schemas import Money, Name
from bizosaas.kit.text import PlainText, SingleLine

PERCENT_PATTERN = r"^(?:100(?:\.0{1,12})?|[0-9]{1,2}(?:\.[0-9]{1,12})?)$"


def _plain_percent(value: object) -> object:
    """Percentages as text are plain decimals from 0 to 100 (`7.5`): no sign or exponent."""
    if isinstance(value, str) and not re.fullmatch(PERCENT_PATTERN, value):
        raise ValueError("write the percentage as a plain decimal from 0 to 100, e.g. 7.5")
    return value


Percent = Annotated[
    Decimal,
    BeforeValidator(_plain_percent),
    Field(ge=0, le=100, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 100},
                {"type": "string", "pattern": PERCENT_PATTERN},
            ]
        }
    ),
]
"""A percentage (`20`, `7.5`), rounded half up to two decimals."""
Line = Annotated[SingleLine, StringConstraints(max_length=200)]
VoucherCode = Annotated[
    str, StringConstraints(min_length=3, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
]
Quantity = Annotated[int, Field(ge=1, le=10_000)]


def _country(value: str) -> str:
    if value not in COUNTRIES:
        raise ValueError("use an ISO 3166-1 alpha-2 country code in capitals, e.g. DE")
    return value


Country = Annotated[
    str,
    AfterValidator(_country),
    Field(
        description="ISO 3166-1 alpha-2 code, e.g. DE.",
        json_schema_extra={"enum": list[JsonValue](sorted(COUNTRIES))},
    ),
]


class OrderStatus(StrEnum):
    unconfirmed = "unconfirmed"
    unfulfilled = "unfulfilled"
    partially_fulfilled = "partially_fulfilled"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    returned = "returned"
    refunded = "refunded"


class PaymentStatus(StrEnum):
    not_charged = "not_charged"
    authorized = "authorized"
    partially_paid = "partially_paid"
    paid = "paid"
    partially_refunded = "partially_refunded"
    refunded = "refunded"


class PaymentEventKind(StrEnum):
    authorization = "authorization"
    capture = "capture"
    refund = "refund"
    void = "void"


# -- addresses ---------------------------------------------------------------------------------


class Address(BaseModel):
    first_name: Annotated[SingleLine, StringConstraints(min_length=1, max_length=100)]
    last_name: Annotated[SingleLine, StringConstraints(min_length=1, max_length=100)]
    company: Annotated[SingleLine, StringConstraints(max_length=200)] | None = None
    street_1: Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]
    street_2: Line | None = None
    city: Annotated[SingleLine, StringConstraints(min_length=1, max_length=100)]
    postal_code: Annotated[SingleLine, StringConstraints(max_length=20)] = ""
    country_area: Annotated[SingleLine, StringConstraints(max_length=100)] = ""
    country: Country
    phone: (
        Annotated[str, StringConstraints(max_length=30, pattern=r"^\+?[0-9 ()-]{3,30}$")] | None
    ) = None


# -- shipping and tax --------------------------------------------------------------------------


class ShippingZoneCreate(BaseModel):
    channel_id: uuid.UUID
    name: Name
    countries: list[Country] = Field(min_length=1, max_length=250)

    @field_validator("countries")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class ShippingZoneRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    name: str
    countries: list[str]
    methods: list[ShippingMethodRead] = []


class ShippingMethodCreate(BaseModel):
    name: Name
    price: Money
    free_over: Money | None = Field(
        default=None, description="Free when the goods after discounts cost at least this."
    )
    min_weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)
    max_weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)


class ShippingMethodRead(BaseModel):
    id: uuid.UUID
    zone_id: uuid.UUID
    name: str
    currency: str
    price: Decimal
    free_over: Decimal | None
    min_weight_grams: int | None
    max_weight_grams: int | None


class TaxConfigSet(BaseModel):
    prices_include_tax: bool = Field(description="Prices are entered gross (tax included).")
    default_rate: Percent = Decimal(0)
    country_rates: dict[Country, Percent] = Field(default_factory=dict, max_length=250)


class TaxConfigRead(TaxConfigSet):
    channel_id: uuid.UUID


# -- vouchers and promotions ------------------------------------------------------------------


class _VoucherFields(BaseModel):
    channel_id: uuid.UUID
    code: VoucherCode = Field(description="What the customer types; matched case-insensitively.")
    name: Line = ""
    min_spend: Money | None = None
    usage_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    usage_limit_per_customer: int | None = Field(default=None, ge=1, le=1_000_000_000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    is_active: bool = True


class PercentageVoucher(_VoucherFields):
    kind: Literal[DiscountKind.percentage]
    percentage: Percent


class FixedVoucher(_VoucherFields):
    kind: Literal[DiscountKind.fixed]
    amount: Money = Field(description="Off the goods, in the channel's currency.")


class FreeShippingVoucher(_VoucherFields):
    kind: Literal[DiscountKind.free_shipping]


VoucherCreate = Annotated[
    PercentageVoucher | FixedVoucher | FreeShippingVoucher, Field(discriminator="kind")
]


class VoucherUpdate(BaseModel):
    name: Line | None = None
    usage_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    ends_at: AwareDatetime | None = None
    is_active: bool | None = None


class VoucherRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    code: str
    name: str
    kind: DiscountKind
    percentage: Decimal | None
    amount: Decimal | None
    min_spend: Decimal | None
    usage_limit: int | None
    usage_limit_per_customer: int | None
    used: int
    starts_at: datetime | None
    ends_at: datetime | None
    is_active: bool


class _PromotionFields(BaseModel):
    channel_id: uuid.UUID
    name: Name
    category_id: uuid.UUID | None = Field(default=None, description="Only this category's lines.")
    product_id: uuid.UUID | None = Field(default=None, description="Only this product's lines.")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    is_active: bool = True


class PercentagePromotion(_PromotionFields):
    kind: Literal[DiscountKind.percentage]
    percentage: Percent


class FixedPromotion(_PromotionFields):
    kind: Literal[DiscountKind.fixed]
    amount: Money = Field(description="Off each unit, in the channel's currency.")


PromotionCreate = Annotated[PercentagePromotion | FixedPromotion, Field(discriminator="kind")]
"""Promotions take off line prices; free shipping is for vouchers."""


class PromotionRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    name: str
    kind: DiscountKind
    percentage: Decimal | None
    amount: Decimal | None
    category_id: uuid.UUID | None
    product_id: uuid.UUID | None
    starts_at: datetime | None
    ends_at: datetime | None
    is_active: bool


# -- checkouts ------------------------------------------------------------------------------


class CheckoutLineAdd(BaseModel):
    variant_id: uuid.UUID
    quantity: Quantity = 1


class CheckoutLineUpdate(BaseModel):
    quantity: Quantity


class CheckoutCreate(BaseModel):
    channel: str = Field(max_length=200, description="The channel's slug.")
    email: EmailStr | None = None
    lines: list[CheckoutLineAdd] = Field(default_factory=list, max_length=100)


class CheckoutUpdate(BaseModel):
    email: EmailStr | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    shipping_method_id: uuid.UUID | None = None


class CheckoutVoucher(BaseModel):
    code: VoucherCode


class CheckoutLineRead(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID
    sku: str
    product_name: str
    variant_name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    promotion_discount: Decimal
    voucher_discount: Decimal
    tax: Decimal
    total: Decimal


class ShippingOption(BaseModel):
    id: uuid.UUID
    name: str
    price: Decimal = Field(description="What this method costs this checkout (0 when free).")


class CheckoutTotals(BaseModel):
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


class CheckoutRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    currency: str
    email: str | None
    customer_user_id: uuid.UUID | None
    prices_include_tax: bool
    lines: list[CheckoutLineRead]
    billing_address: Address | None
    shipping_address: Address | None
    shipping_method_id: uuid.UUID | None
    shipping_options: list[ShippingOption]
    voucher_code: str | None
    voucher_applied: bool
    voucher_refusal: str | None
    totals: CheckoutTotals
    order_id: uuid.UUID | None = None


class CheckoutCreated(CheckoutRead):
    token: str = Field(description="The checkout's address: keep it secret, it is the key.")


# -- orders ---------------------------------------------------------------------------------


class OrderLineRead(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    product_name: str
    variant_name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    fulfilled_quantity: int
    returned_quantity: int


class OrderRead(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    payment_status: PaymentStatus
    channel_id: uuid.UUID
    customer_user_id: uuid.UUID | None
    email: str
    currency: str
    prices_include_tax: bool
    lines: list[OrderLineRead]
    totals: CheckoutTotals
    paid: Decimal
    refunded: Decimal
    billing_address: dict[str, Any]
    shipping_address: dict[str, Any]
    shipping_method_name: str
    voucher_code: str | None
    created_at: datetime


class OrderSummary(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    payment_status: PaymentStatus
    email: str
    currency: str
    total: Decimal
    created_at: datetime


class LineQuantity(BaseModel):
    line_id: uuid.UUID
    quantity: Quantity


class FulfilmentCreate(BaseModel):
    lines: list[LineQuantity] = Field(min_length=1, max_length=200)
    tracking_number: Annotated[SingleLine, StringConstraints(max_length=100)] | None = None
    notify_customer: bool = True


class FulfilmentRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    tracking_number: str | None
    lines: list[LineQuantity]
    created_at: datetime


class ReturnCreate(BaseModel):
    lines: list[LineQuantity] = Field(min_length=1, max_length=200)


class NoteCreate(BaseModel):
    message: Annotated[PlainText, StringConstraints(min_length=1, max_length=5000)]


class OrderEventRead(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="What happened: placed, confirmed, fulfilled, note_added ...")
    actor_kind: str = Field(description="customer, user, api_key, service or system")
    actor_id: uuid.UUID | None
    data: dict[str, Any]
    created_at: datetime


ShippingZoneRead.model_rebuild()
