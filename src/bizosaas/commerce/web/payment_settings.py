"""The store's payment settings in the workspace (`/app/commerce/payments`): bank transfer or
cash on delivery (the manual provider) with the instructions customers get, and Stripe with
its keys. Secrets are write-only: the page shows whether one is stored and its last four
characters, never the secret; an empty secret field keeps the stored one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import SecretStr, ValidationError
from starlette.responses import Response

from bizosaas.commerce.payments import store_settings
from bizosaas.commerce.payments.context import Payments
from bizosaas.commerce.payments.schemas import PaymentSettingsUpdate
from bizosaas.kit.module import NavLink, WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.session import Viewer, require_permission
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/app/commerce/payments", include_in_schema=False, route_class=WebRoute)
PaymentReader = Annotated[Viewer, Depends(require_permission("commerce.payment:read"))]
PaymentWriter = Annotated[Viewer, Depends(require_permission("commerce.payment:write"))]
NAV_LINK = NavLink(
    WebApp.workspace,
    "business",
    "Payments",
    "/app/commerce/payments",
    permission="commerce.payment:read",
    icon="key",
)
HERE = "/app/commerce/payments"


@router.get("")
async def settings_page(
    request: Request, viewer: PaymentReader, session: WorkspaceSession
) -> Response:
    current = await store_settings.read_settings(session, scope=workspace_scope(viewer))
    context: dict[str, Any] = {
        "title": "Payments",
        "lead": "How customers pay: bank transfer or cash on delivery, and cards through Stripe.",
        "current": current,
        "webhook_url": str(request.base_url).rstrip("/") + current.stripe.webhook_path,
        "can_edit": viewer.can("commerce.payment:write"),
    }
    return page(request, WebApp.workspace, viewer, "commerce/workspace/payments.html", context)


@router.post("")
async def save_settings(
    request: Request, viewer: PaymentWriter, session: WorkspaceSession, context: Payments
) -> Response:
    values = await read_form(request)

    def secret(name: str) -> SecretStr | None:
        typed = values.get(name, "").strip()
        return SecretStr(typed) if typed else None  # empty: keep what is stored

    try:
        data = PaymentSettingsUpdate(
            manual_enabled=values.get("manual_enabled") == "1",
            manual_instructions=values.get("manual_instructions", ""),
            stripe_enabled=values.get("stripe_enabled") == "1",
            stripe_secret_key=secret("stripe_secret_key"),
            stripe_webhook_secret=secret("stripe_webhook_secret"),
            stripe_publishable_key=values.get("stripe_publishable_key", "").strip(),
        )
    except ValidationError:
        flash(request, "Check the publishable key (pk_...) and the instructions.", "error")
        return redirect(request, HERE)
    saved = store_settings.update_settings(
        session, context=context, scope=workspace_scope(viewer), data=data
    )
    return await act_and_redirect(
        request, session, saved, done=lambda _: "Payment settings saved.", to=HERE
    )
