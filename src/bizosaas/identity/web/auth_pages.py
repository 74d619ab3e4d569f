"""Single sign-on pages shared by every app: sign in (with the two-factor step), sign out,
switch tenant, password reset, e-mail verification and accepting an invitation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from bizosaas.identity import service as identity
from bizosaas.identity.auth import keep_device, presented_device
from bizosaas.identity.exceptions import LoginThrottled, MfaChallengeInvalid
from bizosaas.identity.models import SessionChannel
from bizosaas.identity.schemas import BrowserSession, InvitationAccepted, MfaChallenge
from bizosaas.identity.web import tickets
from bizosaas.kit.deps import DbSession
from bizosaas.kit.errors import Problem
from bizosaas.web.forms import Form, local_path
from bizosaas.web.session import (
    MaybeViewer,
    SignedIn,
    Viewer,
    clear_session_cookie,
    set_session_cookie,
)
from bizosaas.web.shell import WebRoute, flash, read_form, redirect, render, settings_of

router = APIRouter(include_in_schema=False, route_class=WebRoute)

PASSWORDS_DIFFER = "The two passwords are not the same."
NextParam = Annotated[str | None, Query(alias="next", max_length=2000)]


def password_hint(request: Request) -> str:
    """The hint next to a new-password field, from the configured policy."""
    minimum = settings_of(request).password_min_length
    return f"At least {minimum} characters. A phrase of several words works well."


def keep_session(request: Request, response: Response, browser: BrowserSession) -> None:
    """Hand the browser its identity session (the shell's session cookie)."""
    set_session_cookie(request, response, token=browser.cookie_token, expires_at=browser.expires_at)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


# -- sign in ---------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, viewer: MaybeViewer, next: NextParam = None) -> Response:
    if viewer is not None:
        return redirect(request, local_path(next, "/"), status=302)
    context = {"title": "Sign in", "next": local_path(next, "")}
    return render(request, "identity/auth/login.html", context)


@router.post("/login")
async def login(
    request: Request, session: DbSession, identity_context: identity.Identity
) -> Response:
    form = Form(await read_form(request))
    email = form.email()
    password = form.require("password", "Enter your password.")
    next_path = local_path(form.get("next"), "")
    throttled: LoginThrottled | None = None
    if form.ok:
        device = presented_device(request)
        try:
            outcome = await identity.login_browser(
                session,
                identity=identity_context,
                email=email,
                password=password,
                ip=client_ip(request),
                user_agent=user_agent(request),
                device=device,
            )
        except LoginThrottled as problem:
            await session.rollback()
            form.fail(problem, {})
            throttled = problem
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {})
        else:
            if isinstance(outcome, MfaChallenge):
                target = "/login/totp" + (f"?{urlencode({'next': next_path})}" if next_path else "")
                response = redirect(request, target)
                tickets.issue(request, response, outcome)
                return response
            response = redirect(request, next_path or "/")
            keep_session(request, response, outcome)
            keep_device(identity_context, response, device)
            return response
    context = {"title": "Sign in", "next": next_path, "errors": form.errors}
    context["values"] = form.safe_values()
    return _form_page(request, "identity/auth/login.html", context, throttled)


def _form_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    throttled: LoginThrottled | None,
) -> Response:
    """A sign-in form sent back with its errors: 422, or 429 with Retry-After (the error on the
    form says how long to wait) when the attempt was throttled."""
    if throttled is None:
        return render(request, template, context, status=422)
    response = render(request, template, context, status=429)
    response.headers.update(throttled.headers)
    return response


def _start_again(request: Request, *, status: int = 303) -> Response:
    flash(request, "Your sign-in timed out. Enter your password again.", "warning")
    response = redirect(request, "/login", status=status)
    tickets.discard(request, response)
    return response


@router.get("/login/totp")
async def totp_page(request: Request, session: DbSession, next: NextParam = None) -> Response:
    token = tickets.read(request)
    if token is None or not await identity.mfa_challenge_pending(
        session, challenge_token=token, channel=SessionChannel.browser, ip=client_ip(request)
    ):
        return _start_again(request, status=302)
    context = {"title": "Two-factor authentication", "next": local_path(next, "")}
    return render(request, "identity/auth/totp.html", context)


@router.post("/login/totp")
async def totp(
    request: Request, session: DbSession, identity_context: identity.Identity
) -> Response:
    form = Form(await read_form(request))
    next_path = local_path(form.get("next"), "")
    token = tickets.read(request)
    if token is None:
        return _start_again(request)
    code = form.require("code", "Enter the code from your authenticator app.").replace(" ", "")
    throttled: LoginThrottled | None = None
    if form.ok:
        device = presented_device(request)
        try:
            outcome = await identity.complete_mfa_browser_login(
                session,
                identity=identity_context,
                challenge_token=token,
                code=code,
                ip=client_ip(request),
                user_agent=user_agent(request),
                device=device,
            )
        except MfaChallengeInvalid:
            await session.rollback()
            return _start_again(request)
        except LoginThrottled as problem:
            await session.rollback()
            form.fail(problem, {})
            throttled = problem
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {"identity.invalid_mfa_code": "code"})
        else:
            response = redirect(request, next_path or "/")
            tickets.discard(request, response)
            keep_session(request, response, outcome)
            keep_device(identity_context, response, device)
            return response
    context = {"title": "Two-factor authentication", "next": next_path, "errors": form.errors}
    return _form_page(request, "identity/auth/totp.html", context, throttled)


# -- sign out and switch tenant ----------------------------------------------------------------


@router.post("/logout")
async def logout(
    request: Request, session: DbSession, viewer: MaybeViewer, identity_context: identity.Identity
) -> Response:
    await read_form(request)
    if viewer is not None and viewer.principal.session_id is not None:
        await identity.logout(
            session,
            identity=identity_context,
            user_id=viewer.principal.subject,
            session_id=viewer.principal.session_id,
        )
    flash(request, "You have signed out of every BizOSaaS app.", "info")
    response = redirect(request, "/login")
    clear_session_cookie(request, response)
    return response


@router.post("/switch-tenant")
async def switch_tenant(
    request: Request, session: DbSession, viewer: SignedIn, identity_context: identity.Identity
) -> Response:
    form = Form(await read_form(request))
    target = local_path(form.get("next"), "/app")
    tenant = form.require("tenant_id", "Choose a workspace.")
    if not form.ok or viewer.principal.session_id is None:
        flash(request, "Choose a workspace to switch to.", "error")
        return redirect(request, target)
    try:
        outcome = await identity.switch_tenant(
            session,
            identity=identity_context,
            user_id=viewer.principal.subject,
            session_id=viewer.principal.session_id,
            tenant=tenant,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
        return redirect(request, target)
    if not isinstance(outcome, BrowserSession):
        flash(request, "Switching workspaces is not available for this sign-in.", "error")
        return redirect(request, target)
    names = {str(m.tenant_id): m.tenant_name for m in viewer.memberships}
    flash(request, f"You are now working in {names.get(tenant, 'the selected workspace')}.")
    response = redirect(request, target if target.startswith("/app") else "/app")
    keep_session(request, response, outcome)
    return response


# -- password reset and e-mail verification ------------------------------------------------


@router.get("/auth/forgot-password")
async def forgot_page(request: Request) -> Response:
    return render(
        request, "identity/auth/forgot.html", {"title": "Reset your password", "sent": False}
    )


@router.post("/auth/forgot-password")
async def forgot(
    request: Request, session: DbSession, identity_context: identity.Identity
) -> Response:
    form = Form(await read_form(request))
    email = form.email()
    if form.ok:
        try:
            await identity.request_password_reset(
                session, identity=identity_context, email=email, ip=client_ip(request)
            )
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {})
        else:
            context = {"title": "Check your e-mail", "sent": True, "values": {"email": email}}
            return render(request, "identity/auth/forgot.html", context)
    context = {"title": "Reset your password", "sent": False, "errors": form.errors}
    context["values"] = form.safe_values()
    return render(request, "identity/auth/forgot.html", context, status=422)


TokenParam = Annotated[str, Query(min_length=1, max_length=300)]


@router.get("/auth/reset-password")
async def reset_page(request: Request, token: TokenParam) -> Response:
    context = {
        "title": "Choose a new password",
        "token": token,
        "password_hint": password_hint(request),
    }
    return render(request, "identity/auth/reset.html", context)


@router.post("/auth/reset-password")
async def reset(
    request: Request, session: DbSession, identity_context: identity.Identity
) -> Response:
    form = Form(await read_form(request))
    token = form.get("token")
    password = form.require("password", "Choose a new password.")
    confirm = form.require("password_confirm", "Repeat the new password.")
    if password and confirm and password != confirm:
        form.errors["password_confirm"] = PASSWORDS_DIFFER
    if form.ok:
        try:
            await identity.confirm_password_reset(
                session,
                identity=identity_context,
                token=token,
                new_password=password,
                ip=client_ip(request),
            )
        except Problem as problem:
            await session.rollback()
            form.fail(problem, {"identity.weak_password": "password"})
        else:
            flash(request, "Your password has been changed. Sign in with the new one.")
            return redirect(request, "/login")
    context = {
        "title": "Choose a new password",
        "token": token,
        "password_hint": password_hint(request),
        "errors": form.errors,
    }
    return render(request, "identity/auth/reset.html", context, status=422)


@router.get("/auth/verify-email")
async def verify_email(
    request: Request, session: DbSession, viewer: MaybeViewer, token: TokenParam
) -> Response:
    try:
        await identity.verify_email(session, token=token)
    except Problem as problem:
        await session.rollback()
        context = {
            "title": "Link not valid",
            "heading": "This link does not work any more",
            "message": problem.detail + " You can ask for a new one in your security settings.",
            "action_href": "/app/security" if viewer else "/login",
            "action_label": "Security settings" if viewer else "Sign in",
        }
        return render(request, "identity/auth/message.html", context, status=400)
    context = {
        "title": "E-mail address confirmed",
        "heading": "Thank you",
        "message": "Your e-mail address is confirmed.",
        "action_href": "/" if viewer else "/login",
        "action_label": "Continue" if viewer else "Sign in",
    }
    return render(request, "identity/auth/message.html", context)


# -- invitations -----------------------------------------------------------------------------


def _invitation_context(
    request: Request, token: str, form: Form | None = None
) -> dict[str, object]:
    return {
        "title": "Accept invitation",
        "token": token,
        "password_hint": password_hint(request),
        "errors": form.errors if form else {},
        "values": form.safe_values() if form else {},
    }


@router.get("/auth/accept-invitation")
async def invitation_page(request: Request, token: TokenParam) -> Response:
    return render(request, "identity/auth/invitation.html", _invitation_context(request, token))


@router.post("/auth/accept-invitation")
async def accept_invitation(
    request: Request, session: DbSession, viewer: MaybeViewer, identity_context: identity.Identity
) -> Response:
    """Join the tenant. A new person chooses a password and is signed in (the link proves the
    address). An existing account is never signed in by the link alone: its owner continues in
    the session they have, or signs in with their password."""
    form = Form(await read_form(request))
    token = form.get("token")
    full_name = form.get("full_name")
    form.max_length("full_name", 200)
    password = form.values.get("password", "")
    browser: BrowserSession | None = None
    if form.ok:
        try:
            accepted = await identity.accept_invitation(
                session,
                identity=identity_context,
                token=token,
                password=password or None,
                full_name=full_name or None,
                ip=client_ip(request),
            )
            if accepted.created_user:
                login = await identity.verified_login_for(
                    session, user_id=accepted.user.id, tenant_id=accepted.tenant.id
                )
                browser = await identity.open_browser_session(
                    session,
                    identity=identity_context,
                    login=login,
                    ip=client_ip(request),
                    user_agent=user_agent(request),
                )
        except Problem as problem:
            await session.rollback()
            if problem.status in {404, 410}:
                return _invitation_gone(request, problem)
            form.fail(problem, {"identity.weak_password": "password"})
        else:
            return await _joined(
                request, session, viewer, accepted, browser, identity_context=identity_context
            )
    context = _invitation_context(request, token, form)
    return render(request, "identity/auth/invitation.html", context, status=422)


def _invitation_gone(request: Request, problem: Problem) -> Response:
    context = {
        "title": "Invitation not valid",
        "heading": "This invitation cannot be used",
        "message": problem.detail + " Ask the person who invited you to send a new one.",
        "action_href": "/login",
        "action_label": "Go to sign in",
    }
    return render(request, "identity/auth/message.html", context, status=410)


async def _joined(
    request: Request,
    session: AsyncSession,
    viewer: Viewer | None,
    accepted: InvitationAccepted,
    browser: BrowserSession | None,
    *,
    identity_context: identity.IdentityContext,
) -> Response:
    tenant = accepted.tenant
    if browser is not None:
        flash(request, f"Welcome to {tenant.name}.")
        response = redirect(request, "/app")
        keep_session(request, response, browser)
        return response
    same_person = viewer is not None and viewer.principal.subject == accepted.user.id
    if same_person and viewer is not None and viewer.principal.session_id is not None:
        switched = await identity.switch_tenant(
            session,
            identity=identity_context,
            user_id=accepted.user.id,
            session_id=viewer.principal.session_id,
            tenant=str(tenant.id),
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        if isinstance(switched, BrowserSession):
            flash(request, f"You joined {tenant.name}.")
            response = redirect(request, "/app")
            keep_session(request, response, switched)
            return response
    if viewer is not None and viewer.principal.session_id is not None:
        # Someone else is signed in here: end that session so the invited person can sign in.
        await identity.logout(
            session,
            identity=identity_context,
            user_id=viewer.principal.subject,
            session_id=viewer.principal.session_id,
        )
    flash(request, f"You joined {tenant.name}. Sign in with your account to open it.", "info")
    response = redirect(request, "/login?next=/app")
    clear_session_cookie(request, response)
    return response
