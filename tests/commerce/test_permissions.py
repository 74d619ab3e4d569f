"""Who may do what: owners and managers change the catalogue and stock, staff only read,
clients see nothing of the staff API; the module declares each permission it checks."""

from __future__ import annotations

import httpx

from bizosaas.commerce import module
from tests.commerce.conftest import Store, clothing_type
from tests.identity.conftest import Invite


async def test_staff_read_managers_write(
    client: httpx.AsyncClient, shop: Store, invite: Invite
) -> None:
    kind = await clothing_type(shop)
    staff = Store(client, await invite(shop.account, "staff"))
    manager = Store(client, await invite(shop.account, "manager"))
    client_role = Store(client, await invite(shop.account, "client"))

    assert [t["id"] for t in await staff.ok("GET", "/product-types")] == [kind["id"]]
    await staff.ok("GET", "/warehouses")
    for path, body in (
        ("/product-types", {"name": "Staff type"}),
        ("/warehouses", {"name": "W", "code": "w"}),
        ("/channels", {"name": "C", "slug": "c", "currency": "EUR"}),
        ("/categories", {"name": "C", "slug": "c"}),
    ):
        await staff.problem("POST", path, 403, "auth.forbidden", json=body)
    await client_role.problem("GET", "/product-types", 403, "auth.forbidden")

    await manager.ok("POST", "/warehouses", 201, json={"name": "W", "code": "w"})
    await manager.ok("PATCH", f"/product-types/{kind['id']}", json={"name": "Apparel"})
    assert [w["code"] for w in await staff.ok("GET", "/warehouses")] == ["w"]


async def test_anonymous_callers_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/brain/commerce/products")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.unauthenticated"


def test_module_declares_read_and_write_for_each_resource() -> None:
    resources = {name.split(".")[1].split(":")[0] for name in module.permissions} - {"own"}
    assert resources == {
        "product",
        "category",
        "collection",
        "channel",
        "inventory",
        "order",
        "discount",
        "shipping",
        "payment",
    }
    # a customer's own orders (the `client` role's `*.own:read`), read only
    assert [name for name in module.permissions if ".own:" in name] == ["commerce.own:read"]
    assert all(
        f"commerce.{r}:{a}" in module.permissions for r in resources for a in ("read", "write")
    )
    assert not module.role_grants  # the platform's matrix already covers commerce.*
