"""Security headers, CORS and the request body limit, as one pure ASGI layer.

* Security headers are added to every response that does not set its own: a Content Security
  Policy (strict for the API; the docs page runs only Swagger UI's scripts, served from our
  origin), `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy`, a
  `Permissions-Policy` that turns off every powerful browser feature (camera, microphone,
  geolocation, payment, USB ...: no page of ours uses one, so an injected script cannot
  either), and HSTS on https requests.
* CORS: only origins on the allow-list (`BIZOSAAS_GATEWAY_CORS_ORIGINS`) get CORS headers;
  preflights are answered here (204, or 403 for an origin not on the list).
* Bodies larger than `BIZOSAAS_GATEWAY_MAX_BODY_BYTES` are refused with 413, up front when
  `Content-Length` says so, or as soon as a streamed (chunked) body passes the limit: the 413
  is sent at that moment, and whatever the application would answer after its body read
  failed (a framework's 400, a proxy's error) is dropped.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bizosaas.kit.errors import Problem, problem_response

API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI sets style attributes from its scripts, hence 'unsafe-inline' for styles only.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    b"base-uri 'none'; form-action 'none'; object-src 'none'"
)
PAGE_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"permissions-policy",
        b"accelerometer=(), autoplay=(), camera=(), display-capture=(), "
        b"encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), "
        b"idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), "
        b"picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), "
        b"usb=(), xr-spatial-tracking=()",
    ),
)
DOCS_PATHS = ("/api/brain/docs", "/api/brain/redoc")
CORS_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_EXPOSED = (
    b"x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, x-cache"
)


class PayloadTooLarge(Problem):
    status = 413
    code = "http.payload_too_large"
    title = "The request body is too large"


class CorsForbidden(Problem):
    status = 403
    code = "cors.origin_not_allowed"
    title = "Origin not allowed"


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, *, cors_origins: list[str] | tuple[str, ...], max_body_bytes: int
    ) -> None:
        self.app = app
        self.origins = frozenset(origin.rstrip("/").encode() for origin in cors_origins)
        self.max_body = max_body_bytes
        # The headers of each kind of page, over http and https, built once.
        self._headers = {
            (csp, https): (
                *BASE_HEADERS,
                (b"content-security-policy", csp),
                *([HSTS] if https else []),
            )
            for csp in (API_CSP, DOCS_CSP, PAGE_CSP)
            for https in (False, True)
        }

    @staticmethod
    def _csp(path: str) -> bytes:
        if path.startswith(DOCS_PATHS):
            return DOCS_CSP
        if path.startswith("/api/"):
            return API_CSP
        return PAGE_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin: bytes | None = None
        length: int | None = None
        preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"access-control-request-method":
                preflight = True
        allowed_origin = origin if origin is not None and origin in self.origins else None
        if preflight and origin is not None and scope["method"] == "OPTIONS":
            await self._preflight(scope, receive, send, allowed_origin)
            return
        if length is not None and length > self.max_body:
            await self.too_large(scope, receive, send)
            return

        extra = self._headers[(self._csp(scope["path"]), scope.get("scheme") == "https")]
        if allowed_origin is not None:
            extra += (
                (b"access-control-allow-origin", allowed_origin),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", CORS_EXPOSED),
                (b"vary", b"Origin"),
            )
        exchange = _Exchange(self, scope, receive, send, extra)
        try:
            await self.app(
                scope, receive if length is not None else exchange.receive, exchange.send
            )
        except Exception:
            # Whatever the failed body read turned into, the client already has its 413.
            if not exchange.refused:
                raise

    async def discard_rest(self, receive: Receive) -> None:
        """Read (and drop) what the client is still sending, up to as much again as the limit:
        a server that closes the connection on unread data resets it, and the client would
        never read the 413. Past that, the connection is closed anyway."""
        discarded = 0
        while discarded <= self.max_body:
            message = await receive()
            if message["type"] != "http.request":
                return
            discarded += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = PayloadTooLarge(f"The body exceeds {self.max_body} bytes.")
        response = problem_response(problem.body(instance=scope["path"]), {"connection": "close"})
        await response(scope, receive, send)

    async def _preflight(
        self, scope: Scope, receive: Receive, send: Send, origin: bytes | None
    ) -> None:
        if origin is None:
            problem = CorsForbidden("This origin may not call the API from a browser.")
            response = problem_response(problem.body(instance=scope["path"]))
            await response(scope, receive, send)
            return
        requested = b""
        for name, value in scope["headers"]:
            if name == b"access-control-request-headers":
                requested = value
        headers = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-allow-methods", CORS_METHODS),
            (b"access-control-max-age", b"600"),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _with_headers(message: Message, extra: tuple[tuple[bytes, bytes], ...]) -> Message:
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers += [h for h in extra if h[0] not in present or h[0] == b"vary"]
    return {**message, "headers": headers}


class _Exchange:
    """One request's `send` (adds the headers) and, for a body of unknown length, `receive`
    (once the body passes the limit, the 413 is sent at once and the body read fails; what
    the application answers after that is dropped)."""

    def __init__(
        self,
        middleware: SecurityMiddleware,
        scope: Scope,
        receive: Receive,
        send: Send,
        extra: tuple[tuple[bytes, bytes], ...],
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self._receive = receive
        self._send = send
        self.extra = extra
        self.started = False
        self.refused = False
        self.received = 0

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
            message = _with_headers(message, self.extra)
        await self._send(message)

    async def _send_refusal(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message = _with_headers(message, self.extra)
        await self._send(message)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        limit = self.middleware.max_body
        if self.received > limit:
            if not self.started and not self.refused:
                self.refused = True
                if message.get("more_body", False):
                    await self.middleware.discard_rest(self._receive)
                await self.middleware.too_large(self.scope, self._receive, self._send_refusal)
            raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
        return message
