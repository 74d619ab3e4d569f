"""Commerce events, written to the outbox with the change that caused them."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from bizosaas.kit.module import EventType


class StockLow(BaseModel):
    variant_id: uuid.UUID = Field(description="The variant running low.")
    sku: str = Field(max_length=100, description="Its SKU.")
    warehouse_id: uuid.UUID = Field(description="The warehouse whose stock crossed the threshold.")
    quantity: int = Field(ge=0, description="What the warehouse can still allocate.")
    threshold: int = Field(ge=0, description="The variant's low-stock threshold.")


STOCK_LOW = EventType(
    "commerce.stock_low",
    StockLow,
    description=(
        "A warehouse's free stock of a variant fell to its low-stock threshold or below "
        "(sent once per crossing, by the allocation that crossed it)."
    ),
)


class OrderPlaced(BaseModel):
    order_id: uuid.UUID
    number: int = Field(ge=1, description="The store's order number.")
    channel_id: uuid.UUID
    customer_user_id: uuid.UUID | None = Field(description="The customer's account, if any.")
    email: str = Field(max_length=320)
    currency: str = Field(min_length=3, max_length=3)
    total_minor: int = Field(ge=0, description="The total in the currency's minor unit.")
    lines: int = Field(ge=1, description="How many lines the order has.")


class OrderChanged(BaseModel):
    order_id: uuid.UUID
    number: int = Field(ge=1)
    status: str = Field(description="The order's status after the change.")
    payment_status: str = Field(description="Its payment status after the change.")


class OrderFulfilled(OrderChanged):
    fulfilment_id: uuid.UUID
    tracking_number: str | None = Field(max_length=100)


ORDER_PLACED = EventType(
    "commerce.order_placed",
    OrderPlaced,
    description="A checkout was completed: the order exists and its stock is allocated.",
)
ORDER_PAID = EventType(
    "commerce.order_paid",
    OrderChanged,
    description="An order's captured payments reached its total (payment status `paid`).",
)
ORDER_FULFILLED = EventType(
    "commerce.order_fulfilled",
    OrderFulfilled,
    description="A parcel of an order was sent (a fulfilment, with its tracking number).",
)
ORDER_CANCELLED = EventType(
    "commerce.order_cancelled",
    OrderChanged,
    description="An order was cancelled; its allocated stock is free again.",
)

COMMERCE_EVENTS: list[EventType[Any]] = [
    STOCK_LOW,
    ORDER_PLACED,
    ORDER_PAID,
    ORDER_FULFILLED,
    ORDER_CANCELLED,
]
