"""Who may do what in commerce: the permissions the module declares, the role grants, and the
dependencies endpoints check them with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bizosaas.kit.auth import Principal, require

RESOURCES = {
    "product": "products, their variants, prices and publication, and product types",
    "category": "the category tree",
    "collection": "collections",
    "channel": "sales channels",
    "inventory": "warehouses, stock levels, allocations and releases",
    "order": "orders, their fulfilments, returns, notes and timeline",
    "discount": "vouchers and promotions",
    "shipping": "shipping zones and methods, and tax settings",
    "payment": "payments (captures, voids, refunds) and the store's payment settings",
}

COMMERCE_PERMISSIONS: dict[str, str] = {
    **{f"commerce.{name}:read": f"See {what}" for name, what in RESOURCES.items()},
    **{
        f"commerce.{name}:write": f"Create, change and delete {what}"
        for name, what in RESOURCES.items()
    },
    "commerce.own:read": "See my own orders in a store I am a customer of",
}

ProductReader = Annotated[Principal, Depends(require("commerce.product:read"))]
ProductWriter = Annotated[Principal, Depends(require("commerce.product:write"))]
CategoryReader = Annotated[Principal, Depends(require("commerce.category:read"))]
CategoryWriter = Annotated[Principal, Depends(require("commerce.category:write"))]
CollectionReader = Annotated[Principal, Depends(require("commerce.collection:read"))]
CollectionWriter = Annotated[Principal, Depends(require("commerce.collection:write"))]
ChannelReader = Annotated[Principal, Depends(require("commerce.channel:read"))]
ChannelWriter = Annotated[Principal, Depends(require("commerce.channel:write"))]
InventoryReader = Annotated[Principal, Depends(require("commerce.inventory:read"))]
InventoryWriter = Annotated[Principal, Depends(require("commerce.inventory:write"))]
OrderReader = Annotated[Principal, Depends(require("commerce.order:read"))]
OrderWriter = Annotated[Principal, Depends(require("commerce.order:write"))]
DiscountReader = Annotated[Principal, Depends(require("commerce.discount:read"))]
DiscountWriter = Annotated[Principal, Depends(require("commerce.discount:write"))]
ShippingReader = Annotated[Principal, Depends(require("commerce.shipping:read"))]
ShippingWriter = Annotated[Principal, Depends(require("commerce.shipping:write"))]
OwnOrdersReader = Annotated[Principal, Depends(require("commerce.own:read"))]
PaymentReader = Annotated[Principal, Depends(require("commerce.payment:read"))]
PaymentWriter = Annotated[Principal, Depends(require("commerce.payment:write"))]
