"""A revision that follows one nobody has.

Revision ID: broken_0002
Revises: broken_0001_lost
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "broken_0002"
down_revision: str | None = "broken_0001_lost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
