"""The CRM API under /api/brain/crm/: people, companies, leads, deals in pipelines,
activities, notes and timelines, custom fields and the access rule of the caller's tenant.
Every route needs a `crm.<resource>:<action>` permission; the tenant is the verified
credential's, and a record another tenant owns, or one the tenant's record-level rule hides,
answers 404."""

from __future__ import annotations

from fastapi import APIRouter

from bizosaas.crm.api import activities, deals, records, settings, views

router = APIRouter()
router.include_router(records.router)
router.include_router(deals.router)
router.include_router(activities.router)
router.include_router(views.router)
router.include_router(settings.router)
