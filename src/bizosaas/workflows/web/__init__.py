"""Workflows' pages: in the workspace, the approvals inbox, the runs (list and detail) and the
schedules; in the admin console, Temporal's health and the task queues with their workers. The
workspace pages refresh their content live when the tenant's realtime channels report a change
(`workflows.approval_*`, `workflows.run_changed`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.shell import WebRoute
from bizosaas.workflows.api import RUN_READ, SCHEDULE_READ
from bizosaas.workflows.router import READ as APPROVAL_READ
from bizosaas.workflows.web import admin, approvals, runs

router = APIRouter(include_in_schema=False, route_class=WebRoute)
router.include_router(approvals.router)
router.include_router(runs.router)
router.include_router(admin.router)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

NAV_LINKS: tuple[NavLink, ...] = (
    NavLink(
        WebApp.workspace, "automation", "Approvals", "/app/approvals", APPROVAL_READ, icon="check"
    ),
    NavLink(WebApp.workspace, "automation", "Runs", "/app/runs", RUN_READ, icon="activity"),
    NavLink(
        WebApp.workspace, "automation", "Schedules", "/app/schedules", SCHEDULE_READ, icon="list"
    ),
    NavLink(
        WebApp.admin, "platform", "Workflows", "/admin/workflows", super_admin=True, icon="server"
    ),
)
