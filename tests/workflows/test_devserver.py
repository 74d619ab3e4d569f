"""The embedded Temporal dev server dies with the process that launched it (Linux)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bizosaas.kit.net import port_is_free
from bizosaas.workflows.devserver import bound_to_parent

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="only Linux has a parent-death signal"
)

LAUNCHER = """
import sys, time
from pathlib import Path
from bizosaas.workflows.devserver import TemporalDevServer

server = TemporalDevServer(data_dir=Path(sys.argv[1]), port=0)
server.start()
print(server.process.pid, server.port, flush=True)
time.sleep(600)
"""


def _stat(path: Path) -> list[str]:
    """The fields of a /proc stat file after the command name, from the state on."""
    return path.read_text().rpartition(")")[2].split()


def _started(pid: int) -> str:
    return _stat(Path(f"/proc/{pid}/stat"))[19]


def _running(pid: int, started: str) -> bool:
    """Does any thread of process `pid` (the one started at `started`, not a reuse of its PID)
    still run? A SIGKILLed leader is a zombie while its other threads still exit, holding the
    process's sockets; a zombie left for its reaper holds nothing."""
    try:
        if _started(pid) != started:
            return False
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # gone, or going
        return False
    for thread in threads:
        with contextlib.suppress(OSError):
            if _stat(thread / "stat")[0] not in {"Z", "X"}:
                return True
    return False


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(_stat(stat)[1]) == pid:
                children.append(int(stat.parent.name))
    return children


def _await_line(path: Path, launcher: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if text.endswith("\n"):
            return text
        if launcher.poll() is not None:
            raise AssertionError(f"the launcher exited ({launcher.returncode}): {text}")
        time.sleep(0.1)
    raise AssertionError(f"the launcher printed no PID within {timeout:.0f}s")


@pytest.mark.slow
def test_dev_server_dies_when_its_launcher_is_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "temporal"
    output = tmp_path / "launcher.out"
    with output.open("wb") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(data_dir)], stdout=sink, stderr=sink
        )
    temporal_pid, started = 0, ""
    try:
        pid, port = _await_line(output, launcher, timeout=60).split()
        temporal_pid, started = int(pid), _started(int(pid))
        assert Path(os.readlink(f"/proc/{temporal_pid}/exe")).name == "temporal"
        assert str(data_dir) in Path(f"/proc/{temporal_pid}/cmdline").read_text()
        assert _children(temporal_pid) == [], "the binary is one process: its signal ends it all"

        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait()
        deadline = time.monotonic() + 15
        while _running(temporal_pid, started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(temporal_pid, started), "the dev server outlived its launcher"
        assert port_is_free("127.0.0.1", int(port)), "its port is released"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        if temporal_pid and _running(temporal_pid, started):
            os.kill(temporal_pid, signal.SIGKILL)


def test_command_does_not_run_once_its_launcher_is_gone(tmp_path: Path) -> None:
    """The parent-death signal is armed after the fork: if the launcher died in between, the
    command must not start. A shell in between stands in for that new parent."""
    marker = tmp_path / "ran"
    command = bound_to_parent(["/usr/bin/touch", str(marker)])
    result = subprocess.run(
        ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "has exited" in result.stderr
    assert not marker.exists()
    ran = subprocess.run(command, check=False)
    assert ran.returncode == 0, "run by its launcher, the command runs"
    assert marker.exists()
