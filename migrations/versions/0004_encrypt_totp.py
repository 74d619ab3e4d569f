"""Identity: room for encrypted TOTP secrets.

TOTP secrets are now sealed with the data-encryption key (AES-GCM, kit/crypto.py), which is
longer than the plain base32 text. The key lives outside the database (a setting or the data
directory), so this migration only widens the column; a secret still in plain text is
encrypted by the identity module at its next start (see identity/mfa.py).

Revision ID: 0004_encrypt_totp
Revises: 0003_mfa_challenges
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_encrypt_totp"
down_revision: str | None = "0003_mfa_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths, and rebuilding `users` there would touch every
    # table that references it: only PostgreSQL needs the wider type.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "users",
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "users",
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
