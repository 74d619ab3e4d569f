"""Start and stop real BizOSaaS processes in tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from bizosaas.kit.net import free_port

__all__ = ["free_port", "kill_hard", "start", "stop", "wait_healthy"]

BIZOSAAS = str(Path(sys.executable).with_name("bizosaas"))


def start(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_name: str = "server.log"
) -> subprocess.Popen[bytes]:
    """Run `bizosaas <args>`; an embedded Temporal dev server picks a free port unless the
    caller chose one, so test servers never collide on Temporal's default port."""
    log = (cwd / log_name).open("ab")
    environment = {"BIZOSAAS_TEMPORAL_DEV_PORT": "0", **env}
    return subprocess.Popen(
        [BIZOSAAS, *args], cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT
    )


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before becoming healthy")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/api/brain/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{base_url} not healthy after {timeout}s")


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
