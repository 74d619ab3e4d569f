"""`GET /api/brain/health`: 200 when every required component answers, 503 naming the ones
that do not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from bizosaas.gateway.platform import Platform
from bizosaas.kit.errors import problem_body, problem_response

router = APIRouter(tags=["platform"])

Check = Callable[[], Awaitable[None]]
CHECK_TIMEOUT = 2.0


def platform_checks(platform: Platform) -> dict[str, Check]:
    checks: dict[str, Check] = {"database": platform.database.ping}
    if platform.redis is not None:
        checks["redis"] = platform.cache.ping
    checks.update(platform.services.health_checks)
    return checks


async def _run(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT)
    except Exception as error:  # any failure means the component is down
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get(
    "/health",
    summary="Health of the gateway and the components it needs",
    responses={503: {"description": "A required component is down"}},
)
async def health(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    checks = platform_checks(platform)
    results = await asyncio.gather(*(_run(check) for check in checks.values()))
    components = dict(zip(checks, results, strict=True))
    down = sorted(name for name, result in components.items() if result["status"] != "ok")
    if down:
        body = problem_body(
            status=503,
            code="health.component_down",
            title="A required component is down",
            detail="Down: " + ", ".join(down),
            status_text="degraded",
            components=components,
        )
        return problem_response(body, {"cache-control": "no-store"})
    return Response(
        content=orjson.dumps({"status": "ok", "components": components}),
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )
