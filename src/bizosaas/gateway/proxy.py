"""The reverse proxy: `/api/brain/<service>/...` for remote services, straight from ASGI.

`ProxyDispatch` sits in front of FastAPI's router. A request for a remote service goes to
`Proxy.forward` without touching the framework's routing or validation (the hot path);
everything else falls through to the app. Outbound requests share one aiohttp session with
pooled keep-alive connections. Request and response bodies are streamed. Hop-by-hop headers
are dropped per RFC 9110 section 7.6.1, `X-Forwarded-*` and the request id are set, the
caller's bearer token is forwarded (services verify it against the gateway's JWKS) and
client-supplied `X-BizOSaaS-*` headers, which are reserved for the platform, are stripped.

Failure answers, all problem+json naming the service:
* no instance available (all open, draining or none registered): 503 at once;
* every attempt failed to connect: 503;
* no response within the service's timeout: 504;
* a response that is not HTTP, or a connection dropped mid-response: 502.
Idempotent requests whose body is small enough to replay are retried on another instance
after a connection failure or broken response, with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from multidict import CIMultiDict
from prometheus_client import Counter, Histogram
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bizosaas.gateway.forwarded import PROXY_PEER_STATE
from bizosaas.gateway.principal import has_credential, resolve_principal
from bizosaas.gateway.registry import Instance, Registry, Service
from bizosaas.kit.errors import Problem, problem_response

log = structlog.get_logger(__name__)

API_PREFIX = "/api/brain/"
_PREFIX_LENGTH = len(API_PREFIX)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_REPLACED = frozenset(
    {b"host", b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-prefix", b"x-request-id"}
)
INTERNAL_HEADER_PREFIX = b"x-bizosaas-"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
REPLAYABLE_BODY_BYTES = 1024 * 1024
SMALL_RESPONSE_BYTES = 256 * 1024
BACKOFF_BASE = 0.01

UPSTREAM_REQUESTS = Counter(
    "bizosaas_gateway_upstream_requests_total",
    "Requests the gateway sent upstream, by service and outcome.",
    ["service", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "bizosaas_gateway_upstream_seconds",
    "Time from sending a request upstream to its response headers.",
    ["service"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


class ServiceUnavailable(Problem):
    status = 503
    code = "gateway.service_unavailable"
    title = "Service unavailable"


class UpstreamTimeout(Problem):
    status = 504
    code = "upstream.timeout"
    title = "The service did not answer in time"


class BadGateway(Problem):
    status = 502
    code = "upstream.bad_gateway"
    title = "The service sent an invalid response"


class _ConnectFailed(Exception):
    pass


class _Broken(Exception):
    pass


class _ClientGone(Exception):
    pass


def split_service(path: str) -> tuple[str, str] | None:
    """`/api/brain/notes/items` -> ("notes", "/items"); None outside the API prefix."""
    if not path.startswith(API_PREFIX):
        return None
    slash = path.find("/", _PREFIX_LENGTH)
    if slash == -1:
        return path[_PREFIX_LENGTH:], ""
    return path[_PREFIX_LENGTH:slash], path[slash:]


class _RouteLabel:
    """Stands in for a matched route so access logs and metrics use a low-cardinality label."""

    __slots__ = ("path_format",)

    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


def _connection_listed(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    listed: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            listed.update(token.strip().lower() for token in value.split(b","))
    return frozenset(listed)


@functools.lru_cache(maxsize=256)
def _upstream_timeout(timeout: float, connect_timeout: float) -> aiohttp.ClientTimeout:
    # `connect` bounds the wait for a pooled connection too; `sock_connect` the TCP
    # handshake alone, so a dead host is detected fast even when the pool is busy.
    return aiohttp.ClientTimeout(
        total=None, connect=timeout, sock_connect=connect_timeout, sock_read=timeout
    )


_NO_AUTO_HEADERS: CIMultiDict[None] = CIMultiDict(
    (name, None) for name in ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
)


class UpstreamRequest(aiohttp.ClientRequest):
    """Sends the headers the proxy built and no defaults of aiohttp's own (no Accept-Encoding
    the client did not ask for), without rebuilding the skip list on every request."""

    def update_auto_headers(self, skip_auto_headers: Iterable[str] | None) -> None:
        self._skip_auto_headers = _NO_AUTO_HEADERS


class Proxy:
    def __init__(self, registry: Registry, *, max_connections_per_instance: int = 100) -> None:
        self.registry = registry
        self.max_connections_per_instance = max_connections_per_instance
        self._session: aiohttp.ClientSession | None = None
        self._labels: dict[str, _RouteLabel] = {}
        self._metrics: dict[tuple[str, str], Any] = {}
        self._latency: dict[str, Any] = {}

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the proxy is not started")
        return self._session

    async def start(self) -> None:
        # Connections per upstream instance are pooled and capped: past the cap requests
        # wait for a free connection (within the service's timeout) instead of opening a
        # storm of new ones against a process that cannot serve them any faster.
        connector = aiohttp.TCPConnector(
            limit=0,
            limit_per_host=self.max_connections_per_instance,
            keepalive_timeout=60,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            request_class=UpstreamRequest,
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _count(self, service: str, outcome: str) -> None:
        key = (service, outcome)
        child = self._metrics.get(key)
        if child is None:
            child = self._metrics[key] = UPSTREAM_REQUESTS.labels(service, outcome)
        child.inc()

    def _observe_latency(self, service: str, elapsed: float) -> None:
        child = self._latency.get(service)
        if child is None:
            child = self._latency[service] = UPSTREAM_LATENCY.labels(service)
        child.observe(elapsed)

    # -- request building ------------------------------------------------------------------

    def _request_headers(
        self, scope: Scope, service: Service, request_id: str | None
    ) -> list[tuple[str, str]]:
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        listed = _connection_listed(raw)
        headers: list[tuple[str, str]] = []
        forwarded_for = ""
        host = ""
        for name, value in raw:
            if name in HOP_BY_HOP or name in listed or name in _REPLACED:
                if name == b"host":
                    host = value.decode("latin-1")
                continue
            if name.startswith(INTERNAL_HEADER_PREFIX):
                continue
            if name == b"x-forwarded-for":
                forwarded_for = value.decode("latin-1") + ", "
                continue
            if name == b"authorization" and not service.spec.forward_credentials:
                continue
            if name == b"cookie" and not service.spec.forward_credentials:
                continue
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        client = scope.get("client")
        proxy_peer = scope.get("state", {}).get(PROXY_PEER_STATE)
        if proxy_peer and client:
            # Relayed by a trusted proxy: the chain it sent (or the client it named), then it.
            chain = forwarded_for or client[0] + ", "
            headers.append(("x-forwarded-for", chain + proxy_peer))
        elif client:
            headers.append(("x-forwarded-for", forwarded_for + client[0]))
        headers.append(("x-forwarded-proto", scope.get("scheme", "http")))
        if host:
            headers.append(("x-forwarded-host", host))
        headers.append(("x-forwarded-prefix", API_PREFIX + service.name))
        if request_id:
            headers.append(("x-request-id", request_id))
        return headers

    # -- the hot path ----------------------------------------------------------------------

    async def forward(
        self, scope: Scope, receive: Receive, send: Send, service: Service, rest: str
    ) -> None:
        label = self._labels.get(service.name)
        if label is None:
            label = self._labels[service.name] = _RouteLabel(service.route_label)
        scope["route"] = label
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            if service.spec.forward_credentials and has_credential(scope):
                # An invalid credential is refused here, before any upstream work.
                await resolve_principal(scope)
            await self._forward(
                scope=scope,
                receive=receive,
                send=send,
                service=service,
                rest=rest,
                request_id=state.get("request_id"),
            )
        except _ClientGone:
            return
        except Problem as problem:
            problem.extensions.setdefault("service", service.name)
            response = problem_response(problem.body(instance=scope["path"]), problem.headers)
            await response(scope, receive, send)

    async def _forward(
        self,
        *,
        scope: Scope,
        receive: Receive,
        send: Send,
        service: Service,
        rest: str,
        request_id: str | None,
    ) -> None:
        method: str = scope["method"]
        spec = service.spec
        headers = self._request_headers(scope, service, request_id)
        query = scope.get("query_string", b"")
        target = rest + ("?" + query.decode("latin-1") if query else "")
        body, replayable = await self._request_body(scope, receive, method)
        attempts = 1 + spec.retries if replayable else 1
        timeout = _upstream_timeout(spec.timeout, spec.connect_timeout)
        tried: tuple[Instance, ...] = ()
        last_error: Problem | None = None
        for attempt in range(attempts):
            instance = service.pick(exclude=tried) or (service.pick() if tried else None)
            if instance is None:
                break
            if attempt:
                await asyncio.sleep(BACKOFF_BASE * 2 ** (attempt - 1) * (0.5 + random.random()))
            tried = (*tried, instance)
            try:
                await self._exchange(
                    send=send,
                    service=service,
                    instance=instance,
                    method=method,
                    target=target,
                    headers=headers,
                    body=body,
                    limits=timeout,
                )
                return
            except _ConnectFailed:
                last_error = ServiceUnavailable(
                    f"The service {service.name} cannot be reached.",
                    headers={"retry-after": "1"},
                )
            except _Broken:
                last_error = BadGateway(f"The service {service.name} sent an invalid response.")
                if method not in IDEMPOTENT_METHODS:
                    break
        if last_error is None:
            self._count(service.name, "unavailable")
            raise ServiceUnavailable(
                f"The service {service.name} has no healthy instance.",
                headers={"retry-after": str(max(1, round(self.registry_open_seconds(service))))},
            )
        raise last_error

    def registry_open_seconds(self, service: Service) -> float:
        for instance in service.instances.values():
            return instance.circuit.ejection_seconds
        return 1.0

    async def _request_body(
        self, scope: Scope, receive: Receive, method: str
    ) -> tuple[bytes | AsyncIterator[bytes] | None, bool]:
        length: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and not length:
            return None, True
        if method in IDEMPOTENT_METHODS and length is not None and length <= REPLAYABLE_BODY_BYTES:
            return await _read_body(receive), True
        return _stream_body(receive), False

    async def _exchange(
        self,
        *,
        send: Send,
        service: Service,
        instance: Instance,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | AsyncIterator[bytes] | None,
        limits: aiohttp.ClientTimeout,
    ) -> None:
        circuit = instance.circuit
        circuit.acquire()
        instance.outstanding += 1
        started = time.perf_counter()
        response: aiohttp.ClientResponse | None = None
        try:
            try:
                response = await self.session.request(
                    method,
                    instance.url + target,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=limits,
                    compress=None,
                )
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
                circuit.record_failure()
                self._count(service.name, "connect_error")
                log.warning(
                    "gateway_upstream_unreachable",
                    service=service.name,
                    url=instance.url,
                    error=type(error).__name__,
                )
                raise _ConnectFailed from error
            except (aiohttp.ServerTimeoutError, TimeoutError) as error:
                circuit.record_failure()
                self._count(service.name, "timeout")
                raise UpstreamTimeout(
                    f"The service {service.name} did not answer within {service.spec.timeout:g}s."
                ) from error
            except aiohttp.ClientError as error:
                client_fault = _problem_in_chain(error)
                if client_fault is not None:
                    # The client's streamed body broke the upload (e.g. over the size limit).
                    raise client_fault from error
                circuit.record_failure()
                self._count(service.name, "bad_response")
                log.warning(
                    "gateway_upstream_bad_response",
                    service=service.name,
                    url=instance.url,
                    error=type(error).__name__,
                )
                raise _Broken from error
            elapsed = time.perf_counter() - started
            instance.observe_latency(elapsed)
            self._observe_latency(service.name, elapsed)
            if response.status in (502, 503, 504):
                circuit.record_failure()
            else:
                instance.record_live_success()
            self._count(service.name, str(response.status // 100) + "xx")
            await self._relay_response(send, response, method)
        finally:
            instance.outstanding -= 1
            if response is not None:
                response.release()

    async def _relay_response(
        self, send: Send, response: aiohttp.ClientResponse, method: str
    ) -> None:
        raw = response.raw_headers
        listed = _connection_listed(list(raw))
        headers = [
            (name.lower(), value)
            for name, value in raw
            if name.lower() not in HOP_BY_HOP and name.lower() not in listed
        ]
        length = response.content_length
        if method == "HEAD" or response.status in (204, 304):
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if length is not None and length <= SMALL_RESPONSE_BYTES:
            try:
                content = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise _Broken from error
            await send(
                {"type": "http.response.start", "status": response.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": content})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # Past this point the status is sent: a failure can only cut the response short.
        async for chunk in response.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _problem_in_chain(error: BaseException) -> Problem | None:
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, Problem):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def module_routers(app: FastAPI, modules: dict[str, APIRouter]) -> dict[str, ASGIApp]:
    """Per local module, a router holding only that module's routes, behind the app's own
    exception handlers.

    FastAPI matches a request against every route of the app in turn; with identity, the web
    shell and every domain mounted that scan costs more than the rest of the request. A module
    path names its module, so it is matched against that module's routes only. The app's
    router still holds every route (OpenAPI, `url_for`, everything outside /api/brain/<m>/).
    """
    handlers = {
        key: handler
        for key, handler in app.exception_handlers.items()
        if key not in (500, Exception)
    }
    routers: dict[str, ASGIApp] = {}
    for name, router in modules.items():
        own = APIRouter()
        own.include_router(router, prefix=API_PREFIX + name)
        # The same layers FastAPI puts between user middleware and its router.
        routers[name] = ExceptionMiddleware(
            AsyncExitStackMiddleware(own), handlers=handlers, debug=app.debug
        )
    return routers


class ProxyDispatch:
    """Pure ASGI, in front of the router: remote services go to the proxy, local module paths
    to their module's routes, the rest to the app's router."""

    def __init__(
        self, app: ASGIApp, *, proxy: Proxy, fastapi_app: FastAPI, modules: dict[str, APIRouter]
    ) -> None:
        self.app = app
        self.proxy = proxy
        self.registry = proxy.registry
        # Built when the middleware stack is (first request): every route is registered then.
        self.local = module_routers(fastapi_app, modules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(API_PREFIX):
                parts = split_service(path)
                if parts is not None:
                    service = self.registry.services.get(parts[0])
                    if service is not None:
                        await self.proxy.forward(scope, receive, send, service, parts[1])
                        return
                    local = self.local.get(parts[0])
                    if local is not None:
                        await local(scope, receive, send)
                        return
        await self.app(scope, receive, send)
