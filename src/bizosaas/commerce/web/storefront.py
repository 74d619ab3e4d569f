"""The public storefront, `/store/<slug>`: home, search with filters, category, product with
its variant picker. No login; the store is the active tenant with that slug (see
service/storefront.py). Pages work without JavaScript: filters and the variant picker are GET
forms, so every state of a page has its own address (shareable, cacheable, crawlable).
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.commerce.schemas import CategoryRead
from bizosaas.commerce.search import ProductSort
from bizosaas.commerce.service import storefront
from bizosaas.commerce.service.storefront import Store, StoreProduct
from bizosaas.kit.deps import ReadSession
from bizosaas.web.shell import WebRoute, render_shared

router = APIRouter(prefix="/store/{store_slug}", include_in_schema=False, route_class=WebRoute)

StoreSlug = Annotated[str, Path(description="The store's tenant slug.")]
PageSlug = Annotated[str, Path(description="A category's or product's slug.")]
SORTS = {
    ProductSort.name: "Name, A to Z",
    ProductSort.name_desc: "Name, Z to A",
    ProductSort.created_desc: "Newest first",
}
PAGE_SIZE = 24
SHARED_CACHE_SECONDS = 30


def _amount(text: str | None) -> Decimal | None:
    """A price filter as typed in the form; anything that is not a plain amount is ignored."""
    if not text or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < 10**9 else None


def _show(
    request: Request,
    store: Store,
    template: str,
    context: dict[str, Any],
    categories: list[CategoryRead],
) -> Response:
    values = {
        "description": None,
        "filters": None,
        "category": None,
        "store": store,
        "categories": categories,
        "top_categories": [c for c in categories if c.parent_id is None],
        "money": lambda amount: storefront.money(amount, store.currency),
        **context,
    }
    # The same page for every visitor: a short shared cache life keeps a busy storefront cheap
    # without showing stale prices for long after the merchant edits the catalogue.
    return render_shared(request, template, values, max_age=SHARED_CACHE_SECONDS)


async def _opened(session: AsyncSession, slug: str) -> tuple[Store, list[CategoryRead]]:
    store = await storefront.open_store(session, slug=slug)
    return store, await storefront.store_categories(session, store)


@router.get("")
async def home(request: Request, store_slug: StoreSlug, session: ReadSession) -> Response:
    store, categories = await _opened(session, store_slug)
    newest = await storefront.find(session, store, sort=ProductSort.created_desc, limit=12)
    context = {"title": store.name, "products": newest.products}
    return _show(request, store, "commerce/store/home.html", context, categories)


class ListingQuery(BaseModel):
    """The listing's filters, as its GET form sends them."""

    q: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    """A category's slug (the search page's filter; a category page has it in its path)."""
    min_price: str | None = Field(default=None, max_length=20)
    max_price: str | None = Field(default=None, max_length=20)
    in_stock: bool = False
    sort: ProductSort = ProductSort.name
    cursor: str | None = Field(default=None, max_length=500)


Listing = Annotated[ListingQuery, Query()]


async def _listing(
    request: Request,
    session: AsyncSession,
    opened: tuple[Store, list[CategoryRead]],
    query: ListingQuery,
    *,
    category: CategoryRead | None,
    category_in_path: bool,
) -> Response:
    store, categories = opened
    page = await storefront.find(
        session,
        store,
        text=query.q,
        category_id=category.id if category else None,
        price_min=_amount(query.min_price),
        price_max=_amount(query.max_price),
        in_stock=True if query.in_stock else None,
        sort=query.sort,
        cursor=query.cursor,
        limit=PAGE_SIZE,
    )
    filters = {
        "q": query.q or "",
        "min_price": query.min_price or "",
        "max_price": query.max_price or "",
        "in_stock": "1" if query.in_stock else "",
        "sort": query.sort.value,
        "category": category.slug if category and not category_in_path else "",
    }
    searched = f"Search: {query.q}" if query.q else "All products"
    title = category.name if category else searched
    context = {
        "title": title,
        "category": category,
        "filters": filters,
        "sorts": SORTS,
        "products": page.products,
        "next_cursor": page.next_cursor,
        "next_query": {key: value for key, value in filters.items() if value},
    }
    return _show(request, store, "commerce/store/listing.html", context, categories)


@router.get("/search")
async def search(
    request: Request, store_slug: StoreSlug, session: ReadSession, query: Listing
) -> Response:
    opened = await _opened(session, store_slug)
    chosen = next((c for c in opened[1] if c.slug == query.category), None)
    return await _listing(request, session, opened, query, category=chosen, category_in_path=False)


@router.get("/categories/{category_slug}")
async def category_page(
    request: Request,
    store_slug: StoreSlug,
    category_slug: PageSlug,
    session: ReadSession,
    query: Listing,
) -> Response:
    opened = await _opened(session, store_slug)
    category = await storefront.category_by_slug(session, opened[0], slug=category_slug)
    return await _listing(request, session, opened, query, category=category, category_in_path=True)


def _chosen_variant(product: StoreProduct, variant: uuid.UUID | None) -> Any:
    by_id = {v.id: v for v in product.variants}
    if variant in by_id:
        return by_id[variant]
    buyable = product.buyable_variants
    return buyable[0] if buyable else (product.variants[0] if product.variants else None)


@router.get("/products/{product_slug}")
async def product_page(
    request: Request,
    store_slug: StoreSlug,
    product_slug: PageSlug,
    session: ReadSession,
    variant: uuid.UUID | None = None,
) -> Response:
    store, categories = await _opened(session, store_slug)
    product = await storefront.product_by_slug(session, store, slug=product_slug)
    category = next((c for c in categories if c.id == product.category_id), None)
    context = {
        "title": product.seo_title or product.name,
        "description": product.seo_description,
        "product": product,
        "category": category,
        "chosen": _chosen_variant(product, variant),
    }
    return _show(request, store, "commerce/store/product.html", context, categories)
