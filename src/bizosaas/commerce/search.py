"""Finding products: full text, filters, a sort order and keyset pages, as one query.

Full text matches every word of the query as a prefix, over the product's `search_text` (name,
SKUs and description as plain text):
* PostgreSQL: `to_tsvector('simple', search_text) @@ to_tsquery('simple', 'word:* & ...')`,
  served by the GIN index over that expression (migration commerce_0001);
* SQLite: the FTS5 table `commerce_product_search`, kept in step with the products by triggers,
  `MATCH '"word"* AND ...'`.
Both tokenise on non-word characters, so `TEE-RED-M` is found by `tee red`.

Pages are keyset pages: the cursor carries the sort key and id of the last row, so a page costs
the same at any depth and rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Select, and_, exists, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bizosaas.commerce.exceptions import InvalidCursor
from bizosaas.commerce.models import (
    Product,
    ProductCollection,
    ProductPublication,
    Stock,
    Variant,
    VariantAttributeValue,
    VariantPrice,
)
from bizosaas.kit.tenancy import TenantScope

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8


class ProductSort(StrEnum):
    name = "name"
    name_desc = "-name"
    created = "created"
    created_desc = "-created"


@dataclass(frozen=True)
class ProductQuery:
    text: str | None = None
    category_ids: Sequence[uuid.UUID] | None = None
    """The category and its sub-categories (already expanded), or None for any."""
    collection_id: uuid.UUID | None = None
    attributes: Sequence[tuple[str, set[str]]] = field(default_factory=tuple)
    """(code, stored texts) pairs: the product has a variant with one of the texts, for each."""
    channel_id: uuid.UUID | None = None
    price_min_minor: int | None = None
    price_max_minor: int | None = None
    in_stock: bool | None = None
    visible_in: uuid.UUID | None = None
    """Only products published in this channel at `visible_at` (a storefront's listing)."""
    visible_at: datetime | None = None
    sort: ProductSort = ProductSort.name
    cursor: str | None = None
    limit: int = 50


def words(text: str, *, limit: int | None = MAX_WORDS) -> list[str]:
    """The words of `text`, lower case (a query keeps its first `MAX_WORDS`)."""
    found = [word.lower() for word in _WORD.findall(text)]
    return found if limit is None else found[:limit]


def _sort_column(sort: ProductSort) -> Any:
    return Product.name if sort in (ProductSort.name, ProductSort.name_desc) else Product.created_at


def _descending(sort: ProductSort) -> bool:
    return sort.value.startswith("-")


def encode_cursor(sort: ProductSort, product: Product) -> str:
    key: Any = (
        product.name if _sort_column(sort) is Product.name else product.created_at.isoformat()
    )
    raw = orjson.dumps([sort.value, key, str(product.id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: ProductSort, cursor: str) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, row_id = orjson.loads(raw)
        if cursor_sort != sort.value or not isinstance(key, str):
            raise ValueError("the cursor belongs to another sort order")
        value: Any = key if _sort_column(sort) is Product.name else datetime.fromisoformat(key)
        return value, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise InvalidCursor("Use the next_cursor of a page with the same sort.") from error


def _text_filter(dialect: str, query_words: list[str]) -> Any:
    if dialect == "postgresql":
        tsquery = " & ".join(f"{word}:*" for word in query_words)
        return text(
            "to_tsvector('simple', commerce_products.search_text) "
            "@@ to_tsquery('simple', :product_tsquery)"
        ).bindparams(product_tsquery=tsquery)
    match = " AND ".join(f'"{word}"*' for word in query_words)
    return Product.id.in_(
        select(text("product_id"))
        .select_from(text("commerce_product_search"))
        .where(text("commerce_product_search MATCH :product_match").bindparams(product_match=match))
    )


def _visible(channel_id: uuid.UUID, at: datetime | None) -> Any:
    """Published in the channel, `at` within the dates given (from inclusive, until exclusive:
    the rule of service/channels.is_visible)."""
    conditions = [
        ProductPublication.product_id == Product.id,
        ProductPublication.channel_id == channel_id,
        ProductPublication.is_published.is_(True),
    ]
    if at is not None:
        conditions += [
            or_(
                ProductPublication.published_from.is_(None), ProductPublication.published_from <= at
            ),
            or_(
                ProductPublication.published_until.is_(None),
                ProductPublication.published_until > at,
            ),
        ]
    return exists().where(*conditions)


def _sale_filters(query: ProductQuery) -> list[Any]:
    """The conditions on what is for sale: a price range in a channel, stock, publication."""
    conditions: list[Any] = []
    if query.channel_id is not None and (
        query.price_min_minor is not None or query.price_max_minor is not None
    ):
        priced = [
            VariantPrice.variant_id == Variant.id,
            VariantPrice.channel_id == query.channel_id,
            VariantPrice.is_available.is_(True),
        ]
        if query.price_min_minor is not None:
            priced.append(VariantPrice.amount_minor >= query.price_min_minor)
        if query.price_max_minor is not None:
            priced.append(VariantPrice.amount_minor <= query.price_max_minor)
        # Nested as "a variant of this product with a price in range": the product's variants
        # by their index, then each one's price by (variant, channel). A flat join lets SQLite
        # without statistics scan the (channel, amount) index once per product instead.
        conditions.append(exists().where(Variant.product_id == Product.id, exists().where(*priced)))
    if query.in_stock is not None:
        stocked = exists().where(
            Variant.product_id == Product.id,
            or_(
                Variant.track_inventory.is_(False),
                exists().where(Stock.variant_id == Variant.id, Stock.quantity > 0),
            ),
        )
        conditions.append(stocked if query.in_stock else ~stocked)
    if query.visible_in is not None:
        conditions.append(_visible(query.visible_in, query.visible_at))
    return conditions


def build(query: ProductQuery, *, scope: TenantScope, dialect: str) -> Select[Product]:
    statement = select(Product).where(Product.tenant_id == scope.tenant_id)
    query_words = words(query.text or "")
    if query_words:
        statement = statement.where(_text_filter(dialect, query_words))
    if query.category_ids is not None:
        statement = statement.where(Product.category_id.in_(query.category_ids))
    if query.collection_id is not None:
        statement = statement.where(
            exists().where(
                ProductCollection.product_id == Product.id,
                ProductCollection.collection_id == query.collection_id,
            )
        )
    for code, values in query.attributes:
        statement = statement.where(
            exists().where(
                VariantAttributeValue.product_id == Product.id,
                VariantAttributeValue.code == code,
                VariantAttributeValue.value.in_(sorted(values)),
            )
        )
    for condition in _sale_filters(query):
        statement = statement.where(condition)
    column = _sort_column(query.sort)
    descending = _descending(query.sort)
    if query.cursor:
        key, last_id = decode_cursor(query.sort, query.cursor)
        if descending:
            statement = statement.where(
                or_(column < key, and_(column == key, Product.id < last_id))
            )
        else:
            statement = statement.where(
                or_(column > key, and_(column == key, Product.id > last_id))
            )
    if query_words and dialect == "postgresql":
        # Matches first, then sort: `OFFSET 0` fences the filtered set, so PostgreSQL takes the
        # GIN index and sorts the matches instead of walking the name index and computing
        # `to_tsvector` for every row it passes (seconds for a word that sorts late or matches
        # nothing, at 100,000 products).
        matches = aliased(Product, statement.offset(0).subquery("matches"))
        column = getattr(matches, column.key)
        statement = select(matches)
        order = (column.desc(), matches.id.desc()) if descending else (column, matches.id)
        return statement.order_by(*order).limit(query.limit + 1)
    order = (column.desc(), Product.id.desc()) if descending else (column, Product.id)
    return statement.order_by(*order).limit(query.limit + 1)


async def find_products(
    session: AsyncSession, query: ProductQuery, *, scope: TenantScope
) -> tuple[list[Product], str | None]:
    """A page of products and the cursor of the next page (None on the last)."""
    dialect = session.get_bind().dialect.name
    rows = list((await session.scalars(build(query, scope=scope, dialect=dialect))).all())
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    return rows, encode_cursor(query.sort, rows[-1])


async def count_products(session: AsyncSession, *, scope: TenantScope) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Product).where(Product.tenant_id == scope.tenant_id)
        )
        or 0
    )
