"""The proxy against real upstream servers: headers, bodies, identity, and failure answers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY

from bizosaas.gateway.registry import instance_id
from tests.gateway.conftest import GatewayFactory
from tests.gateway.support import (
    BreakMode,
    bearer,
    echo_upstream,
    flaky_upstreams,
    raw_upstream,
    register_account,
    services_json,
)
from tests.support.processes import free_port
from tests.support.waiting import PATIENCE

PROBLEM = "application/problem+json"


async def test_request_reaches_upstream_with_forwarding_headers(gateway: GatewayFactory) -> None:
    async with echo_upstream() as echo:
        services = services_json(echo={"urls": [echo.url + "/base"]})
        # The test client connects from 127.0.0.1, here a trusted proxy relaying 203.0.113.9.
        async with gateway(gateway_services=services, trusted_proxies=["127.0.0.1"]) as (
            _app,
            client,
        ):
            account = await register_account(client)
            token = account.token
            response = await client.get(
                "/api/brain/echo/items/7?q=a%20b&x=1",
                headers={
                    **bearer(token),
                    "x-request-id": "trace-12345678",
                    "x-bizosaas-tenant-id": "forged",
                    "x-forwarded-for": "203.0.113.9",
                    "connection": "keep-alive, x-drop-me",
                    "x-drop-me": "hop",
                    "te": "trailers",
                    "accept": "application/json",
                },
            )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["path"] == "/base/items/7?q=a%20b&x=1"
    headers = seen["headers"]
    assert headers["authorization"] == f"Bearer {token}", "the verified token is forwarded"
    assert "x-bizosaas-tenant-id" not in headers, "client-supplied internal headers are stripped"
    assert "x-drop-me" not in headers and "te" not in headers, "hop-by-hop headers are dropped"
    assert headers["x-request-id"] == "trace-12345678"
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "testserver"
    assert headers["x-forwarded-prefix"] == "/api/brain/echo"
    assert headers["accept"] == "application/json"
    assert headers["host"] == echo.url.removeprefix("http://")
    # Response side: hop-by-hop headers (and those named by Connection) do not come back.
    assert response.headers["x-upstream"] == "echo"
    assert "x-hop" not in response.headers
    assert response.headers["x-request-id"] == "trace-12345678"


async def test_invalid_token_is_refused_before_the_upstream(gateway: GatewayFactory) -> None:
    async with (
        echo_upstream() as echo,
        gateway(gateway_services=services_json(echo={"urls": [echo.url]})) as (_, c),
    ):
        response = await c.get("/api/brain/echo/x", headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.json()["code"] == "identity.invalid_credential"
    assert echo.seen == []


async def test_third_party_services_do_not_receive_our_credentials(
    gateway: GatewayFactory,
) -> None:
    async with echo_upstream() as echo:
        services = services_json(echo={"urls": [echo.url], "forward_credentials": False})
        async with gateway(gateway_services=services) as (_app, client):
            response = await client.get(
                "/api/brain/echo/x", headers={**bearer("opaque"), "cookie": "bzs_session=1"}
            )
    seen = response.json()["headers"]
    assert "authorization" not in seen and "cookie" not in seen


async def test_bodies_stream_both_ways(gateway: GatewayFactory) -> None:
    upload = b"u" * (3 * 1024 * 1024 + 17)
    async with (
        echo_upstream() as echo,
        gateway(gateway_services=services_json(echo={"urls": [echo.url]})) as (_, c),
    ):
        posted = await c.post("/api/brain/echo/upload", content=upload)
        big = await c.get("/api/brain/echo/big?size=5000000")
    assert posted.status_code == 200 and posted.json()["body_length"] == len(upload)
    assert big.status_code == 200 and len(big.content) == 5_000_000
    assert big.content == b"x" * 5_000_000


@dataclass
class SilentUpstream:
    url: str = ""
    requests: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def silent_upstream() -> AsyncIterator[SilentUpstream]:
    """A TCP server that reads a request and never answers; it notes when the caller hangs up."""
    silent = SilentUpstream()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            silent.requests += 1
            while await reader.read(65536):
                pass
            silent.hung_up.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    silent.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield silent
    finally:
        server.close()
        await server.wait_closed()


async def test_slow_upstream_answers_504_at_its_timeout(gateway: GatewayFactory) -> None:
    async with silent_upstream() as silent:
        services = services_json(slow={"urls": [silent.url], "timeout": 0.5})
        async with gateway(gateway_services=services) as (_app, client):
            started = time.monotonic()
            # The upstream never answers: only the service's timeout can end this request
            # (the outer bound merely stops a broken gateway from hanging the suite).
            async with asyncio.timeout(PATIENCE):
                response = await client.get("/api/brain/slow/anything")
            waited = time.monotonic() - started
            async with asyncio.timeout(PATIENCE):
                await silent.hung_up.wait()
    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "upstream.timeout" and body["service"] == "slow"
    assert silent.requests == 1, "a timed-out GET is not sent again"
    # A lower bound only: a busy machine can make the wait longer, never shorter.
    assert waited >= 0.5, "the gateway gave up before the service's timeout"


@pytest.mark.parametrize(
    "reply",
    [b"this is not http at all\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort"],
    ids=["garbage", "truncated"],
)
async def test_garbage_from_upstream_answers_502(gateway: GatewayFactory, reply: bytes) -> None:
    async with raw_upstream(reply) as url:
        services = services_json(junk={"urls": [url]})
        async with gateway(gateway_services=services) as (_app, client):
            response = await client.get("/api/brain/junk/anything")
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "upstream.bad_gateway" and body["service"] == "junk"


def upstream_outcomes(service: str, *outcomes: str) -> dict[str, float]:
    return {
        outcome: REGISTRY.get_sample_value(
            "bizosaas_gateway_upstream_requests_total", {"service": service, "outcome": outcome}
        )
        or 0.0
        for outcome in outcomes
    }


async def test_unreachable_instance_is_not_tried_once_its_circuit_opens(
    gateway: GatewayFactory,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    # An open period far beyond the test: the circuit cannot turn half-open and let a trial
    # through however slowly this machine runs the requests.
    async with echo_upstream() as echo:
        services = services_json(gone={"urls": [dead, echo.url]})
        async with gateway(
            gateway_services=services, gateway_failure_threshold=3, gateway_open_seconds=3600
        ) as (_app, client):
            before = upstream_outcomes("gone", "connect_error", "unavailable")
            answers = [await client.get("/api/brain/gone/x") for _ in range(10)]
            after = upstream_outcomes("gone", "connect_error", "unavailable")
            circuit = REGISTRY.get_sample_value(
                "bizosaas_gateway_circuit_state", {"service": "gone", "instance": instance_id(dead)}
            )
    assert [response.status_code for response in answers] == [200] * 10, "retried on the other"
    tried = after["connect_error"] - before["connect_error"]
    assert tried == 3, "connection attempts stop at the failure threshold"
    assert after["unavailable"] == before["unavailable"]
    assert circuit == 2, "the circuit is open"
    assert len(echo.seen) == 10


async def test_a_services_only_instance_unreachable_answers_503_naming_it(
    gateway: GatewayFactory,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    services = services_json(gone={"urls": [dead]})
    async with gateway(
        gateway_services=services, gateway_failure_threshold=3, gateway_open_seconds=3600
    ) as (_app, client):
        before = upstream_outcomes("gone", "connect_error")
        answers = [await client.get("/api/brain/gone/x") for _ in range(4)]
        after = upstream_outcomes("gone", "connect_error")
        circuit = REGISTRY.get_sample_value(
            "bizosaas_gateway_circuit_state", {"service": "gone", "instance": instance_id(dead)}
        )
    for response in answers:
        assert response.status_code == 503
        body = response.json()
        assert body["code"] == "gateway.service_unavailable" and body["service"] == "gone"
        assert "gone" in body["detail"] and response.headers["retry-after"]
    # Outlier detection does not eject the last instance: each call (and its retry) tries it.
    assert after["connect_error"] - before["connect_error"] == 8
    assert circuit == 0


async def test_get_is_retried_on_another_instance_after_a_connection_failure(
    gateway: GatewayFactory,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with echo_upstream() as echo:
        services = services_json(svc={"urls": [dead, echo.url], "retries": 1})
        async with gateway(gateway_services=services) as (_app, client):
            gets = [await client.get("/api/brain/svc/x") for _ in range(4)]
    assert [r.status_code for r in gets] == [200] * 4
    assert [seen["method"] for seen in echo.seen] == ["GET"] * 4, "each GET arrived once"


async def test_get_is_retried_on_another_instance_after_a_broken_response(
    gateway: GatewayFactory,
) -> None:
    # Garbage, not a dropped connection: aiohttp itself resends an idempotent request once
    # after a disconnect, on the same instance, which is not the proxy's retry.
    async with flaky_upstreams(2, breaks=1, mode="garbage") as flaky:
        services = services_json(svc={"urls": flaky.urls, "retries": 1})
        async with gateway(gateway_services=services) as (_app, client):
            response = await client.get("/api/brain/svc/x")
    assert response.status_code == 200, response.text
    assert response.json() == {"method": "GET"}
    assert flaky.attempts("GET") == 2
    assert len({instance for instance, _ in flaky.seen}) == 2, "the retry went elsewhere"


@pytest.mark.parametrize("mode", ["garbage", "disconnect"])
@pytest.mark.parametrize("body", [b'{"order": 1}', b""], ids=["with-body", "empty-body"])
async def test_post_is_not_retried_after_a_broken_response(
    gateway: GatewayFactory, mode: BreakMode, body: bytes
) -> None:
    # Only the first request breaks: had the proxy sent the POST again, the second attempt
    # would have succeeded and the upstream would have seen the POST twice. A POST without a
    # body is replayable like a GET; only its method keeps it from being sent again.
    async with flaky_upstreams(2, breaks=1, mode=mode) as flaky:
        services = services_json(svc={"urls": flaky.urls, "retries": 1})
        async with gateway(gateway_services=services) as (_app, client):
            response = await client.post("/api/brain/svc/orders", content=body)
    assert flaky.attempts("POST") == 1, flaky.seen
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "upstream.bad_gateway" and problem["service"] == "svc"


async def test_upstream_metrics_and_route_label(gateway: GatewayFactory) -> None:
    async with (
        echo_upstream() as echo,
        gateway(gateway_services=services_json(m={"urls": [echo.url]})) as (_, c),
    ):
        labels = {"service": "m", "outcome": "2xx"}
        before = REGISTRY.get_sample_value("bizosaas_gateway_upstream_requests_total", labels)
        await c.get("/api/brain/m/a/b")
        after = REGISTRY.get_sample_value("bizosaas_gateway_upstream_requests_total", labels)
        route = {"method": "GET", "route": "/api/brain/m/{path}", "status": "200"}
        assert REGISTRY.get_sample_value("bizosaas_http_requests_total", route)
    assert (after or 0) == (before or 0) + 1
