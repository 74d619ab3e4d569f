"""CSV export of the catalogue, in the layout the import reads (service/csv_columns.py), so an
exported file imported into the same store changes nothing, and into an empty store with the
same product types, channels and warehouses rebuilds the catalogue.

Rows stream out a page of products at a time (keyset pages by id, a handful of queries each),
so a catalogue of any size is written in constant memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.models import (
    Category,
    Channel,
    Collection,
    ProductType,
    Warehouse,
)
from bizosaas.commerce.service.csv_columns import (
    CATEGORY_SEPARATOR,
    FIXED_COLUMNS,
    LIST_SEPARATOR,
    Layout,
)
from bizosaas.commerce.service.listing import product_reads
from bizosaas.kit.tenancy import TenantScope, bind_tenant

PAGE = 500


async def export_catalogue(session: AsyncSession, *, scope: TenantScope) -> AsyncIterator[str]:
    """The store's catalogue as CSV text, in chunks (the header first, then a chunk per page
    of products)."""
    await bind_tenant(session, scope)
    types = {
        t.id: t.name
        for t in await repository.list_all(
            session, ProductType, scope=scope, order_by=ProductType.name
        )
    }
    attributes = await repository.attributes_of(session, scope=scope, product_type_ids=list(types))
    codes = sorted({a.code for group in attributes.values() for a in group})
    channels = {
        c.id: c.slug
        for c in await repository.list_all(session, Channel, scope=scope, order_by=Channel.slug)
    }
    warehouses = {
        w.id: w.code
        for w in await repository.list_all(session, Warehouse, scope=scope, order_by=Warehouse.code)
    }
    categories = await repository.list_all(session, Category, scope=scope, order_by=Category.slug)
    paths = _category_paths({c.id: (c.slug, c.parent_id) for c in categories})
    collections = {
        c.id: c.slug
        for c in await repository.list_all(
            session, Collection, scope=scope, order_by=Collection.slug
        )
    }
    layout = Layout(
        fixed=list(FIXED_COLUMNS),
        attributes=codes,
        prices=list(channels.values()),
        stock=list(warehouses.values()),
        published=list(channels.values()),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(layout.header())
    yield _drain(buffer)
    after: uuid.UUID | None = None
    while True:
        products = await repository.products_after(session, scope=scope, after=after, limit=PAGE)
        if not products:
            return
        after = products[-1].id
        reads = await product_reads(session, scope=scope, products=products)
        variant_ids = [variant.id for read in reads for variant in read.variants]
        stock: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
        for row in await repository.stock_of_variants(
            session, scope=scope, variant_ids=variant_ids
        ):
            stock[row.variant_id][row.warehouse_id] = row.quantity
        for read in reads:
            published = {p.channel_id: p.is_published for p in read.publications}
            product_cells = [
                read.slug,
                read.name,
                types[read.product_type_id],
                paths.get(read.category_id, "") if read.category_id else "",
                LIST_SEPARATOR.join(collections[i] for i in read.collection_ids),
                read.description_html,
                read.seo_title or "",
                read.seo_description or "",
            ]
            for variant in read.variants:
                prices = {price.channel_id: price.amount for price in variant.prices}
                writer.writerow(
                    [
                        *product_cells,
                        variant.sku,
                        variant.name,
                        "" if variant.weight_grams is None else variant.weight_grams,
                        "true" if variant.track_inventory else "false",
                        "" if variant.low_stock_threshold is None else variant.low_stock_threshold,
                        *(_attribute_text(variant.attributes.get(code)) for code in codes),
                        *(str(prices.get(channel_id, "")) for channel_id in channels),
                        *(stock[variant.id].get(warehouse_id, "") for warehouse_id in warehouses),
                        *(_flag(published.get(channel_id)) for channel_id in channels),
                    ]
                )
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _attribute_text(value: bool | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _category_paths(tree: dict[uuid.UUID, tuple[str, uuid.UUID | None]]) -> dict[uuid.UUID, str]:
    """Each category's path of slugs from its root (`clothing/shirts`)."""
    paths: dict[uuid.UUID, str] = {}
    for category_id in tree:
        parts: list[str] = []
        current: uuid.UUID | None = category_id
        while current is not None and len(parts) <= len(tree):
            slug, parent = tree[current]
            parts.append(slug)
            current = parent
        paths[category_id] = CATEGORY_SEPARATOR.join(reversed(parts))
    return paths
