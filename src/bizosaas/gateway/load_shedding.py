"""Load shedding: a bound on the requests one process works on at once.

Past the bound a request is answered at once with 503 `gateway.overloaded` and `Retry-After`,
instead of joining a queue. Without it, a process pushed beyond its capacity keeps accepting
work, every request waits behind all the others, clients time out and retry, and the process
spends its time on answers nobody is waiting for any more: useful throughput falls towards
zero. With it, latency stays bounded by `max_in_flight / throughput` and the excess learns at
once that it should come back (a load balancer or a client retries elsewhere or later).

Health and metrics are exempt: a probe must see an overloaded process as alive (it is, and it
is answering), and monitoring must keep working exactly when it matters. WebSockets are not
counted: they are long-lived and bounded by their own queues.
"""

from __future__ import annotations

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from bizosaas.kit.errors import Problem, problem_response

RETRY_AFTER_SECONDS = 1
EXEMPT_PATHS = frozenset({"/api/brain/health", "/metrics"})

SHED_REQUESTS = Counter(
    "bizosaas_gateway_shed_total",
    "Requests answered 503 gateway.overloaded because the process had too many in flight.",
)


class Overloaded(Problem):
    status = 503
    code = "gateway.overloaded"
    title = "The server is overloaded"


class LoadSheddingMiddleware:
    """Pure ASGI: at most `max_in_flight` HTTP requests in progress in this process."""

    def __init__(self, app: ASGIApp, *, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await self._shed(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    @staticmethod
    async def _shed(scope: Scope, receive: Receive, send: Send) -> None:
        SHED_REQUESTS.inc()
        problem = Overloaded(
            "Too many requests are in progress; retry shortly.",
            headers={"retry-after": str(RETRY_AFTER_SECONDS), "cache-control": "no-store"},
        )
        response = problem_response(problem.body(instance=scope["path"]), problem.headers)
        await response(scope, receive, send)
