"""The gateway wires what a module declares: its health checks join /api/brain/health, and a
module that breaks the contract (an undeclared permission, a bad setting, a health check
named like the platform's) stops start-up with one message naming it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bizosaas.gateway.app import create_app
from bizosaas.kit.contract import ModuleContractError
from bizosaas.settings import ConfigurationError, Settings
from tests.conftest import NOTES_MODULE
from tests.support.notes import DELIVERY_LOG_ENV

BROKEN = "tests.support.broken_modules"


async def test_health_reports_the_modules_checks(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/brain/health")
    assert response.status_code == 200, response.text
    assert response.json()["components"]["notes-delivery-log"]["status"] == "ok"


async def test_health_is_503_when_a_modules_check_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DELIVERY_LOG_ENV, str(tmp_path / "missing-folder" / "deliveries.log"))
    response = await client.get("/api/brain/health")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "health.component_down"
    assert body["detail"] == "Down: notes-delivery-log"
    assert body["components"]["notes-delivery-log"]["status"] == "down"
    assert body["components"]["database"]["status"] == "ok"


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("route_needs_undeclared", "route GET /api/brain/broken/secret uses 'broken.secret:read'"),
        ("link_needs_undeclared", "navigation link 'Secrets' (/app/secrets) uses"),
        ("grant_undeclared", "role grant to staff uses 'broken.secret:read'"),
        ("health_named_like_the_platform", "declares the health check 'database'"),
    ],
)
def test_a_module_breaking_the_contract_stops_start_up(
    tmp_path: Path, attribute: str, expected: str
) -> None:
    broken = Settings(data_dir=tmp_path, extra_modules=[NOTES_MODULE, f"{BROKEN}:{attribute}"])
    with pytest.raises(ModuleContractError) as error:
        create_app(broken)
    assert "'broken'" in str(error.value) and expected in str(error.value)


def test_an_invalid_module_setting_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIZOSAAS_NOTES_PAGE_SIZE", "lots")
    with pytest.raises(ConfigurationError, match="BIZOSAAS_NOTES_PAGE_SIZE"):
        create_app(Settings(data_dir=tmp_path, extra_modules=[NOTES_MODULE]))
