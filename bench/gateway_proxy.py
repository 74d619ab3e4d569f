"""The Brain gateway under load: its remote hop against direct requests and nginx, and its
middleware stack against a bare app.

One run measures, at 64 and at 1,000 concurrent connections (requests/s, p50, p99, errors),
plus one connection for the latency a hop adds when nothing queues:
  direct        requests straight to a BizOSaaS module in split mode
                (`bizosaas serve --only benchsvc`)
  gateway hop   the same requests through the gateway (`bizosaas serve`, the module remote)
  nginx         Debian's nginx proxying the same upstream (keep-alive pool), the reference
  stack         the module mounted in the gateway process: the full middleware stack
                (request context, security headers, rate limit, cache lookup, proxy dispatch)
  bare          the same route on a bare FastAPI app (no middleware)
Every server runs one process (one uvicorn worker, one nginx worker). Rate limiting stays on
(a limit high enough never to trigger), logging at WARNING (nginx: access_log off).

Two kinds of measurement:
  saturation    every connection sends its next request as soon as the last one is answered
                (closed loop): requests/s is the server's capacity, and its latency is mostly
                the queue in front of a saturated server (p50 ~ connections / throughput).
  fixed load    at 64 and 1,000 connections, direct, the gateway hop and nginx are offered the
                same load, half the gateway's capacity measured above, as a Poisson stream
                (each connection pauses a random, exponentially distributed time before each
                request; `bench/paced.lua`). The p50 difference is the latency the hop adds to
                a request, the way proxies' added latency is usually quoted.
It prints medians of the repeats and the ratios against the targets; it asserts nothing.
Targets: gateway hop >= 50% of direct throughput and <= +2 ms at p50; stack >= 70% of bare;
1,000 connections with zero errors.

The remote service has a health path, probed every second while the upstream is saturated
(a probe waits at most that second): each gateway row counts the gateway's own
`gateway.service_unavailable` answers (no instance in the pool) and its connection failures,
read from its metrics. Target: zero while the upstream answers.

Load generator: `wrk` (Debian's package) when installed, else a built-in aiohttp generator.
nginx and wrk are installed with apt-get when missing and this runs as root; the bench says
so when they cannot be had.

Usage: .venv/bin/python bench/gateway_proxy.py [--duration 5] [--repeats 3] [--only direct,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bizosaas.kit.net import free_port

BIZOSAAS = str(Path(sys.executable).with_name("bizosaas"))
REPO = Path(__file__).resolve().parents[1]
MODULE = "bench.gateway_module:module"
PATH = "/api/brain/benchsvc/ping"
CONCURRENCY = (1, 64, 1000)
"""1 connection shows the latency one hop adds; 64 and 1,000 are the load targets."""
LOADED = (64, 1000)
"""Connection counts of the fixed-load measurement."""
FIXED_LOAD_SHARE = 0.5
"""The fixed load, as a share of the gateway hop's capacity at the same connection count."""
PACED_SCRIPT = Path(__file__).with_name("paced.lua")
NGINX_CONF = """
worker_processes 1;
error_log {root}/nginx-error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    upstream module {{ server 127.0.0.1:{upstream}; keepalive 256; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://module;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


METRICS_TOKEN = "bench-metrics-token"
_OUTCOME = re.compile(
    r'^bizosaas_gateway_upstream_requests_total\{outcome="(\w+)",service="benchsvc"\} ([\d.e+]+)$',
    re.MULTILINE,
)


def upstream_outcomes(gateway_url: str) -> dict[str, float]:
    """The gateway's count of requests to the bench service, by outcome (its /metrics)."""
    request = urllib.request.Request(
        f"{gateway_url}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return {outcome: float(value) for outcome, value in _OUTCOME.findall(text)}


@dataclass
class Refusals:
    """The gateway's own answers in place of the upstream's during a measurement."""

    unavailable: float = 0
    """`gateway.service_unavailable` for want of an instance in the pool."""
    connect_errors: float = 0

    def add(self, before: dict[str, float], after: dict[str, float]) -> None:
        self.unavailable += after.get("unavailable", 0) - before.get("unavailable", 0)
        self.connect_errors += after.get("connect_error", 0) - before.get("connect_error", 0)

    def __str__(self) -> str:
        return (
            f"gateway.service_unavailable {self.unavailable:.0f}, "
            f"connection failures {self.connect_errors:.0f}"
        )


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def ensure_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found or os.geteuid() != 0:
        return found
    print(f"{name} missing: apt-get install -y {name}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        ["apt-get", "install", "-y", name], env=env, capture_output=True, check=False
    )
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", name], env=env, capture_output=True, check=False
        )
    return shutil.which(name)


@contextlib.contextmanager
def process(
    args: list[str], *, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- load generators -------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    wrk: str, url: str, connections: int, duration: float, pause_ms: float | None = None
) -> Result:
    threads = min(2, connections)  # wrk needs a connection per thread
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    args += ["--latency", "--timeout", "10s"]
    env = None
    if pause_ms is not None:
        args += ["-s", str(PACED_SCRIPT)]
        env = {**os.environ, "BENCH_PAUSE_MS": f"{pause_ms:.3f}"}
    output = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, env=env
    ).stdout
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    if not (p50 and p99 and rps):
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    if os.environ.get("BENCH_VERBOSE"):
        print(output)
    return Result(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), errors)


async def _aiohttp_load(
    url: str, connections: int, duration: float, pause_ms: float | None = None
) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                if pause_ms is not None:
                    await asyncio.sleep(random.expovariate(1000 / pause_ms))
                started = time.perf_counter()
                try:
                    async with http.get(url) as response:
                        await response.read()
                        if response.status >= 400:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        rps=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99)] * 1000,
        errors=errors,
    )


def measure(
    wrk: str | None,
    url: str,
    connections: int,
    duration: float,
    repeats: int,
    pause_ms: float | None = None,
) -> Result:
    """Median of `repeats` runs; `pause_ms` paces every connection (the fixed-load runs)."""
    runs = []
    for _ in range(repeats):
        if wrk:
            runs.append(run_wrk(wrk, url, connections, duration, pause_ms))
        else:
            runs.append(asyncio.run(_aiohttp_load(url, connections, duration, pause_ms)))
    return Result(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


# -- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per cell (median)")
    parser.add_argument("--only", default="direct,gateway,nginx,stack,bare")
    options = parser.parse_args()
    wanted = options.only.split(",")

    wrk = ensure_tool("wrk")
    print(f"load generator: {'wrk ' + wrk if wrk else 'built-in aiohttp (wrk not available)'}")
    nginx = ensure_tool("nginx") if "nginx" in wanted else None
    if "nginx" in wanted and nginx is None:
        print("nginx: not installed and cannot be installed here; its row is left out")

    root = Path(tempfile.mkdtemp(prefix="bizosaas-gw-bench-"))
    (root / "tmp").mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    base.update(
        PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}",
        BIZOSAAS_DATA_DIR=str(root / "data"),
        BIZOSAAS_LOG_LEVEL="WARNING",
        BIZOSAAS_LOG_FORMAT="console",
        BIZOSAAS_OUTBOX_RELAY_ENABLED="false",
        BIZOSAAS_EXTRA_MODULES=MODULE,
        BIZOSAAS_GATEWAY_POLICIES=json.dumps(
            {"rate_limits": [{"service": "*", "limit": "1000000000/minute", "per": "ip"}]}
        ),
    )
    upstream_port, gateway_port, nginx_port, stack_port, bare_port = (free_port() for _ in range(5))
    upstream = f"http://127.0.0.1:{upstream_port}"
    services = {
        "benchsvc": {
            "urls": [f"{upstream}/api/brain/benchsvc"],
            "timeout": 30,
            "health_path": "/api/brain/health",
        }
    }
    gateway_env = {
        **base,
        "BIZOSAAS_EXTRA_MODULES": "",
        "BIZOSAAS_GATEWAY_SERVICES": json.dumps(services),
        "BIZOSAAS_GATEWAY_HEALTH_INTERVAL": "1",
        "BIZOSAAS_METRICS_TOKEN": METRICS_TOKEN,
    }
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    refusals: dict[str, Refusals] = {"saturation": Refusals(), "fixed load": Refusals()}
    targets = {
        "direct": f"{upstream}{PATH}",
        "gateway": f"http://127.0.0.1:{gateway_port}{PATH}",
        "nginx": f"http://127.0.0.1:{nginx_port}{PATH}",
        "stack": f"http://127.0.0.1:{stack_port}{PATH}",
        "bare": f"http://127.0.0.1:{bare_port}{PATH}",
    }
    uvicorn_bare = [
        sys.executable, "-m", "uvicorn", "--factory", "bench.gateway_module:tuned_bare_app",
        "--port", str(bare_port), "--log-level", "warning", "--no-access-log", "--backlog", "4096",
    ]  # fmt: skip
    results: dict[tuple[str, int], Result] = {}
    paced: dict[tuple[str, int], Result] = {}
    offered: dict[int, float] = {}
    subprocess.run([BIZOSAAS, "db", "upgrade"], env=base, cwd=REPO, check=True, capture_output=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            process(
                [BIZOSAAS, "serve", "--only", "benchsvc", "--port", str(upstream_port)],
                env=base,
                log=root / "upstream.log",
            )
        )
        stack.enter_context(
            process(
                [BIZOSAAS, "serve", "--port", str(gateway_port)],
                env=gateway_env,
                log=root / "gateway.log",
            )
        )
        stack.enter_context(
            process(
                [BIZOSAAS, "serve", "--port", str(stack_port)], env=base, log=root / "stack.log"
            )
        )
        stack.enter_context(process(uvicorn_bare, env=base, log=root / "bare.log"))
        if nginx:
            conf = root / "nginx.conf"
            conf.write_text(NGINX_CONF.format(root=root, upstream=upstream_port, port=nginx_port))
            stack.enter_context(
                process(
                    [nginx, "-c", str(conf), "-p", str(root), "-g", "daemon off;"],
                    env=base,
                    log=root / "nginx.log",
                )
            )
        else:
            wanted = [name for name in wanted if name != "nginx"]
        for name in wanted:
            wait_ready(targets[name])
        for connections in CONCURRENCY:
            for name in wanted:
                measure(wrk, targets[name], connections, 1.0, 1)  # warm-up
                before = upstream_outcomes(gateway_url) if name == "gateway" else {}
                results[(name, connections)] = measure(
                    wrk, targets[name], connections, options.duration, options.repeats
                )
                r = results[(name, connections)]
                extra = ""
                if name == "gateway":
                    after = upstream_outcomes(gateway_url)
                    refused = Refusals()
                    refused.add(before, after)
                    refusals["saturation"].add(before, after)
                    extra = f"  ({refused})"
                print(f"{name:>8} c={connections:<5} {_row(r)}{extra}", flush=True)
        if "gateway" in wanted:
            for connections in LOADED:
                offered[connections] = FIXED_LOAD_SHARE * results[("gateway", connections)].rps
                pause_ms = connections / offered[connections] * 1000
                for name in (n for n in wanted if n in ("direct", "gateway", "nginx")):
                    measure(wrk, targets[name], connections, 1.0, 1, pause_ms)  # warm-up
                    before = upstream_outcomes(gateway_url) if name == "gateway" else {}
                    paced[(name, connections)] = r = measure(
                        wrk, targets[name], connections, options.duration, options.repeats, pause_ms
                    )
                    if name == "gateway":
                        refusals["fixed load"].add(before, upstream_outcomes(gateway_url))
                    print(
                        f"{name:>8} c={connections:<5} {_row(r)}"
                        f"  (fixed load {offered[connections]:.0f} req/s)",
                        flush=True,
                    )
    report(results, wanted)
    report_fixed_load(paced, offered)
    if "gateway" in wanted:
        print("\nthe gateway's own 503s while the upstream answered (target: zero)")
        for mode, refused in refusals.items():
            print(f"{mode:>10}: {refused}")
    print(f"\nserver logs: {root}")


def _row(r: Result) -> str:
    return f"{r.rps:>9.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:8.2f} ms  errors {r.errors}"


def report(results: dict[tuple[str, int], Result], wanted: list[str]) -> None:
    print("\nmedians of the repeats; ratios against the targets (figures, not pass/fail)")
    for connections in CONCURRENCY:
        print(f"\n-- {connections} concurrent connections")
        row = {
            name: results[(name, connections)] for name in wanted if (name, connections) in results
        }
        if "direct" in row and "gateway" in row:
            direct, hop = row["direct"], row["gateway"]
            print(
                f"gateway hop: {hop.rps / direct.rps:6.1%} of direct throughput (target >= 50%),"
                f" p50 at saturation {hop.p50_ms - direct.p50_ms:+.2f} ms"
            )
        if "direct" in row and "nginx" in row:
            print(f"nginx:       {row['nginx'].rps / row['direct'].rps:6.1%} of direct throughput")
        if "gateway" in row and "nginx" in row:
            print(f"gateway/nginx throughput: {row['gateway'].rps / row['nginx'].rps:6.1%}")
        if "stack" in row and "bare" in row:
            print(
                f"middleware stack: {row['stack'].rps / row['bare'].rps:6.1%} of the bare route"
                " (target >= 70%)"
            )
        errors = {name: r.errors for name, r in row.items()}
        print(f"errors: {errors} (target at 1,000 connections: zero)")


def report_fixed_load(paced: dict[tuple[str, int], Result], offered: dict[int, float]) -> None:
    if not offered:
        return
    print("\nfixed load (the same Poisson stream offered to each): the latency a hop adds")
    for connections, load in offered.items():
        direct, hop = paced.get(("direct", connections)), paced.get(("gateway", connections))
        print(f"\n-- {connections} connections, {load:.0f} req/s offered")
        if direct and hop:
            print(
                f"gateway hop: p50 {hop.p50_ms - direct.p50_ms:+.2f} ms (target <= +2 ms),"
                f" p99 {hop.p99_ms - direct.p99_ms:+.2f} ms;"
                f" served {direct.rps:.0f} and {hop.rps:.0f} req/s"
            )
        nginx = paced.get(("nginx", connections))
        if direct and nginx:
            print(f"nginx:       p50 {nginx.p50_ms - direct.p50_ms:+.2f} ms")
        errors = {name: r.errors for (name, c), r in paced.items() if c == connections}
        print(f"errors: {errors}")


if __name__ == "__main__":
    main()
