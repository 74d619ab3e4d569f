"""The viewer's own account (security settings and sessions) and the workspace's API keys."""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.identity.web.auth_pages import PASSWORDS_DIFFER, client_ip, password_hint
from bizosaas.identity.web.deps import ApiKeyReader, ApiKeyWriter
from bizosaas.kit.errors import Problem
from bizosaas.kit.module import WebApp
from bizosaas.web.apps import WorkspaceSession, page, workspace_scope
from bizosaas.web.forms import Form
from bizosaas.web.session import Viewer, WorkspaceMember, clear_session_cookie
from bizosaas.web.shell import WebRoute, act_and_redirect, flash, read_form, redirect

router = APIRouter(prefix="/app", route_class=WebRoute)

ACCESS_OPTIONS = {
    "read": ("Read only", ["*:read"]),
    "full": ("Everything your role allows", ["*"]),
}


# -- security settings -----------------------------------------------------------------------


def qr_data_uri(otpauth_uri: str) -> str:
    image = qrcode.make(otpauth_uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


async def _security_page(
    request: Request,
    viewer: Viewer,
    session: WorkspaceSession,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    context: dict[str, Any] = {
        "title": "Security",
        "lead": "Your password, two-factor authentication and e-mail address.",
        "email_verified": viewer.email_verified,
        "totp_enabled": viewer.mfa_enabled,
        "password_hint": password_hint(request),
        "password_errors": {},
        "totp_errors": {},
        "enrolment": None,
        "recovery_codes": None,
    }
    context.update(extra)
    return page(
        request,
        WebApp.workspace,
        viewer,
        "identity/workspace/security.html",
        context,
        status=status,
    )


@router.get("/security")
async def security(
    request: Request, viewer: WorkspaceMember, session: WorkspaceSession
) -> Response:
    return await _security_page(request, viewer, session)


@router.post("/security/password")
async def change_password(
    request: Request,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    current = form.require("current_password", "Enter your current password.")
    new = form.require("new_password", "Choose a new password.")
    confirm = form.require("new_password_confirm", "Repeat the new password.")
    if new and confirm and new != confirm:
        form.errors["new_password_confirm"] = PASSWORDS_DIFFER
    if form.ok:
        try:
            await identity.change_password(
                session,
                identity=identity_context,
                user_id=viewer.principal.subject,
                session_id=viewer.principal.session_id,
                current_password=current,
                new_password=new,
                ip=client_ip(request),
            )
        except Problem as problem:
            await session.rollback()
            form.fail(
                problem,
                {
                    "identity.invalid_credentials": "current_password",
                    "identity.weak_password": "new_password",
                },
            )
        else:
            flash(request, "Your password has been changed. Other devices were signed out.")
            return redirect(request, "/app/security")
    return await _security_page(request, viewer, session, status=422, password_errors=form.errors)


@router.post("/security/verify-email")
async def resend_verification(
    request: Request,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    await identity.request_email_verification(
        session, identity=identity_context, user_id=viewer.principal.subject
    )
    flash(request, f"We sent a confirmation link to {viewer.email}.", "info")
    return redirect(request, "/app/security")


@router.post("/security/totp/start")
async def start_totp(
    request: Request,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    try:
        enrolment = await identity.enrol_totp(
            session, identity=identity_context, user_id=viewer.principal.subject
        )
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
        return redirect(request, "/app/security")
    shown = {"secret": enrolment.secret, "qr_data_uri": qr_data_uri(enrolment.otpauth_uri)}
    shown["otpauth_uri"] = enrolment.otpauth_uri
    return await _security_page(request, viewer, session, enrolment=shown)


@router.post("/security/totp/confirm")
async def confirm_totp(
    request: Request,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    code = form.require("code", "Enter the 6-digit code from your app.").replace(" ", "")
    if form.ok:
        try:
            codes = await identity.confirm_totp(
                session,
                identity=identity_context,
                user_id=viewer.principal.subject,
                code=code,
                tenant_id=viewer.tenant_id,
                ip=client_ip(request),
            )
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {"identity.invalid_mfa_code": "code"})
        else:
            return await _security_page(
                request, viewer, session, recovery_codes=codes.recovery_codes
            )
    # The secret was shown on the previous page; show it again with the error.
    secret, uri = form.get("secret"), form.get("otpauth_uri")
    shown = {"secret": secret, "otpauth_uri": uri, "qr_data_uri": qr_data_uri(uri)} if uri else None
    return await _security_page(
        request, viewer, session, status=422, totp_errors=form.errors, enrolment=shown
    )


@router.post("/security/totp/disable")
async def disable_totp(
    request: Request,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    password = form.require("disable_password", "Enter your password.")
    code = form.require("disable_code", "Enter a code from your app.").replace(" ", "")
    if form.ok:
        try:
            await identity.disable_totp(
                session,
                identity=identity_context,
                user_id=viewer.principal.subject,
                password=password,
                code=code,
                tenant_id=viewer.tenant_id,
                ip=client_ip(request),
            )
        except Problem as problem:
            await session.rollback()
            form.fail(
                problem,
                {
                    "identity.invalid_credentials": "disable_password",
                    "identity.invalid_mfa_code": "disable_code",
                },
            )
        else:
            flash(request, "Two-factor authentication is off.", "warning")
            return redirect(request, "/app/security")
    return await _security_page(request, viewer, session, status=422, totp_errors=form.errors)


# -- sessions --------------------------------------------------------------------------------


def describe_device(user_agent: str | None) -> str:
    if not user_agent:
        return "Unknown device"
    agent = user_agent.lower()
    browser = next(
        (
            name
            for key, name in [
                ("edg/", "Edge"),
                ("firefox", "Firefox"),
                ("chrome", "Chrome"),
                ("safari", "Safari"),
                ("curl", "curl"),
                ("python", "Script"),
            ]
            if key in agent
        ),
        "Browser",
    )
    system = next(
        (
            name
            for key, name in [
                ("android", "Android"),
                ("iphone", "iPhone"),
                ("mac os", "macOS"),
                ("windows", "Windows"),
                ("linux", "Linux"),
            ]
            if key in agent
        ),
        "",
    )
    return f"{browser} on {system}" if system else browser


@router.get("/sessions")
async def sessions(
    request: Request, viewer: WorkspaceMember, session: WorkspaceSession
) -> Response:
    rows = await identity.list_sessions(session, user_id=viewer.principal.subject)
    shown = [
        {
            "id": row.id,
            "device": describe_device(row.user_agent),
            "ip": row.ip,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "current": row.id == viewer.principal.session_id,
        }
        for row in rows
    ]
    shown.sort(key=lambda row: not row["current"])
    context = {
        "title": "Sessions",
        "lead": "Browsers and programs signed in to your account. Revoking one signs it out of every app.",
        "sessions": shown,
    }
    return page(request, WebApp.workspace, viewer, "identity/workspace/sessions.html", context)


@router.post("/sessions/{session_id}/revoke")
async def revoke_session(
    request: Request,
    session_id: uuid.UUID,
    viewer: WorkspaceMember,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    try:
        await identity.revoke_session(
            session,
            identity=identity_context,
            user_id=viewer.principal.subject,
            session_id=session_id,
        )
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
        return redirect(request, "/app/sessions")
    if session_id == viewer.principal.session_id:
        flash(request, "You have signed out of every BizOSaaS app.", "info")
        response = redirect(request, "/login")
        clear_session_cookie(request, response)
        return response
    flash(request, "That device has been signed out.")
    return redirect(request, "/app/sessions")


# -- API keys ----------------------------------------------------------------------------------


async def _keys_page(
    request: Request,
    viewer: Viewer,
    session: WorkspaceSession,
    *,
    form: Form | None = None,
    new_key: dict[str, str] | None = None,
) -> Response:
    keys = await identity.list_api_keys(session, scope=workspace_scope(viewer))
    context = {
        "title": "API keys",
        "lead": "Keys let other programs use this workspace's API.",
        "keys": keys,
        "can_write": viewer.can("identity.api_key:write"),
        "access_options": [(value, label) for value, (label, _) in ACCESS_OPTIONS.items()],
        "errors": form.errors if form else {},
        "values": form.safe_values() if form and form.errors else {"access": "read"},
        "new_key": new_key,
    }
    status = 422 if form and form.errors else 200
    return page(
        request,
        WebApp.workspace,
        viewer,
        "identity/workspace/api_keys.html",
        context,
        status=status,
    )


@router.get("/api-keys")
async def api_keys(request: Request, viewer: ApiKeyReader, session: WorkspaceSession) -> Response:
    return await _keys_page(request, viewer, session)


@router.post("/api-keys")
async def create_api_key(
    request: Request,
    viewer: ApiKeyWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    form = Form(await read_form(request))
    name = form.require("name", "Give the key a name.")
    form.max_length("name", 100)
    access = form.choice("access", ACCESS_OPTIONS, "Choose what the key may do.")
    if form.ok:
        try:
            created = await identity.create_api_key(
                session,
                identity=identity_context,
                scope=workspace_scope(viewer),
                actor=viewer.principal,
                name=name,
                permissions=ACCESS_OPTIONS[access][1],
            )
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {"identity.permission_not_held": "access"})
        else:
            new_key = {"name": created.name, "secret": created.key}
            return await _keys_page(request, viewer, session, new_key=new_key)
    return await _keys_page(request, viewer, session, form=form)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(
    request: Request,
    key_id: uuid.UUID,
    viewer: ApiKeyWriter,
    session: WorkspaceSession,
    identity_context: identity.Identity,
) -> Response:
    await read_form(request)
    revoked = identity.revoke_api_key(
        session,
        identity=identity_context,
        scope=workspace_scope(viewer),
        actor=viewer.principal,
        key_id=key_id,
    )
    return await act_and_redirect(
        request, session, revoked, done=lambda _: "The key was revoked.", to="/app/api-keys"
    )
