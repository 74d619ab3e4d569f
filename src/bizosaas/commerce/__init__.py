"""Commerce: a store engine for every tenant.

This part holds the catalogue (product types with attributes, categories, collections,
products and variants), channels with their currencies, prices and publications, and inventory
(warehouses, stock, allocation that never oversells), and the public storefront's pages
(`/store/<slug>`). Checkout, payments and orders build on it. Layout: models.py, schemas.py,
repository.py and search.py (queries), service/ (use cases), api/ + router.py (HTTP), web/ +
templates/ (pages), auth.py (permissions), events.py, exceptions.py, migrations/ (the
`commerce` branch of the one Alembic history).
"""

from __future__ import annotations

from pathlib import Path

from bizosaas.commerce.auth import COMMERCE_PERMISSIONS
from bizosaas.commerce.events import COMMERCE_EVENTS
from bizosaas.commerce.router import router
from bizosaas.commerce.web import NAV_LINKS
from bizosaas.commerce.web import router as web_router
from bizosaas.kit.module import DomainModule

module = DomainModule(
    name="commerce",
    title="Commerce",
    router=router,
    web=web_router,
    navigation=NAV_LINKS,
    templates=Path(__file__).parent / "templates",
    migrations=Path(__file__).parent / "migrations",
    permissions=COMMERCE_PERMISSIONS,
    events=COMMERCE_EVENTS,
)

__all__ = ["module"]
