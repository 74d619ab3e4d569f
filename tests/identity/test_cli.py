"""`bizosaas tenants|users|keys`, run as real processes against the test database."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bizosaas.identity import context
from bizosaas.identity.credentials.throttle import LoginAttempt, LoginThrottle
from bizosaas.identity.exceptions import InvalidRefreshToken
from bizosaas.identity.records import audit
from bizosaas.identity.repository import accounts
from bizosaas.identity.schemas import MfaChallenge, TokenPair
from bizosaas.identity.sessions.guard import REVOKED_MARKER_PREFIX
from bizosaas.identity.sessions.password_login import authenticate_password, verify_login
from bizosaas.identity.sessions.rotation import refresh
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.settings import Settings
from tests.conftest import require
from tests.support import backends
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
async def cli_database(
    database_target: DatabaseTarget, tmp_path: Path
) -> AsyncIterator[DatabaseTarget]:
    """A database of its own: the commands commit, which the shared test database must not
    see (its other tests count rows and events)."""
    if database_target.backend == "sqlite":
        yield await backends.create_sqlite_database(str(tmp_path / "cli.db"))
        return
    admin_url = backends.postgres_admin_url()
    assert admin_url is not None
    target = await backends.create_postgres_database(admin_url)
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


@pytest.fixture
def cli_env(
    subprocess_env: dict[str, str], repo_root: Path, tmp_path: Path, cli_database: DatabaseTarget
) -> dict[str, str]:
    return {
        **subprocess_env,
        "PYTHONPATH": f"{repo_root / 'src'}:{repo_root}",
        "BIZOSAAS_DATA_DIR": str(tmp_path / "data"),
        "BIZOSAAS_DATABASE_URL": cli_database.app_url,
        "BIZOSAAS_LOG_FORMAT": "console",
    }


async def test_tenants_users_and_keys(
    cli_env: dict[str, str], cli_database: DatabaseTarget, unique: str, tmp_path: Path
) -> None:
    database_target = cli_database
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
    database = Database.from_url(database_target.app_url)
    identity = context.build(
        Settings(data_dir=tmp_path / "other", database_url=database_target.app_url)
    )
    try:
        async with database.unit_of_work() as session:
            login = await verify_login(session, identity=identity, email=email, password=password)
            assert not isinstance(login, MfaChallenge)
            assert login.tenant is not None and login.tenant.slug == slug
            assert login.role == "manager"
            admin = await accounts.user_by_email(session, email=f"root-{unique}@bizosaas.local")
            assert admin is not None and admin.is_super_admin
    finally:
        await database.dispose()

    rotated = bizosaas(cli_env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split(":")[1].strip()
    after = bizosaas(cli_env, "keys", "list").stdout.split()
    assert after[0] == new_kid and len(after) == 2  # the first key stays published


async def test_users_unlock_forgets_failed_logins_and_is_audited(
    cli_env: dict[str, str], cli_database: DatabaseTarget, unique: str
) -> None:
    redis_url = backends.redis_test_url()
    require(redis_url is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    assert redis_url is not None
    slug = f"unlock-{unique}"
    tenant = bizosaas(cli_env, "tenants", "create", "Unlock Bakery", "--slug", slug)
    assert tenant.returncode == 0, tenant.stderr
    tenant_id = uuid.UUID(tenant.stdout.split()[1])
    email = f"held-{unique}@example.com"
    assert bizosaas(cli_env, "users", "create", email, "--tenant", slug).returncode == 0

    # Without Redis the counters live in the server's memory, out of the command's reach.
    embedded = bizosaas(cli_env, "users", "unlock", email)
    assert embedded.returncode == 1
    assert "admin console" in embedded.stderr

    throttle = LoginThrottle.from_settings(Settings(redis_url=redis_url))
    for n in range(3):
        await throttle.failed(LoginAttempt(email=email), trusted=False, fingerprint=f"guess{n}")
    assert (await throttle.account_status(email=email)).failures == 3
    scaled = {**cli_env, "BIZOSAAS_REDIS_URL": redis_url}
    unlocked = bizosaas(scaled, "users", "unlock", email.upper())
    assert unlocked.returncode == 0, unlocked.stderr
    assert f"{email}\tunlocked (3 failed logins forgotten)" in unlocked.stdout.splitlines()
    assert (await throttle.account_status(email=email)).failures == 0
    unknown = bizosaas(scaled, "users", "unlock", f"nobody-{unique}@example.com")
    assert unknown.returncode == 1 and "no account" in unknown.stderr

    database = Database.from_url(cli_database.app_url)
    try:
        async with database.unit_of_work() as session:
            events = await audit.list_audit_events(
                session, scope=trusted_scope(tenant_id), action="login.unlocked"
            )
    finally:
        await database.dispose()
    assert [(e.actor_id, e.details) for e in events] == [(None, {"failures_cleared": 3})]


async def test_users_logout_ends_every_session_everywhere(
    cli_env: dict[str, str], cli_database: DatabaseTarget, unique: str, tmp_path: Path
) -> None:
    """Scaled mode: the command marks the revocation in Redis as the API does, so a session's
    refresh token (kept in Redis) stops working at once in every gateway."""
    redis_url = backends.redis_test_url() if cli_database.backend == "postgres" else None
    slug = f"logout-{unique}"
    assert bizosaas(cli_env, "tenants", "create", "Logout Ltd", "--slug", slug).returncode == 0
    email = f"leaving-{unique}@example.com"
    password = "a long and private passphrase"
    created = bizosaas(cli_env, "users", "create", email, "--tenant", slug, "--password", password)
    assert created.returncode == 0, created.stderr

    settings = Settings(
        data_dir=tmp_path / "data", database_url=cli_database.app_url, redis_url=redis_url
    )
    database = Database.from_url(cli_database.app_url)
    redis = Redis.from_url(redis_url) if redis_url else None
    identity = context.build(settings, database=database, redis=redis)
    try:
        pairs = []
        for _ in range(2):
            async with database.unit_of_work() as session:
                pair = await authenticate_password(
                    session, identity=identity, email=email, password=password, tenant_slug=slug
                )
            assert isinstance(pair, TokenPair)
            pairs.append(pair)

        env = {**cli_env, **({"BIZOSAAS_REDIS_URL": redis_url} if redis_url else {})}
        ended = bizosaas(env, "users", "logout", email)
        assert ended.returncode == 0, ended.stderr
        assert f"{email}\t2 sessions ended" in ended.stdout.splitlines()
        if redis is not None:
            for pair in pairs:
                assert await redis.exists(REVOKED_MARKER_PREFIX + str(pair.session_id))
        for pair in pairs:
            with pytest.raises(InvalidRefreshToken):
                async with database.unit_of_work() as session:
                    await refresh(session, identity=identity, refresh_token=pair.refresh_token)
        unknown = bizosaas(env, "users", "logout", f"nobody-{unique}@example.com")
        assert unknown.returncode == 1 and "no account" in unknown.stderr
    finally:
        await database.dispose()
        if redis is not None:
            await redis.aclose()
