"""The `bizosaas` command, run as a real process."""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

from bizosaas.identity.credentials.totp import totp_associated_data
from bizosaas.kit import crypto, migrate
from bizosaas.kit.db import create_engine
from bizosaas.modules import BUILTIN_MODULES
from tests.support import processes
from tests.support.backends import DatabaseTarget

NOTES = "tests.support.notes:module"
(PLATFORM_HEAD,) = migrate.head_revisions()
BUILTIN_HEADS = ", ".join(migrate.head_revisions(BUILTIN_MODULES))
"""The platform's head and those of the built-in modules with migrations of their own."""


def run(args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [processes.BIZOSAAS, *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def welcome_notes(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "bizosaas.db") as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM test_notes WHERE body = 'Welcome note'"
        ).fetchone()
    return int(count)


def _temporal_running_in(directory: Path) -> bool:
    listing = subprocess.run(
        ["ps", "-eo", "args"], check=True, capture_output=True, text=True
    ).stdout
    return any("start-dev" in line and str(directory) in line for line in listing.splitlines())


@pytest.fixture
def embedded_env(subprocess_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**subprocess_env, "BIZOSAAS_LOG_LEVEL": "WARNING", "BIZOSAAS_EXTRA_MODULES": NOTES}


@pytest.mark.slow
def test_up_serves_seeds_once_and_reuses_data(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    for attempt in (1, 2):
        port = processes.free_port()
        server = processes.start(
            ["up", "--port", str(port)], env=embedded_env, cwd=tmp_path, log_name=f"up{attempt}.log"
        )
        try:
            # The first start migrates and seeds the demo data (a 240-product store) first.
            processes.wait_healthy(f"http://127.0.0.1:{port}", server, timeout=90)
            health = httpx.get(f"http://127.0.0.1:{port}/api/brain/health").json()
            assert health["status"] == "ok"
            assert set(health["components"]) >= {"database", "temporal"}
        finally:
            processes.stop(server)
        output = (tmp_path / f"up{attempt}.log").read_text()
        assert f"http://127.0.0.1:{port}" in output
        assert "notes@example.com" in output, "the demo login is printed"
        assert ("demo data created" in output) == (attempt == 1)
        assert "Traceback" not in output
        assert "Temporal dev server started" in output
        assert not _temporal_running_in(tmp_path), "stopping `up` stops its Temporal dev server"
    assert welcome_notes(tmp_path / ".bizosaas") == 1

    seeded = run(["demo", "seed"], env=embedded_env, cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert welcome_notes(tmp_path / ".bizosaas") == 1, "seeding is idempotent"
    logins = (tmp_path / ".bizosaas" / "demo-credentials.txt").read_text()
    assert "admin@bizosaas.local" in logins, "re-seeding keeps the first run's demo logins"


def test_port_in_use_is_a_clear_error(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["up", "--port", str(port)], env=embedded_env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_configuration_names_the_setting(
    tmp_path: Path, embedded_env: dict[str, str]
) -> None:
    result = run(["serve"], env={**embedded_env, "BIZOSAAS_PORT": "not-a-port"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "BIZOSAAS_PORT" in result.stderr and "Traceback" not in result.stderr


def test_unknown_extra_module_is_reported(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    env = {**embedded_env, "BIZOSAAS_EXTRA_MODULES": "no.such.module:module"}
    result = run(["serve"], env=env, cwd=tmp_path)
    assert result.returncode == 2 and "no.such.module" in result.stderr


def _db_current(env: dict[str, str], cwd: Path) -> dict[str, str]:
    output = run(["db", "current"], env=env, cwd=cwd).stdout
    lines = dict(line.split(":", 1) for line in output.strip().splitlines()[:2])
    return {key: value.strip() for key, value in lines.items()}


def _tables(target: DatabaseTarget) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(target.owner_url, null_pool=True)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def database_env(
    subprocess_env: dict[str, str], empty_target: DatabaseTarget
) -> Iterator[dict[str, str]]:
    """The command's environment on an empty database of either backend, with the notes
    module enabled."""
    yield {
        **subprocess_env,
        "BIZOSAAS_LOG_LEVEL": "WARNING",
        "BIZOSAAS_DATABASE_URL": empty_target.owner_url,
        "BIZOSAAS_EXTRA_MODULES": NOTES,
    }


def test_db_upgrade_current_downgrade_with_a_modules_migrations(
    tmp_path: Path, database_env: dict[str, str], empty_target: DatabaseTarget
) -> None:
    assert _db_current(database_env, tmp_path)["current"] == "(empty database)"
    upgraded = run(["db", "upgrade"], env=database_env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "test_notes" in _tables(empty_target)
    current = _db_current(database_env, tmp_path)
    with_notes = ", ".join(sorted([*migrate.head_revisions(BUILTIN_MODULES), "notes_0001"]))
    assert current["current"] == current["heads"] == with_notes

    ambiguous = run(["db", "downgrade"], env=database_env, cwd=tmp_path)
    assert ambiguous.returncode == 1 and "several heads" in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr

    out = run(["db", "downgrade", "notes@base"], env=database_env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "test_notes" not in _tables(empty_target)
    assert _db_current(database_env, tmp_path)["current"] == BUILTIN_HEADS


def test_db_upgrade_without_the_module_leaves_its_table_out(
    tmp_path: Path, database_env: dict[str, str], empty_target: DatabaseTarget
) -> None:
    platform_only = {**database_env, "BIZOSAAS_EXTRA_MODULES": ""}
    assert run(["db", "upgrade"], env=platform_only, cwd=tmp_path).returncode == 0
    tables = _tables(empty_target)
    assert "tenants" in tables and "test_notes" not in tables
    current = _db_current(platform_only, tmp_path)
    assert current["current"] == current["heads"] == BUILTIN_HEADS


def test_modules_lists_what_each_module_plugs_in(
    tmp_path: Path, embedded_env: dict[str, str]
) -> None:
    listing = run(["modules"], env=embedded_env, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split("│")[1].strip(): line for line in listing.stdout.splitlines() if "│" in line}
    counts = [cell.strip() for cell in rows["notes"].split("│")[2:-1]]
    # title, routes, permissions, migrations, events, workflows, toolsets
    assert counts == ["Notes (test module)", "6", "2", "1", "1", "1", "1"]
    assert {"auth", "workflows", "web", "notes"} <= set(rows)

    declared = run(["modules", "--permissions"], env=embedded_env, cwd=tmp_path).stdout
    line = next(line for line in declared.splitlines() if "notes.note:read" in line)
    assert "notes" in line and "Read notes" in line and "tenant_admin, staff" in line


@pytest.mark.parametrize(
    ("extra", "variables", "expected"),
    [
        (
            "tests.support.broken_modules:route_needs_undeclared",
            {},
            "module 'broken': route GET /api/brain/broken/secret uses 'broken.secret:read'",
        ),
        (NOTES, {"BIZOSAAS_NOTES_PAGE_SIZE": "lots"}, "BIZOSAAS_NOTES_PAGE_SIZE"),
        (
            "tests.support.broken_modules:migrations_unjoined",
            {},
            "must name the platform revision it needs",
        ),
    ],
    ids=["undeclared-permission", "bad-module-setting", "unjoined-migrations"],
)
def test_a_module_breaking_the_contract_is_one_clear_error(
    tmp_path: Path,
    embedded_env: dict[str, str],
    extra: str,
    variables: dict[str, str],
    expected: str,
) -> None:
    env = {**embedded_env, "BIZOSAAS_EXTRA_MODULES": extra, **variables}
    command = ["db", "upgrade"] if "migrations" in extra else ["serve"]
    result = run(command, env=env, cwd=tmp_path)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode in (1, 2) and "error:" in output
    assert expected in output and "Traceback" not in output


def test_settings_lists_the_modules_settings(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    env = {**embedded_env, "BIZOSAAS_NOTES_PAGE_SIZE": "12"}
    table = run(["settings"], env=env, cwd=tmp_path).stdout
    assert re.search(r"BIZOSAAS_NOTES_PAGE_SIZE\s*│\s*12\s", table), table
    reference = run(["settings", "--markdown"], env=env, cwd=tmp_path).stdout
    assert "## Module `notes`: Notes (test module)" in reference
    assert "| `BIZOSAAS_NOTES_PAGE_SIZE` | `50` |" in reference


def test_help_everywhere(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    for command in (
        ["--help"],
        ["up", "--help"],
        ["serve", "--help"],
        ["db", "--help"],
        ["demo", "seed", "--help"],
    ):
        result = run(command, env=embedded_env, cwd=tmp_path)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_a_refused_migration_is_one_clear_line_and_changes_nothing(
    tmp_path: Path, embedded_env: dict[str, str]
) -> None:
    assert run(["db", "upgrade"], env=embedded_env, cwd=tmp_path).returncode == 0
    assert run(["demo", "seed"], env=embedded_env, cwd=tmp_path).returncode == 0
    database = tmp_path / ".bizosaas" / "bizosaas.db"
    with sqlite3.connect(database) as connection:
        (user_id,) = connection.execute("SELECT id FROM users LIMIT 1").fetchone()
        # Sealed under a key this installation does not hold.
        sealed = crypto.encrypt(
            "JBSWY3DPEHPK3PXP",
            key=crypto.DataKey.generate(),
            associated_data=totp_associated_data(uuid.UUID(str(user_id))),
        )
        connection.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (sealed, user_id))

    refused = run(["db", "downgrade", "0003_mfa_challenges"], env=embedded_env, cwd=tmp_path)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1
    assert "error:" in output and "Nothing was changed" in output
    assert "Traceback" not in output and sealed not in output
    current = run(["db", "current"], env=embedded_env, cwd=tmp_path).stdout
    assert PLATFORM_HEAD in current, "not even the later migrations were stepped down"
    with sqlite3.connect(database) as connection:
        stored = connection.execute(
            "SELECT totp_secret FROM users WHERE id = ?", (user_id,)
        ).fetchone()
    assert stored == (sealed,)
