"""Platform key-value facts (for example, when demo data was first seeded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, utcnow


class PlatformFact(Base):
    __tablename__ = "platform_facts"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


async def get_fact(session: AsyncSession, key: str) -> str | None:
    fact = await session.get(PlatformFact, key)
    return fact.value if fact else None


async def set_fact(session: AsyncSession, key: str, value: str) -> None:
    fact = await session.get(PlatformFact, key)
    if fact is None:
        session.add(PlatformFact(key=key, value=value))
    else:
        fact.value = value
