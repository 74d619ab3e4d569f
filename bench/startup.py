"""Start-up time and idle memory of `bizosaas up` (embedded mode, every module loaded).

Prints, over several runs, the median seconds from launching `bizosaas up` (which also boots
the embedded Temporal dev server) until
`/api/brain/health` answers 200 (first start on an empty data dir: migrate + seed; and a warm
start reusing the data), and the idle resident memory of the gateway process.
Targets: under 10 s to healthy, under 250 MB resident for the gateway process.

Usage: .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bizosaas.kit.net import free_port

BIZOSAAS = str(Path(sys.executable).with_name("bizosaas"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_and_measure(workdir: Path) -> tuple[float, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIZOSAAS_")}
    env["BIZOSAAS_LOG_LEVEL"] = "WARNING"
    started = time.perf_counter()
    process = subprocess.Popen(
        [BIZOSAAS, "up", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/brain/health"
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bizosaas up exited with {process.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url, timeout=1) as response,
            ):
                if response.status == 200:
                    break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        time.sleep(3)  # let start-up garbage settle: idle memory
        memory = rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    return seconds, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    for number in range(runs):
        workdir = Path(tempfile.mkdtemp(prefix="bizosaas-bench-"))
        try:
            cold.append(start_and_measure(workdir))
            warm.append(start_and_measure(workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(
            f"run {number + 1}/{runs}: first start {cold[-1][0]:.2f}s, "
            f"restart {warm[-1][0]:.2f}s, idle RSS {warm[-1][1]:.0f} MB",
            flush=True,
        )
    print()
    print(f"{'':28}{'median':>10}{'min':>10}{'max':>10}   target")
    for label, rows, index, unit, target in (
        ("first start to healthy", cold, 0, "s", "< 10 s"),
        ("restart to healthy", warm, 0, "s", "< 10 s"),
        ("idle RSS, gateway process", warm, 1, "MB", "< 250 MB"),
    ):
        values = [row[index] for row in rows]
        print(
            f"{label:28}{statistics.median(values):>9.2f}{unit[0]}"
            f"{min(values):>9.2f}{unit[0]}{max(values):>9.2f}{unit[0]}   {target}"
        )


if __name__ == "__main__":
    main()
