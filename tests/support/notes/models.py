"""The example module's tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin
from bizosaas.kit.tenancy import TenantOwned


class Note(IdMixin, TenantOwned, Base):
    __tablename__ = "test_notes"

    body: Mapped[str] = mapped_column(String(500))
