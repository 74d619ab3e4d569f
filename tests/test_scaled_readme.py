"""The README's scaled-mode quick start works as written: its shell block is read from the
README and run, command by command, against a fresh PostgreSQL database and the test Redis.
Only the database and Redis addresses and the port are substituted; then the gateway it
started answers its health check and the administrator it created signs in."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import require
from tests.gateway.support import base_env
from tests.support import backends
from tests.support.processes import BIZOSAAS, free_port, start, stop, wait_healthy

README_OWNER_URL = "postgresql://bizosaas_owner@db:5432/bizosaas"
README_DATABASE = "@db:5432/bizosaas"
README_REDIS_URL = "redis://redis:6379/0"
README_PORT = "--port 8001"
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def scaled_quick_start(readme: str) -> list[str]:
    """The commands of the `sh` block of "## Running scaled" that starts the server."""
    section = readme.split("## Running scaled", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    serving = [block for block in blocks if "bizosaas serve" in block]
    assert len(serving) == 1, "one shell block starts the server"
    return [line.strip() for line in serving[0].splitlines() if line.strip()]


def expand(text: str, env: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda match: env[match.group(1) or match.group(2)], text)


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[backends.DatabaseTarget]:
    admin_url = backends.postgres_admin_url()
    require(admin_url is not None, "PostgreSQL (BIZOSAAS_TEST_POSTGRES_URL)")
    require(backends.redis_test_url() is not None, "Redis (BIZOSAAS_TEST_REDIS_URL)")
    assert admin_url is not None
    target = await backends.create_empty_postgres_database(admin_url)
    try:
        yield target
    finally:
        await backends.drop_postgres_database(admin_url, target)


def test_readme_scaled_steps_run_as_written(
    fresh_postgres: backends.DatabaseTarget, repo_root: Path, tmp_path: Path
) -> None:
    owner = make_url(fresh_postgres.owner_url).set(drivername="postgresql")
    port = free_port()
    redis_url = backends.redis_test_url()
    assert redis_url is not None
    commands = scaled_quick_start((repo_root / "README.md").read_text(encoding="utf-8"))
    script = [
        line.replace(README_OWNER_URL, owner.render_as_string(hide_password=False))
        .replace(README_DATABASE, f"@{owner.host}:{owner.port or 5432}/{owner.database}")
        .replace(README_REDIS_URL, redis_url)
        .replace(README_PORT, f"--port {port}")
        for line in commands
    ]
    assert script[-1].startswith("bizosaas serve"), "the block ends by starting the server"
    env = base_env(repo_root)
    server = None
    try:
        for line in script:
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                env[name] = expand(value, env)
                continue
            args = [expand(arg, env) for arg in shlex.split(line)]
            assert args[0] == "bizosaas", line
            if args[1] == "serve":
                server = start(args[1:], env=env, cwd=tmp_path)
                continue
            ran = subprocess.run(
                [BIZOSAAS, *args[1:]], env=env, cwd=tmp_path, capture_output=True, check=False
            )
            assert ran.returncode == 0, f"{line}\n{ran.stdout.decode()}{ran.stderr.decode()}"
        assert server is not None
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, server)
        health = httpx.get(f"{base_url}/api/brain/health", timeout=10)
        login = httpx.post(
            f"{base_url}/api/brain/auth/login",
            json={"email": "admin@example.com", "password": env["ADMIN_PASSWORD"]},
            timeout=30,
        )
    finally:
        if server is not None:
            stop(server)
    assert health.json()["status"] == "ok"
    assert health.json()["components"]["database"]["status"] == "ok"
    assert health.json()["components"]["redis"]["status"] == "ok"
    assert login.status_code == 200, login.text
    assert login.json()["access_token"]
    # The application connects as the role the README made, not as the table owner.
    assert make_url(env["BIZOSAAS_DATABASE_URL"]).username == "bizosaas_app"
