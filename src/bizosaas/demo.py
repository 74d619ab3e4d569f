"""Demo data: every module's seed hook, run once on first start and by `bizosaas demo seed`."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bizosaas.kit.db import Database
from bizosaas.kit.meta import get_fact, set_fact
from bizosaas.kit.module import SeedContext
from bizosaas.modules import enabled_modules
from bizosaas.settings import Settings

SEEDED_FACT = "demo_seeded_at"
CREDENTIALS_FILE = "demo-credentials.txt"


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / CREDENTIALS_FILE


async def is_seeded(database: Database) -> bool:
    async with database.unit_of_work() as session:
        return await get_fact(session, SEEDED_FACT) is not None


async def seed_demo(database: Database, settings: Settings, say: Callable[[str], None]) -> int:
    """Run every enabled module's seeder, each in its own transaction, in module order;
    returns how many ran.

    A transaction per module, because a seeder may bind its session to the tenant it seeds
    (a session serves one tenant), and a later module builds on what an earlier one committed
    (commerce stocks the tenant identity created). Seeders are idempotent, so running this
    again, or after a seeder failed half way, creates nothing twice. Demo logins the seeders
    report are written to `<data dir>/demo-credentials.txt` (mode 0600).
    """
    modules = [m for m in enabled_modules(settings) if m.seed is not None]
    credentials: list[tuple[str, str, str]] = []
    for module in modules:
        assert module.seed is not None
        say(f"seeding {module.name}")
        async with database.unit_of_work() as session:
            context = SeedContext(
                session=session, settings=settings, say=say, credentials=credentials
            )
            await module.seed(context)
    async with database.unit_of_work() as session:
        await set_fact(session, SEEDED_FACT, datetime.now(UTC).isoformat())
    if credentials:
        # Seeders report only the logins they created now: keep the earlier ones too.
        merged = {
            login: (who, login, password) for who, login, password in read_credentials(settings)
        }
        merged.update({login: (who, login, password) for who, login, password in credentials})
        _write_credentials(credentials_path(settings), list(merged.values()))
    return len(modules)


def _write_credentials(path: Path, credentials: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for who, login, password in credentials:
            handle.write(f"{who}\t{login}\t{password}\n")


def read_credentials(settings: Settings) -> list[tuple[str, str, str]]:
    path = credentials_path(settings)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            rows.append((parts[0], parts[1], parts[2]))
    return rows
