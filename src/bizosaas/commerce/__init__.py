"""Commerce: a store engine for every tenant.

This part holds the catalogue (product types with attributes, categories, collections,
products and variants), channels with their currencies, prices and publications, and inventory
(warehouses, stock, allocation that never oversells). Checkout, payments, orders and the
storefront build on it. Layout: models.py, schemas.py, repository.py and search.py (queries),
service/ (use cases), api/ + router.py (HTTP), auth.py (permissions), events.py,
exceptions.py, migrations/ (the `commerce` branch of the one Alembic history).
"""

from __future__ import annotations

from pathlib import Path

from bizosaas.commerce.auth import COMMERCE_PERMISSIONS
from bizosaas.commerce.demo_store import seed
from bizosaas.commerce.events import COMMERCE_EVENTS
from bizosaas.commerce.router import router
from bizosaas.kit.module import DomainModule

module = DomainModule(
    name="commerce",
    title="Commerce",
    router=router,
    migrations=Path(__file__).parent / "migrations",
    permissions=COMMERCE_PERMISSIONS,
    events=COMMERCE_EVENTS,
    seed=seed,
)

__all__ = ["module"]
