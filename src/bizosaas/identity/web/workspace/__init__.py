"""Identity's pages in the tenant workspace at /app: each acts within the viewer's current
tenant."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.identity.web.workspace import account, overview, people
from bizosaas.web.shell import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
router.include_router(overview.router)
router.include_router(people.router)
router.include_router(account.router)
