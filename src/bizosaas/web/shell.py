"""The web shell every app shares: page rendering, flash messages, CSRF and error pages.

Pages are rendered on the server with Jinja2 (the application's template loader: see
runtime.py) and work without JavaScript. Every POST form
carries a CSRF token: an HMAC, under the platform's web secret, of the browser's session cookie
(or, before login, of a random pre-session cookie), so a token is useless with any other
session and cannot be forged by a site that can only set cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import orjson
import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from bizosaas.kit.errors import PermissionDenied, Problem
from bizosaas.settings import Settings
from bizosaas.web.forms import refuse_control_characters
from bizosaas.web.runtime import CSRF_FIELD, runtime_of

log = structlog.get_logger(__name__)

SESSION_COOKIE = "bizosaas_session"
PRESESSION_COOKIE = "bizosaas_presession"
FLASH_COOKIE = "bizosaas_flash"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class CsrfFailed(PermissionDenied):
    code = "web.csrf_failed"
    title = "This form has expired"


# -- secrets and signing -----------------------------------------------------------------


def web_secret(request: Request) -> bytes:
    secret = getattr(request.app.state, "web_secret", None)
    if not isinstance(secret, bytes):
        raise RuntimeError("the web module's startup hook has not provided web_secret")
    return secret


def _sign(key: bytes, purpose: str, value: str) -> str:
    mac = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def is_secure(request: Request) -> bool:
    """Whether this response's cookies must be `Secure`: the request came over https, or the
    platform's public address is https. The scheme is the ASGI scope's, which says https
    behind a TLS-terminating proxy only when that proxy is trusted
    (`BIZOSAAS_TRUSTED_PROXIES`, gateway/forwarded.py): anyone else's `X-Forwarded-Proto` is
    removed before it is read."""
    return request.url.scheme == "https" or settings_of(request).base_url.startswith("https://")


def settings_of(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


# -- CSRF --------------------------------------------------------------------------------


def _csrf_binding(request: Request) -> str:
    """The cookie value this browser's forms are bound to (see the module docstring)."""
    state = request.state
    session = request.cookies.get(SESSION_COOKIE)
    if session and not getattr(state, "web_drop_session", False):
        return "s:" + session
    presession = request.cookies.get(PRESESSION_COOKIE) or getattr(
        state, "web_new_presession", None
    )
    if not presession:
        presession = secrets.token_urlsafe(32)
        state.web_new_presession = presession
    return "p:" + presession


def csrf_token(request: Request) -> str:
    return _sign(web_secret(request), "csrf", _csrf_binding(request))


def verify_csrf(request: Request, form: FormData) -> None:
    """Raise `CsrfFailed` (403, rendered in the site's look) unless the form's token fits."""
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfFailed(
            "This form was opened in another session or has expired. Reload the page and try again."
        )


async def read_form(request: Request) -> dict[str, str]:
    """The posted form as plain strings, after checking its CSRF token."""
    return (await read_form_with_list(request, None))[0]


async def read_form_with_list(
    request: Request, repeated: str | None
) -> tuple[dict[str, str], list[str]]:
    """`read_form`, and every value of the field `repeated` (a table's ticked boxes)."""
    form = await request.form()
    verify_csrf(request, form)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    listed = [v for v in form.getlist(repeated) if isinstance(v, str)] if repeated else []
    refuse_control_characters({**values, **{f"{repeated}[{i}]": v for i, v in enumerate(listed)}})
    return values, listed


# -- flash messages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flash:
    kind: str
    """success, info, warning or error."""
    message: str


def flash(request: Request, message: str, kind: str = "success") -> None:
    """Queue a message for the next page this browser renders."""
    pending: list[Flash] = getattr(request.state, "web_flashes_out", [])
    pending.append(Flash(kind=kind, message=message))
    request.state.web_flashes_out = pending


def _pop_flashes(request: Request) -> list[Flash]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return []
    payload, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(web_secret(request), "flash", payload)):
        return []
    try:
        items = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        request.state.web_flash_consumed = True
        return [Flash(kind=str(i["kind"]), message=str(i["message"])) for i in items]
    except (ValueError, KeyError, TypeError):
        return []


def finish_response(request: Request, response: Response) -> Response:
    """Write the cookies this request changed: queued flashes, the pre-session cookie for CSRF,
    and removal of a session cookie that is no longer valid."""
    secure = is_secure(request)
    state = request.state
    pending: list[Flash] = getattr(state, "web_flashes_out", [])
    if pending:
        body = orjson.dumps([{"kind": f.kind, "message": f.message} for f in pending])
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        value = payload + "." + _sign(web_secret(request), "flash", payload)
        response.set_cookie(
            FLASH_COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/"
        )
    elif getattr(state, "web_flash_consumed", False):
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax")
    presession = getattr(state, "web_new_presession", None)
    if presession:
        response.set_cookie(
            PRESESSION_COOKIE, presession, httponly=True, samesite="lax", secure=secure, path="/"
        )
    if getattr(state, "web_drop_session", False):
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure
        )
    return response


# -- rendering ---------------------------------------------------------------------------


def _page_values(request: Request, *, viewer: Any, flashes: Any, csrf: str) -> dict[str, Any]:
    """What every template of the shell may use, with its defaults."""
    return {
        "request": request,
        "path": request.url.path,
        "viewer": viewer,
        "flashes": flashes,
        "csrf_token": csrf,
        "errors": {},
        "values": {},
        "title": "",
        "app": None,
        "nav": [],
        "live": None,
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render `template` with the shell's context (viewer, navigation, flashes, CSRF token)."""
    values = _page_values(
        request,
        viewer=getattr(request.state, "web_viewer", None),
        flashes=_pop_flashes(request),
        csrf=csrf_token(request),
    )
    if context:
        values.update(context)
    html = runtime_of(request).templates.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    return cast(HTMLResponse, finish_response(request, response))


def render_shared(
    request: Request, template: str, context: Mapping[str, Any], *, max_age: int
) -> HTMLResponse:
    """Render a public page that is the same for every visitor (a storefront's), for shared
    caches: no viewer, no flash messages, no CSRF token (so no form that needs one) and no
    cookie written, with `Cache-Control: public, max-age=<max_age>`."""
    values = {**_page_values(request, viewer=None, flashes=[], csrf=""), **context}
    html = runtime_of(request).templates.get_template(template).render(values)
    headers = {**SECURITY_HEADERS, "cache-control": f"public, max-age={max_age}"}
    return HTMLResponse(html, headers=headers)


def redirect(request: Request, url: str, *, status: int = 303) -> Response:
    """See Other (after a POST) or Found, carrying any queued flash messages."""
    response = Response(status_code=status, headers={"location": url, "cache-control": "no-store"})
    return finish_response(request, response)


T = TypeVar("T")


class _RollsBack(Protocol):
    async def rollback(self) -> None: ...


async def act_and_redirect(
    request: Request,
    session: _RollsBack,
    action: Awaitable[T],
    *,
    done: Callable[[T], str],
    to: str,
    kind: str = "success",
) -> Response:
    """Run a button's action, flash its outcome (or the service's refusal) and go back to `to`."""
    try:
        result = await action
    except Problem as problem:
        await session.rollback()
        flash(request, problem.detail, "error")
    else:
        flash(request, done(result), kind)
    return redirect(request, to)


# -- routes ------------------------------------------------------------------------------

PageHandler = Callable[[Request], Coroutine[Any, Any, Response]]


class WebRoute(APIRoute):
    """Route class for pages: an unexpected error renders the 500 page in the site's look (API
    routes answer problem+json through the gateway's middleware instead)."""

    def get_route_handler(self) -> PageHandler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                if _is_handled_error(error):
                    raise
                log.exception("page_error", path=request.url.path)
                return render_error(request, 500, error)

        return page


def _is_handled_error(error: Exception) -> bool:
    # Problems and HTTP errors go to the gateway's handlers (which render pages for browsers).
    return isinstance(error, Problem | StarletteHTTPException | RequestValidationError)


GENERIC_CODES = frozenset({"auth.forbidden", "auth.unauthenticated", "not_found", "bad_request"})
ERROR_TEXT = {
    400: ("Something is wrong with that request", "Check the address or the form and try again."),
    403: ("You cannot open this page", "Your account does not have access to it."),
    404: ("Page not found", "The page may have moved, or the link may be mistyped."),
    405: ("That did not work", "This page does not accept that kind of request."),
    500: ("Something went wrong on our side", "The error has been logged. Please try again."),
}


def render_error(request: Request, status: int, error: Exception | None = None) -> HTMLResponse:
    title, hint = ERROR_TEXT.get(status, ERROR_TEXT[500 if status >= 500 else 400])
    if isinstance(error, Problem) and status < 500:
        # A specific problem (an expired form, a suspended tenant) says what happened; the
        # generic ones keep the friendlier wording above.
        if error.code not in GENERIC_CODES:
            title = error.title
        if status in {403, 409, 410, 422, 429}:
            hint = error.detail
    context = {
        "title": title,
        "status": status,
        "hint": hint,
        "request_id": getattr(request.state, "request_id", None),
    }
    return render(request, "errors/error.html", context, status=status)
