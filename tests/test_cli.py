"""The `bizosaas` command, run as a real process."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from bizosaas.identity.credentials.totp import totp_associated_data
from bizosaas.kit import crypto
from tests.support import processes

NOTES = "tests.support.notes:module"


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


def _create_notes_table(cwd: Path, env: dict[str, str]) -> None:
    """The test module's table is not in the migration tree: create it after migrating."""
    assert run(["db", "upgrade"], env=env, cwd=cwd).returncode == 0
    with sqlite3.connect(cwd / ".bizosaas" / "bizosaas.db") as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS test_notes (id CHAR(32) PRIMARY KEY, "
            "tenant_id CHAR(32) NOT NULL, body VARCHAR(500) NOT NULL)"
        )


@pytest.mark.slow
def test_up_serves_seeds_once_and_reuses_data(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    _create_notes_table(tmp_path, embedded_env)
    for attempt in (1, 2):
        port = processes.free_port()
        server = processes.start(
            ["up", "--port", str(port)], env=embedded_env, cwd=tmp_path, log_name=f"up{attempt}.log"
        )
        try:
            processes.wait_healthy(f"http://127.0.0.1:{port}", server)
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


def test_db_upgrade_current_downgrade(tmp_path: Path, embedded_env: dict[str, str]) -> None:
    assert "(empty database)" in run(["db", "current"], env=embedded_env, cwd=tmp_path).stdout
    assert run(["db", "upgrade"], env=embedded_env, cwd=tmp_path).returncode == 0
    current = run(["db", "current"], env=embedded_env, cwd=tmp_path).stdout
    lines = dict(line.split(":", 1) for line in current.strip().splitlines()[:2])
    assert lines["current"].strip() == lines["head"].strip() != "None"
    assert run(["db", "downgrade", "base"], env=embedded_env, cwd=tmp_path).returncode == 0
    assert "(empty database)" in run(["db", "current"], env=embedded_env, cwd=tmp_path).stdout


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
    _create_notes_table(tmp_path, embedded_env)
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
    assert "0004_encrypt_totp" in current
    with sqlite3.connect(database) as connection:
        stored = connection.execute(
            "SELECT totp_secret FROM users WHERE id = ?", (user_id,)
        ).fetchone()
    assert stored == (sealed,)
