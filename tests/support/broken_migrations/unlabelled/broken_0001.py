"""A first revision without the module's branch label.

Revision ID: broken_0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "broken_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0001_platform"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
