"""Settings: defaults, environment, and readable errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bizosaas.kit.contract import load_declarations
from bizosaas.kit.settings_doc import effective_values, markdown_reference
from bizosaas.modules import BUILTIN_MODULES
from bizosaas.settings import ConfigurationError, Settings, load_settings
from tests.support import notes


def test_defaults_run_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.port == 8001
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{tmp_path / '.bizosaas' / 'bizosaas.db'}"
    )
    assert not settings.uses_postgres and settings.redis_url is None


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIZOSAAS_PORT", "9100")
    monkeypatch.setenv("BIZOSAAS_DATABASE_URL", "postgresql://app@db/bizosaas")
    monkeypatch.setenv("BIZOSAAS_EXTRA_MODULES", "a.b:module, c.d")
    settings = load_settings()
    assert settings.port == 9100
    assert settings.effective_database_url == "postgresql+asyncpg://app@db/bizosaas"
    assert settings.uses_postgres
    assert settings.extra_modules == ["a.b:module", "c.d"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BIZOSAAS_PORT", "eighty", "BIZOSAAS_PORT"),
        ("BIZOSAAS_PORT", "70000", "BIZOSAAS_PORT"),
        ("BIZOSAAS_DATABASE_URL", "mysql://x/y", "BIZOSAAS_DATABASE_URL"),
        ("BIZOSAAS_LOG_LEVEL", "loud", "BIZOSAAS_LOG_LEVEL"),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as error:
        load_settings()
    assert expected in str(error.value)
    assert str(error.value).startswith("Invalid configuration")


def test_every_setting_is_described() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


def test_configuration_reference_is_current(repo_root: Path) -> None:
    document = (repo_root / "docs" / "configuration.md").read_text()
    assert document == markdown_reference(BUILTIN_MODULES), (
        "run: bizosaas settings --markdown > docs/configuration.md"
    )


def test_effective_values_mask_secrets() -> None:
    settings = Settings(database_url="postgresql://app:hunter2@db/bizosaas")
    shown = dict(effective_values(settings))
    assert "hunter2" not in shown["BIZOSAAS_DATABASE_URL"]
    assert shown["BIZOSAAS_DATABASE_URL"].startswith("postgresql+asyncpg://app:")


def test_module_settings_are_in_the_reference_and_the_effective_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BIZOSAAS_NOTES_PAGE_SIZE", "7")
    reference = markdown_reference([notes.module])
    assert "## Module `notes`: Notes (test module)" in reference
    assert "| `BIZOSAAS_NOTES_PAGE_SIZE` | `50` | Most notes one listing" in reference
    loaded = load_declarations([notes.module]).settings
    shown = dict(effective_values(Settings(), [notes.module], loaded))
    assert shown["BIZOSAAS_NOTES_PAGE_SIZE"] == "7"


@pytest.mark.parametrize("value", ["lots", "0", "501"])
def test_an_invalid_module_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BIZOSAAS_NOTES_PAGE_SIZE", value)
    with pytest.raises(ConfigurationError) as error:
        load_declarations([notes.module])
    message = str(error.value)
    assert message.startswith("Invalid configuration of module 'notes'")
    assert "BIZOSAAS_NOTES_PAGE_SIZE" in message
