"""The authenticated request path at speed: `GET /api/brain/auth/me` and a write route against a
bare FastAPI JSON route, on SQLite (embedded) and on PostgreSQL + Redis (scaled), in one run.

For each backend it starts a real server (uvicorn with the gateway's app factory, as
`bizosaas serve --workers N` does, one worker per core by default) on a fresh, migrated database, signs up one user over HTTP and then loads, with `wrk`:
  me      GET /api/brain/auth/me with the user's bearer access token (two rows read)
  write   POST /api/brain/auth/api-keys (creates an API key: a row, an audit event, a commit)
  bare    a bare FastAPI app's JSON route (no middleware, no database), the same worker count
at 64 and at 1,000 concurrent connections (closed loop): requests/s, p50, p99, errors (non-2xx,
connect/read/write failures) and time-outs (no answer within --timeout); 503s from load shedding
(`gateway.overloaded`) are counted apart, with the successful answers per second. Then token refreshes
per core (the service layer, one at a time, CPU time of this process: bench/identity_bench.py).

It prints medians of the repeats and the ratios against the targets; it asserts nothing.
Targets: /me >= 20% of the bare route's requests/s on both backends; at 1,000 connections
p99 < 100 ms with zero errors and time-outs; refreshes >= 1,500/s per core on PostgreSQL + Redis
and >= 500/s on SQLite.

PostgreSQL and Redis come from --postgres-url/--redis-url, else the test suite's variables
(BIZOSAAS_TEST_POSTGRES_URL, an admin URL: a throw-away database is created, migrated as its
owner and used as a non-owner role, so row-level security applies; BIZOSAAS_TEST_REDIS_URL).
Without them the scaled backend is left out, and the bench says so.

Usage: .venv/bin/python bench/hot_path.py [--duration 5] [--repeats 3] [--workers 2]
       [--only sqlite,postgres] [--routes me,write,bare]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.gateway_proxy import BIZOSAAS, REPO, ensure_tool, process, wait_ready
from bench.identity_bench import _refreshes, _setup, core_count
from redis.asyncio import Redis
from tests.support import backends

from bizosaas.identity import service
from bizosaas.kit.db import Database
from bizosaas.kit.net import free_port
from bizosaas.settings import Settings

CONNECTIONS = (64, 1000)
ME = "/api/brain/auth/me"
WRITE = "/api/brain/auth/api-keys"
BARE = "/api/brain/benchsvc/ping"
PASSWORD = "bench passphrase that is long enough"
WRITE_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"name": "bench key", "permissions": ["identity.member:read"]}'
wrk.headers["Content-Type"] = "application/json"
"""
COUNT_SHED_SCRIPT = """
-- Counts 503 answers (load shedding, `gateway.overloaded`) apart from other failures.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) shed = 0 end
function response(status, headers, body) if status == 503 then shed = shed + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("shed") end
  io.write(string.format("Shed 503: %d\\n", total))
end
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int
    shed: int = 0
    """Answered at once with 503 `gateway.overloaded` (load shedding; not in `errors`)."""
    served_rps: float = 0.0
    """Successful (2xx/3xx) answers per second: `rps` less the shed and failed ones."""
    cpu_us: float = 0.0
    """Server CPU time (all its processes) per answered request, in microseconds: unlike
    requests/s, hardly moved by other work on the machine."""


_TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue += [int(child) for child in task.read_text().split()]
    return found


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and every process under it."""
    total = 0
    for process_id in _descendants(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process_id}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    wrk: str,
    url: str,
    *,
    connections: int,
    duration: float,
    timeout: float,
    headers: dict[str, str],
    script: Path | None,
) -> Result:
    args = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    args += ["--latency", "--timeout", f"{timeout:g}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not (p50 and p99 and rps):
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    shed_match = re.search(r"Shed 503: (\d+)", output)
    shed = int(shed_match.group(1)) if shed_match else 0
    timeouts = re.search(r"timeout (\d+)", output)
    answered = re.search(r"(\d+) requests in", output)
    if os.environ.get("BENCH_VERBOSE"):
        print(output)
    result = Result(
        float(rps.group(1)),
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        errors - shed,
        int(timeouts.group(1)) if timeouts else 0,
        shed,
    )
    result.cpu_us = int(answered.group(1)) if answered else 0  # requests, until `measure`
    failed = (int(non_2xx.group(1)) if non_2xx else 0) / max(result.cpu_us, 1)
    result.served_rps = result.rps * max(0.0, 1.0 - failed)
    return result


def measure(
    wrk: str, url: str, options: argparse.Namespace, server_pid: int, **kwargs: Any
) -> Result:
    run_wrk(wrk, url, duration=1.0, timeout=options.timeout, **kwargs)  # warm-up
    runs = []
    for _ in range(options.repeats):
        before = server_cpu_seconds(server_pid)
        run = run_wrk(wrk, url, duration=options.duration, timeout=options.timeout, **kwargs)
        answered = run.cpu_us
        run.cpu_us = (server_cpu_seconds(server_pid) - before) / max(answered, 1) * 1e6
        runs.append(run)
    return Result(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
        timeouts=sum(r.timeouts for r in runs),
        shed=sum(r.shed for r in runs),
        served_rps=statistics.median(r.served_rps for r in runs),
        cpu_us=statistics.median(r.cpu_us for r in runs),
    )


def _post(url: str, payload: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def sign_up(base_url: str) -> str:
    """A new tenant and its owner (registration answers without tokens: the address is to be
    confirmed by mail); the owner's bearer access token, from a password login."""
    _post(
        f"{base_url}/api/brain/auth/register",
        {
            "email": "owner@bench.example.com",
            "password": PASSWORD,
            "full_name": "Bench Owner",
            "tenant_name": "Bench",
        },
    )
    answer = _post(
        f"{base_url}/api/brain/auth/login",
        {"email": "owner@bench.example.com", "password": PASSWORD},
    )
    return str(answer["access_token"])


def _row(label: str, r: Result) -> str:
    return (
        f"{label:<28} {r.rps:>9.0f} req/s  p50 {r.p50_ms:8.2f} ms  p99 {r.p99_ms:8.2f} ms"
        f"  errors {r.errors}  time-outs {r.timeouts}  shed {r.shed} (served {r.served_rps:.0f}/s)"
        f"  server CPU {r.cpu_us:6.0f} us/request"
    )


async def refresh_rate(database_url: str, redis_url: str | None, rounds: int) -> float:
    """Token refreshes per core (CPU time of this process), median of `rounds`."""
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            data_dir=Path(directory), database_url=database_url, redis_url=redis_url
        )
        database = Database.from_url(settings.effective_database_url)
        redis = Redis.from_url(redis_url) if redis_url else None
        try:
            identity = service.build_context(settings, database=database, redis=redis)
            _email, token = await _setup(database, identity)
            _warm_up, token = await _refreshes(database, identity, token, 50)
            rates = []
            for _ in range(rounds):
                (_wall, cpu), token = await _refreshes(database, identity, token, 500)
                rates.append(cpu)
        finally:
            await database.dispose()
            if redis is not None:
                await redis.aclose()
    return statistics.median(rates)


def run_backend(
    name: str,
    *,
    app_url: str,
    owner_url: str,
    redis_url: str | None,
    wrk: str,
    root: Path,
    options: argparse.Namespace,
) -> dict[str, Result]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    env.update(
        PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}",
        BIZOSAAS_DATA_DIR=str(root / name / "data"),
        BIZOSAAS_DATABASE_URL=app_url,
        BIZOSAAS_MIGRATION_DATABASE_URL=owner_url,
        BIZOSAAS_LOG_LEVEL="WARNING",
        BIZOSAAS_LOG_FORMAT="console",
        BIZOSAAS_OUTBOX_RELAY_ENABLED="false",
        BIZOSAAS_ACCESS_TOKEN_TTL="3600",
        # The write route creates API keys: the tenant's quota would answer 429 after ten.
        BIZOSAAS_API_KEY_LIMIT_PER_TENANT="1000000000 per hour",
        BIZOSAAS_GATEWAY_POLICIES=json.dumps(
            {"rate_limits": [{"service": "*", "limit": "1000000000/minute", "per": "ip"}]}
        ),
    )
    if redis_url:
        env["BIZOSAAS_REDIS_URL"] = redis_url
    subprocess.run([BIZOSAAS, "db", "upgrade"], env=env, cwd=REPO, check=True, capture_output=True)
    port, bare_port = free_port(), free_port()
    workers = str(options.workers)
    # uvicorn's own entry point, as `bizosaas serve` runs it (no proxy headers, no access log):
    # its light `__main__` lets worker processes answer the supervisor's health pings while
    # they import the platform, even on a busy machine.
    server = [
        sys.executable, "-m", "uvicorn", "--factory", "bizosaas.gateway.asgi:app_from_environment",
        "--port", str(port), "--workers", workers, "--log-level", "warning", "--no-access-log",
        "--no-proxy-headers", "--no-server-header", "--backlog", "4096",
    ]  # fmt: skip
    bare = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.gateway_module:tuned_bare_app",
        "--port", str(bare_port), "--workers", workers, "--log-level", "warning",
        "--no-access-log", "--backlog", "4096",
    ]  # fmt: skip
    if options.max_in_flight:
        env["BIZOSAAS_GATEWAY_MAX_IN_FLIGHT"] = str(options.max_in_flight)
    write_script = root / "write.lua"
    write_script.write_text(WRITE_SCRIPT + COUNT_SHED_SCRIPT)
    read_script = root / "read.lua"
    read_script.write_text(COUNT_SHED_SCRIPT)
    results: dict[str, Result] = {}
    base_url = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        server_process = stack.enter_context(
            process(server, env=env, log=root / f"{name}-server.log")
        )
        bare_process = stack.enter_context(process(bare, env=env, log=root / f"{name}-bare.log"))
        wait_ready(f"{base_url}/api/brain/health", timeout=300)
        wait_ready(f"http://127.0.0.1:{bare_port}{BARE}", timeout=300)
        token = sign_up(base_url)
        auth = {"Authorization": f"Bearer {token}"}
        targets = {
            "me": (f"{base_url}{ME}", auth, read_script, server_process.pid),
            "write": (f"{base_url}{WRITE}", auth, write_script, server_process.pid),
            "bare": (f"http://127.0.0.1:{bare_port}{BARE}", {}, read_script, bare_process.pid),
        }
        for connections in CONNECTIONS:
            for route in options.routes.split(","):
                url, headers, script, pid = targets[route]
                result = measure(
                    wrk, url, options, pid, connections=connections, headers=headers, script=script
                )
                results[f"{route}@{connections}"] = result
                print(_row(f"{name} {route} c={connections}", result), flush=True)
    return results


def report(name: str, results: dict[str, Result], refreshes: float, target: int) -> None:
    print(f"\n== {name}")
    for connections in CONNECTIONS:
        me, bare = results.get(f"me@{connections}"), results.get(f"bare@{connections}")
        if me and bare:
            print(
                f"  c={connections}: /me {me.rps / bare.rps:6.1%} of the bare route's requests/s"
                f" (target >= 20%); by server CPU per request {bare.cpu_us / me.cpu_us:6.1%}"
            )
    me_1000 = results.get("me@1000")
    if me_1000:
        print(
            f"  c=1000: /me p99 {me_1000.p99_ms:.1f} ms (target < 100 ms), errors"
            f" {me_1000.errors}, time-outs {me_1000.timeouts} (target: zero); shed (503"
            f" gateway.overloaded) {me_1000.shed}"
        )
    print(f"  token refreshes: {refreshes:.0f}/s per core (target >= {target})")


async def _postgres_target(admin_url: str) -> backends.DatabaseTarget:
    return await backends.create_postgres_database(admin_url, modules=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per cell (median)")
    parser.add_argument("--timeout", type=float, default=10.0, help="a request's time-out, s")
    parser.add_argument("--workers", type=int, default=core_count(), help="server processes")
    parser.add_argument("--only", default="sqlite,postgres")
    parser.add_argument("--routes", default="me,write,bare")
    parser.add_argument("--refresh-rounds", type=int, default=5)
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=None,
        help="the servers' load-shedding bound (BIZOSAAS_GATEWAY_MAX_IN_FLIGHT); default: "
        "the setting's default",
    )
    parser.add_argument("--postgres-url", default=backends.postgres_admin_url())
    parser.add_argument("--redis-url", default=backends.redis_test_url())
    options = parser.parse_args()
    wrk = ensure_tool("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed (apt-get install -y wrk)")
    print(
        f"hot path bench: {options.workers} worker(s) per server, machine has {core_count()}"
        f" cores, wrk {options.duration:g} s x {options.repeats} per cell (median)"
    )
    root = Path(tempfile.mkdtemp(prefix="bizosaas-hot-path-"))
    summaries: list[tuple[str, dict[str, Result], float, int]] = []
    if "sqlite" in options.only:
        url = f"sqlite+aiosqlite:///{root / 'sqlite.db'}"
        results = run_backend(
            "sqlite", app_url=url, owner_url=url, redis_url=None, wrk=wrk, root=root,
            options=options,
        )  # fmt: skip
        refreshes = asyncio.run(refresh_rate(url, None, options.refresh_rounds))
        summaries.append(("SQLite (embedded)", results, refreshes, 500))
    if "postgres" in options.only:
        if not (options.postgres_url and options.redis_url):
            print("PostgreSQL + Redis: no --postgres-url/--redis-url; left out")
        else:
            target = asyncio.run(_postgres_target(options.postgres_url))
            try:
                results = run_backend(
                    "postgres", app_url=target.app_url, owner_url=target.owner_url,
                    redis_url=options.redis_url, wrk=wrk, root=root, options=options,
                )  # fmt: skip
                refreshes = asyncio.run(
                    refresh_rate(target.app_url, options.redis_url, options.refresh_rounds)
                )
            finally:
                asyncio.run(backends.drop_postgres_database(options.postgres_url, target))
            summaries.append(("PostgreSQL + Redis (scaled)", results, refreshes, 1500))
    print("\nmedians of the repeats; ratios against the targets (figures, not pass/fail)")
    for name, results, refreshes, refresh_target in summaries:
        report(name, results, refreshes, refresh_target)
    print(f"\nserver logs: {root}")


if __name__ == "__main__":
    main()
