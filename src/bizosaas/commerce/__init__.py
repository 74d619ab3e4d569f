"""Commerce: a store engine for every tenant.

This part holds the catalogue (product types with attributes, categories, collections,
products and variants), channels with their currencies, prices and publications, inventory
(warehouses, stock, allocation that never oversells), checkout and orders, payments (Stripe
and manual providers, in payments/), and the web pages: the public storefront at
`/store/<slug>` and the store's workspace pages. Layout: models.py, schemas.py,
schemas_sales.py, repository.py, repository_sales.py and search.py (queries), service/ (use
cases), api/ + router.py (HTTP), web/ + templates/ (pages), auth.py (permissions), events.py,
exceptions.py, settings.py (`BIZOSAAS_COMMERCE_*`), payments/ (its own models, schemas,
queries, use cases and API), migrations/ (the `commerce` branch of the one Alembic history).
"""

from __future__ import annotations

from pathlib import Path

from bizosaas.commerce.auth import COMMERCE_PERMISSIONS
from bizosaas.commerce.demo_store import seed
from bizosaas.commerce.events import COMMERCE_EVENTS
from bizosaas.commerce.payments.context import PROVIDED_AS, PaymentContext, build_payment_context
from bizosaas.commerce.payments.events import PAYMENT_EVENTS
from bizosaas.commerce.router import router
from bizosaas.commerce.service import order_payments
from bizosaas.commerce.settings import CommerceSettings
from bizosaas.commerce.web import NAV_LINKS
from bizosaas.commerce.web import router as web_router
from bizosaas.kit.module import DomainModule, Services


async def startup(services: Services) -> None:
    """Provide the payment context (`app.state.commerce_payments`): data-encryption keys for
    the stores' provider secrets, the Stripe HTTP client, and the hook that lands every
    payment change on its order."""
    services.provide(
        PROVIDED_AS,
        build_payment_context(
            services.settings,
            services.module_settings("commerce", CommerceSettings),
            on_payment_event=order_payments.apply_payment_change,
        ),
    )


async def shutdown(services: Services) -> None:
    context = services.provided.get(PROVIDED_AS)
    if isinstance(context, PaymentContext):
        await context.close()


module = DomainModule(
    name="commerce",
    title="Commerce",
    router=router,
    web=web_router,
    navigation=NAV_LINKS,
    templates=Path(__file__).parent / "templates",
    migrations=Path(__file__).parent / "migrations",
    permissions=COMMERCE_PERMISSIONS,
    events=[*COMMERCE_EVENTS, *PAYMENT_EVENTS],
    settings=CommerceSettings,
    startup=startup,
    shutdown=shutdown,
    seed=seed,
)

__all__ = ["module"]
