"""`bizosaas tenants|users|keys`, run as real processes against the test database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bizosaas.identity import repository, runtime
from bizosaas.identity.login import verify_login
from bizosaas.identity.schemas import MfaChallenge
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.support.backends import DatabaseTarget

pytestmark = pytest.mark.slow


def bizosaas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bizosaas", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(
    subprocess_env: dict[str, str], repo_root: Path, tmp_path: Path, database_target: DatabaseTarget
) -> dict[str, str]:
    return {
        **subprocess_env,
        "PYTHONPATH": f"{repo_root / 'src'}:{repo_root}",
        "BIZOSAAS_DATA_DIR": str(tmp_path / "data"),
        "BIZOSAAS_DATABASE_URL": database_target.app_url,
        "BIZOSAAS_LOG_FORMAT": "console",
    }


async def test_tenants_users_and_keys(
    cli_env: dict[str, str], database_target: DatabaseTarget, unique: str, tmp_path: Path
) -> None:
    slug = f"cli-{unique}"
    created = bizosaas(cli_env, "tenants", "create", "CLI Coffee", "--slug", slug)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith(slug)
    listed = bizosaas(cli_env, "tenants", "list")
    assert slug in listed.stdout

    email = f"Manager-{unique}@Example.com"
    user = bizosaas(cli_env, "users", "create", email, "--tenant", slug, "--role", "manager")
    assert user.returncode == 0, user.stderr
    password = user.stderr.split("password (shown once):")[1].split()[0]
    root = bizosaas(
        cli_env,
        "users",
        "create",
        f"root-{unique}@bizosaas.local",
        "--super-admin",
        "--password",
        "a long and private passphrase",
    )
    assert root.returncode == 0, root.stderr
    duplicate = bizosaas(cli_env, "users", "create", email.lower())
    assert duplicate.returncode == 1 and "exists" in duplicate.stderr
    missing = bizosaas(cli_env, "users", "create", f"x-{unique}@example.com", "--tenant", "nope-x")
    assert missing.returncode == 1 and "no tenant" in missing.stderr

    database = Database.from_url(database_target.app_url)
    runtime.ensure(Settings(data_dir=tmp_path / "other", database_url=database_target.app_url))
    try:
        async with database.unit_of_work() as session:
            login = await verify_login(session, email=email, password=password)
            assert not isinstance(login, MfaChallenge)
            assert login.tenant is not None and login.tenant.slug == slug
            assert login.role == "manager"
            admin = await repository.user_by_email(session, f"root-{unique}@bizosaas.local")
            assert admin is not None and admin.is_super_admin
    finally:
        await database.dispose()

    first = bizosaas(cli_env, "keys", "list").stdout.split()
    rotated = bizosaas(cli_env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split(":")[1].strip()
    after = bizosaas(cli_env, "keys", "list").stdout.split()
    assert after[0] == new_kid and set(first) < set(after)
