"""Inventory through the staff API: warehouses, stock counts, allocation and release, the
`commerce.insufficient_stock` refusal and the `commerce.stock_low` event."""

from __future__ import annotations

from typing import Any

from bizosaas.commerce.events import STOCK_LOW
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, InProcessEventBus
from bizosaas.kit.outbox import OutboxRelay
from tests.commerce.conftest import Store, clothing_type, product


async def stocked_variant(store: Store, *, quantity: int, **variant: Any) -> tuple[str, str]:
    made = await product(store, await clothing_type(store), "tee", skus=["TEE-1"])
    variant_id = made["variants"][0]["id"]
    if variant:
        await store.ok("PATCH", f"/variants/{variant_id}", json=variant)
    warehouse = await store.ok("POST", "/warehouses", 201, json={"name": "Main", "code": "main"})
    await store.ok(
        "PUT", f"/variants/{variant_id}/stock/{warehouse['id']}", json={"quantity": quantity}
    )
    return variant_id, warehouse["id"]


async def relayed(database: Database, name: str) -> list[Event]:
    seen: list[Event] = []

    async def keep(event: Event) -> None:
        seen.append(event)

    bus = InProcessEventBus()
    bus.subscribe(name, keep)
    await OutboxRelay(database, bus).drain()
    return seen


async def test_allocate_and_release_move_stock_between_free_and_held(shop: Store) -> None:
    variant, warehouse = await stocked_variant(shop, quantity=5)
    held = await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 3})
    assert held == {"variant_id": variant, "warehouse_id": warehouse, "quantity": 3}
    stock = await shop.ok("GET", f"/variants/{variant}/stock")
    assert [(s["quantity"], s["allocated"]) for s in stock] == [(2, 3)]
    body = await shop.problem(
        "POST",
        f"/variants/{variant}/allocate",
        409,
        "commerce.insufficient_stock",
        json={"quantity": 3},
    )
    assert body["requested"] == 3
    released = await shop.ok(
        "POST", f"/variants/{variant}/release", json={"quantity": 2, "warehouse_id": warehouse}
    )
    assert (released["quantity"], released["allocated"]) == (4, 1)
    await shop.problem(
        "POST",
        f"/variants/{variant}/release",
        409,
        "commerce.insufficient_stock",
        json={"quantity": 2, "warehouse_id": warehouse},
    )
    stock = await shop.ok("GET", f"/variants/{variant}/stock")
    assert [(s["quantity"], s["allocated"]) for s in stock] == [(4, 1)]


async def test_allocation_takes_the_first_warehouse_with_enough(shop: Store) -> None:
    variant, small = await stocked_variant(shop, quantity=1)
    large = await shop.ok("POST", "/warehouses", 201, json={"name": "Second", "code": "second"})
    await shop.ok("PUT", f"/variants/{variant}/stock/{large['id']}", json={"quantity": 10})
    held = await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 4})
    assert held["warehouse_id"] == large["id"]
    await shop.problem(
        "POST",
        f"/variants/{variant}/allocate",
        409,
        "commerce.insufficient_stock",
        json={"quantity": 4, "warehouse_id": small},
    )


async def test_untracked_variant_is_always_allocated(shop: Store) -> None:
    variant, _ = await stocked_variant(shop, quantity=0, track_inventory=False)
    held = await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 50})
    assert held == {"variant_id": variant, "warehouse_id": None, "quantity": 50}


async def test_stock_low_is_sent_once_when_the_threshold_is_crossed(
    shop: Store, database: Database
) -> None:
    variant, warehouse = await stocked_variant(shop, quantity=10, low_stock_threshold=3)
    await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 6})  # 4 left
    assert await relayed(database, STOCK_LOW.name) == []
    await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 2})  # 2 left
    await shop.ok("POST", f"/variants/{variant}/allocate", json={"quantity": 1})  # still low
    events = await relayed(database, STOCK_LOW.name)
    assert len(events) == 1
    low = STOCK_LOW.parse(events[0])
    assert (str(low.variant_id), str(low.warehouse_id)) == (variant, warehouse)
    assert (low.sku, low.quantity, low.threshold) == ("TEE-1", 2, 3)
    assert events[0].tenant_id == shop.account.tenant_id


async def test_warehouse_with_stock_cannot_be_deleted(shop: Store) -> None:
    variant, warehouse = await stocked_variant(shop, quantity=1)
    await shop.problem("DELETE", f"/warehouses/{warehouse}", 409, "commerce.in_use")
    await shop.ok("PUT", f"/variants/{variant}/stock/{warehouse}", json={"quantity": 0})
    await shop.ok("DELETE", f"/warehouses/{warehouse}", 204)
    await shop.problem(
        "POST",
        "/warehouses",
        422,
        "request.validation_failed",
        json={"name": "X", "code": "Bad Code"},
    )
