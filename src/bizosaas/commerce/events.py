"""Commerce events, written to the outbox with the change that caused them."""

from __future__ import annotations

import uuid

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

COMMERCE_EVENTS = [STOCK_LOW]
