"""CSV import of the catalogue: check every row, then apply the whole file or nothing.

The file is read once, row by row (a stream of lines, never the whole text in memory), into a
plan per product (csv_rows.py). Checking reads the store (product types, channels, warehouses,
the products and SKUs the file names) and writes nothing, so a dry run is the check alone. A
real run with any problem is refused as a whole (`commerce.import_invalid`, every problem
listed): a catalogue half imported is worse than none. Otherwise the plans are applied
(csv_apply.py) in the caller's one transaction.

Rows upsert: a product is found by `product_slug`, a variant by `sku`, so importing the same
file again updates what the first run created instead of adding it twice. Empty cells leave a
field as it is (a new product or variant takes the default).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.commerce import repository
from bizosaas.commerce.exceptions import ImportInvalid
from bizosaas.commerce.models import Category, Channel, Collection, ProductType, Warehouse
from bizosaas.commerce.schemas import ImportReport
from bizosaas.commerce.service.csv_apply import Progress, apply_plans
from bizosaas.commerce.service.csv_columns import Layout, parse_header
from bizosaas.commerce.service.csv_rows import Problems, RowPlanner, Store
from bizosaas.kit.tenancy import TenantScope, bind_tenant

LOOKUP_CHUNK = 500
COUNT_NAMES = (
    "products_created",
    "products_updated",
    "variants_created",
    "variants_updated",
    "categories_created",
    "collections_created",
)


async def import_catalogue(
    session: AsyncSession,
    *,
    scope: TenantScope,
    lines: Iterable[str],
    dry_run: bool,
    publish_in: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the CSV `lines` and, unless `dry_run`, apply them. `publish_in`: a channel slug
    every imported product is published in (as a `published:<slug>` column of `true` would).
    `progress` is called once per row checked and once per row applied."""
    await bind_tenant(session, scope)
    problems = Problems()
    store = await _read_store(session, scope=scope)
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        problems.add(1, None, "the file is empty; the first row names the columns")
        return _refuse_or_report(problems, dry_run=dry_run, rows=0)
    layout, header_problems = parse_header(header)
    for column, message in header_problems:
        problems.add(1, column, message)
    _check_keyed_columns(layout, store, problems)
    if publish_in is not None and publish_in not in store.channels:
        problems.add(1, None, f"no channel with the slug {publish_in!r} to publish in")
    if problems.count:
        return _refuse_or_report(problems, dry_run=dry_run, rows=0)
    planner = RowPlanner(layout=layout, store=store, problems=problems)
    rows = 0
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        rows += 1
        plan = planner.add(number, dict(zip((h.strip() for h in header), cells, strict=False)))
        if publish_in is not None and plan is not None:
            plan.published.setdefault(publish_in, True)
        if progress is not None:
            progress("check", 1)
    counts = await _check_against_store(session, scope=scope, planner=planner)
    if problems.count or dry_run:
        return _refuse_or_report(problems, dry_run=dry_run, rows=rows, counts=counts)
    await apply_plans(session, scope=scope, store=store, plans=planner.plans, progress=progress)
    return ImportReport(dry_run=False, rows=rows, errors=[], **counts)


def _refuse_or_report(
    problems: Problems, *, dry_run: bool, rows: int, counts: dict[str, int] | None = None
) -> ImportReport:
    if problems.count and not dry_run:
        raise ImportInvalid(
            f"{problems.count} problem(s) in the file; nothing was imported.",
            errors=[problem.model_dump() for problem in problems.items],
        )
    return ImportReport(
        dry_run=dry_run,
        rows=rows,
        errors=problems.items,
        **(counts or dict.fromkeys(COUNT_NAMES, 0)),
    )


async def _read_store(session: AsyncSession, *, scope: TenantScope) -> Store:
    types = await repository.list_all(session, ProductType, scope=scope, order_by=ProductType.name)
    channels = await repository.list_all(session, Channel, scope=scope, order_by=Channel.slug)
    warehouses = await repository.list_all(session, Warehouse, scope=scope, order_by=Warehouse.code)
    return Store(
        types={product_type.name: product_type for product_type in types},
        attributes=await repository.attributes_of(
            session, scope=scope, product_type_ids=[t.id for t in types]
        ),
        channels={channel.slug: channel for channel in channels},
        warehouses={warehouse.code: warehouse for warehouse in warehouses},
    )


def _check_keyed_columns(layout: Layout, store: Store, problems: Problems) -> None:
    codes = {a.code for attributes in store.attributes.values() for a in attributes}
    for code in layout.attributes:
        if code not in codes:
            problems.add(1, f"attribute:{code}", "no product type has this attribute")
    for kind, slugs in (("price", layout.prices), ("published", layout.published)):
        for slug in slugs:
            if slug not in store.channels:
                problems.add(1, f"{kind}:{slug}", "no channel with this slug")
    for code in layout.stock:
        if code not in store.warehouses:
            problems.add(1, f"stock:{code}", "no warehouse with this code")


async def _check_against_store(
    session: AsyncSession, *, scope: TenantScope, planner: RowPlanner
) -> dict[str, int]:
    """What the rows mean for the store as it is: which products and variants exist, SKUs
    used by another product or twice in the file, types that cannot change. Returns the
    counts a run would create and update."""
    plans, problems = planner.plans, planner.problems
    existing = {}
    for chunk in _chunks(list(plans)):
        existing.update(await repository.products_by_slug(session, scope=scope, slugs=chunk))
    skus = [v.fields["sku"] for plan in plans.values() for v in plan.variants]
    variants = {}
    for chunk in _chunks(skus):
        variants.update(await repository.variants_by_sku(session, scope=scope, skus=chunk))
    counts = dict.fromkeys(COUNT_NAMES, 0)
    seen: dict[str, int] = {}
    for plan in plans.values():
        product = existing.get(plan.slug)
        product_type = planner.store.types.get(plan.type_name)
        if product is None:
            counts["products_created"] += 1
            if "name" not in plan.fields:
                problems.add(plan.row, "product_name", "a new product needs a name")
        else:
            counts["products_updated"] += 1
            if product_type is not None and product.product_type_id != product_type.id:
                problems.add(plan.row, "product_type", "a product's type cannot change")
        for variant in plan.variants:
            sku = variant.fields["sku"]
            stored = variants.get(sku)
            if sku in seen:
                problems.add(variant.row, "sku", f"the SKU is also on row {seen[sku]}")
            elif stored is not None and (product is None or stored.product_id != product.id):
                problems.add(variant.row, "sku", "the SKU belongs to another product")
            else:
                counts["variants_created" if stored is None else "variants_updated"] += 1
            seen.setdefault(sku, variant.row)
    categories = await repository.list_all(session, Category, scope=scope, order_by=Category.slug)
    collections = await repository.list_all(
        session, Collection, scope=scope, order_by=Collection.slug
    )
    counts["categories_created"] = len(
        {s for p in plans.values() for s in p.category or []} - {c.slug for c in categories}
    )
    counts["collections_created"] = len(
        {s for p in plans.values() for s in p.collections or []} - {c.slug for c in collections}
    )
    return counts


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]
