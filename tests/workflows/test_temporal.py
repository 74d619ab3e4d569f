"""The embedded Temporal dev server, the client connection and its health component."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from bizosaas.workflows.devserver import DevServerError, TemporalDevServer
from tests.support.lifespan import app_lifespan


@pytest.mark.slow
async def test_health_reports_temporal_and_names_it_when_down(
    tmp_path: Path, settings: Settings, database: Database
) -> None:
    server = TemporalDevServer(data_dir=tmp_path / "temporal", port=0)
    server.start()
    try:
        app = create_app(
            settings.model_copy(update={"temporal_address": server.address}), database=database
        )
        async with app_lifespan(app):
            assert app.state.temporal is not None
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                healthy = await http.get("/api/brain/health")
                assert healthy.status_code == 200
                assert healthy.json()["components"]["temporal"]["status"] == "ok"
                server.stop()
                down = await http.get("/api/brain/health")
        assert down.status_code == 503
        assert "temporal" in down.json()["detail"]
        assert down.json()["components"]["database"]["status"] == "ok"
    finally:
        server.stop()
    assert (tmp_path / "temporal" / "temporal.db").exists(), "state persists in the data dir"


def test_taken_port_is_a_clear_error(temporal: TemporalDevServer, tmp_path: Path) -> None:
    second = TemporalDevServer(data_dir=tmp_path, port=temporal.port)
    with pytest.raises(DevServerError, match=f"port {temporal.port} is taken"):
        second.start()
