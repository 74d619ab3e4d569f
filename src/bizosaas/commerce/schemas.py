"""Commerce API input and output: `XCreate`, `XUpdate` (every field optional), `X` (read).

Money is `Decimal` (a JSON string on output, so no client parses it as a float); names are one
line of text without control characters; descriptions are HTML, sanitised by the service.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    JsonValue,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from bizosaas.commerce.currencies import MINOR_UNITS
from bizosaas.commerce.models import AttributeKind
from bizosaas.kit.text import PlainText, SingleLine

Name = Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]
Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
]
Code = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]
Sku = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
]
Html = Annotated[PlainText, StringConstraints(max_length=50_000)]
SeoTitle = Annotated[SingleLine, StringConstraints(max_length=200)]
SeoDescription = Annotated[SingleLine, StringConstraints(max_length=500)]
MONEY_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,12})?$"


def _plain_amount(value: object) -> object:
    """Amounts as text are plain decimals (`12.50`): no sign, exponent or spaces."""
    if isinstance(value, str) and not re.fullmatch(MONEY_PATTERN, value):
        raise ValueError("write the amount as a plain decimal, e.g. 12.50")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_plain_amount),
    Field(ge=0, lt=Decimal(10**9), allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**9},
                {"type": "string", "pattern": MONEY_PATTERN},
            ]
        }
    ),
]
"""A non-negative amount below one billion, as a JSON number or a plain decimal string."""
CODES_ONLY: dict[str, Any] = {"additionalProperties": False}
"""For a dict keyed by `Code`: the schema's `patternProperties` alone would let other keys by."""
AttributeValue = bool | int | float | Annotated[SingleLine, StringConstraints(max_length=200)]
"""Text and choice values are strings, numbers are numbers (or decimal strings), booleans are
booleans. Numbers are attribute values, not money: the service keeps them as decimal text."""
AttributeValues = Annotated[
    dict[Code, AttributeValue], Field(max_length=50, json_schema_extra=CODES_ONLY)
]


# -- product types and attributes ------------------------------------------------------------


class ChoiceAttribute(BaseModel):
    name: Name
    kind: Literal[AttributeKind.choice]
    choices: list[Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1,
        max_length=200,
        json_schema_extra={"uniqueItems": True},
        description="The values the attribute may take, each once.",
    )

    @field_validator("choices")
    @classmethod
    def _listed_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("choices are listed once each")
        return value


class PlainAttribute(BaseModel):
    name: Name
    kind: Literal[AttributeKind.text, AttributeKind.number, AttributeKind.boolean]


AttributeDefinition = Annotated[ChoiceAttribute | PlainAttribute, Field(discriminator="kind")]


class ProductTypeCreate(BaseModel):
    name: Name
    attributes: dict[Code, AttributeDefinition] = Field(
        default_factory=dict,
        max_length=50,
        json_schema_extra=CODES_ONLY,
        description="The variants' attributes by code (`size`, `colour`), in display order.",
    )


class ProductTypeUpdate(BaseModel):
    name: Name | None = None


class AttributeRead(BaseModel):
    code: str
    name: str
    kind: AttributeKind
    choices: list[str]


class ProductTypeRead(BaseModel):
    id: uuid.UUID
    name: str
    attributes: list[AttributeRead]


# -- categories and collections --------------------------------------------------------------


class Seo(BaseModel):
    seo_title: SeoTitle | None = None
    seo_description: SeoDescription | None = None


class CategoryCreate(Seo):
    name: Name
    slug: Slug
    parent_id: uuid.UUID | None = Field(default=None, description="None for a top-level category.")
    description_html: Html = ""


class CategoryUpdate(Seo):
    name: Name | None = None
    slug: Slug | None = None
    parent_id: uuid.UUID | None = Field(
        default=None, description="Move under this category; an explicit null makes it a root."
    )
    description_html: Html | None = None


class CategoryRead(BaseModel):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    slug: str
    description_html: str
    seo_title: str | None
    seo_description: str | None


class CollectionCreate(Seo):
    name: Name
    slug: Slug
    description_html: Html = ""


class CollectionUpdate(Seo):
    name: Name | None = None
    slug: Slug | None = None
    description_html: Html | None = None


class CollectionRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    description_html: str
    seo_title: str | None
    seo_description: str | None


# -- products and variants -------------------------------------------------------------------


class VariantCreate(BaseModel):
    sku: Sku
    name: Annotated[SingleLine, StringConstraints(max_length=250)] = ""
    attributes: AttributeValues = Field(default_factory=dict)
    weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)
    track_inventory: bool = True
    low_stock_threshold: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="`commerce.stock_low` is sent when a warehouse's stock falls to this or below.",
    )


class VariantUpdate(BaseModel):
    sku: Sku | None = None
    name: Annotated[SingleLine, StringConstraints(max_length=250)] | None = None
    attributes: AttributeValues | None = None
    weight_grams: int | None = Field(default=None, ge=0, le=10_000_000)
    track_inventory: bool | None = None
    low_stock_threshold: int | None = Field(default=None, ge=0, le=1_000_000)


class PriceRead(BaseModel):
    channel_id: uuid.UUID
    currency: str
    amount: Decimal
    is_available: bool


class VariantRead(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    name: str
    attributes: dict[str, bool | str] = Field(
        description="Numbers come back as decimal strings, exactly as stored."
    )
    weight_grams: int | None
    track_inventory: bool
    low_stock_threshold: int | None
    prices: list[PriceRead]


class ProductCreate(Seo):
    product_type_id: uuid.UUID
    category_id: uuid.UUID | None = None
    name: Annotated[SingleLine, StringConstraints(min_length=1, max_length=250)]
    slug: Slug
    description_html: Html = Field(
        default="", description="Sanitised: scripts, styles and event handlers are removed."
    )
    collection_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    variants: list[VariantCreate] = Field(default_factory=list, max_length=100)


class ProductUpdate(Seo):
    category_id: uuid.UUID | None = None
    name: Annotated[SingleLine, StringConstraints(min_length=1, max_length=250)] | None = None
    slug: Slug | None = None
    description_html: Html | None = None
    collection_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)


class PublicationSet(BaseModel):
    is_published: bool
    published_from: AwareDatetime | None = Field(default=None, description="Visible from then on.")
    published_until: AwareDatetime | None = Field(
        default=None, description="Visible until then (after `published_from`)."
    )


class PublicationRead(BaseModel):
    channel_id: uuid.UUID
    is_published: bool
    published_from: datetime | None
    published_until: datetime | None


class ProductRead(BaseModel):
    id: uuid.UUID
    product_type_id: uuid.UUID
    category_id: uuid.UUID | None
    name: str
    slug: str
    description_html: str
    seo_title: str | None
    seo_description: str | None
    collection_ids: list[uuid.UUID]
    variants: list[VariantRead]
    publications: list[PublicationRead]
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


# -- channels and prices ---------------------------------------------------------------------


class ChannelCreate(BaseModel):
    name: Name
    slug: Slug
    currency: str = Field(
        description="ISO 4217 code, e.g. EUR; fixed once the channel exists.",
        json_schema_extra={"enum": list[JsonValue](sorted(MINOR_UNITS))},
    )
    is_active: bool = True

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in MINOR_UNITS:
            raise ValueError(f"unknown currency; use one of {', '.join(sorted(MINOR_UNITS))}")
        return value


class ChannelUpdate(BaseModel):
    name: Name | None = None
    slug: Slug | None = None
    is_active: bool | None = None


class ChannelRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    currency: str
    is_active: bool


class PriceSet(BaseModel):
    amount: Money = Field(description="Rounded half up to the currency's minor unit.")
    is_available: bool = True


# -- inventory -------------------------------------------------------------------------------


class WarehouseCreate(BaseModel):
    name: Name
    code: Code


class WarehouseUpdate(BaseModel):
    name: Name | None = None


class WarehouseRead(BaseModel):
    id: uuid.UUID
    name: str
    code: str


class StockSet(BaseModel):
    quantity: int = Field(ge=0, le=1_000_000_000, description="What can be allocated from now on.")


class StockRead(BaseModel):
    variant_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: int = Field(description="Free to allocate.")
    allocated: int = Field(description="Held by allocations.")


class AllocationRequest(BaseModel):
    quantity: int = Field(ge=1, le=1_000_000)
    warehouse_id: uuid.UUID | None = Field(
        default=None, description="Only from this warehouse; otherwise the first that has enough."
    )


class ReleaseRequest(BaseModel):
    quantity: int = Field(ge=1, le=1_000_000)
    warehouse_id: uuid.UUID


class AllocationRead(BaseModel):
    variant_id: uuid.UUID
    warehouse_id: uuid.UUID | None = Field(
        description="Null for a variant that does not track inventory."
    )
    quantity: int


# -- CSV import ------------------------------------------------------------------------------


class ImportProblem(BaseModel):
    row: int = Field(description="The file's line of the row (the header is row 1).")
    column: str | None = Field(description="The column at fault; null for the whole row.")
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    rows: int = Field(description="Variant rows read (the header not counted).")
    products_created: int
    products_updated: int
    variants_created: int
    variants_updated: int
    categories_created: int
    collections_created: int
    errors: list[ImportProblem] = Field(
        description="Every problem found; a file with any is not applied."
    )


# -- images ----------------------------------------------------------------------------------


class ImageRead(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    position: int = Field(description="Order among the product's images, from 0.")
    alt_text: str
    width: int
    height: int
    byte_size: int
    url: str = Field(description="The original, served publicly with long-lived caching.")
    thumbnails: dict[str, str] = Field(
        description="Longest side in pixels (`200`, `600`) -> URL of a WebP thumbnail."
    )


class ImageUpdate(BaseModel):
    alt_text: Annotated[SingleLine, StringConstraints(max_length=300)] | None = None
    position: int | None = Field(
        default=None, ge=0, le=10_000, description="Move the image to this place in the order."
    )
