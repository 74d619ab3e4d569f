"""Identity's pages in the platform admin console at /admin (platform administrators only)."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.identity.web.admin import pages, platform
from bizosaas.web.shell import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
router.include_router(pages.router)
router.include_router(platform.router)
