"""The Temporal client connection of a process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bizosaas.kit.net import free_port
from bizosaas.workflows.devserver import TemporalDevServer
from bizosaas.workflows.runtime import connect


@pytest.mark.slow
async def test_connect_waits_for_a_server_that_is_still_starting(tmp_path: Path) -> None:
    server = TemporalDevServer(data_dir=tmp_path, port=0)
    server.launch()  # not waited for: the connection starts while the server boots
    try:
        client = await connect(server.address, "default", within=60)
        assert await client.service_client.check_health()
    finally:
        server.stop()


async def test_connect_gives_up_at_its_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        await connect(f"127.0.0.1:{free_port()}", "default", within=1.5)
    assert time.monotonic() - started < 10
