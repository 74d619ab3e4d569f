"""Identity: room for encrypted TOTP secrets.

TOTP secrets are now sealed with the data-encryption key (AES-GCM, kit/crypto.py), which is
longer than the plain base32 text. The key lives outside the database (a setting or the data
directory), so this migration only widens the column; a secret still in plain text is
encrypted by the identity module at its next start (see identity/mfa.py).

The downgrade opens every sealed secret again, since the older schema's code reads plain text
only: it needs the same data-encryption key as the identity module, from the same settings as
the `bizosaas` command (`BIZOSAAS_DATA_ENCRYPTION_KEY`, else `<data dir>/keys/`). When a
secret does not open, it stops before changing anything.

Revision ID: 0004_encrypt_totp
Revises: 0003_mfa_challenges
Create Date: 2026-11-23
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from bizosaas.identity.context import data_keys_for
from bizosaas.identity.credentials.totp import totp_associated_data
from bizosaas.kit import crypto
from bizosaas.kit.migrate import MigrationRefused
from bizosaas.settings import load_settings

revision: str = "0004_encrypt_totp"
down_revision: str | None = "0003_mfa_challenges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("totp_secret", sa.String()))


class SealedSecretsUnreadable(MigrationRefused):
    """The downgrade cannot open the sealed TOTP secrets, so it changes nothing."""


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
    bind = op.get_bind()
    for user_id, secret in _opened_secrets(bind).items():
        bind.execute(sa.update(_users).where(_users.c.id == user_id).values(totp_secret=secret))
    if bind.dialect.name == "postgresql":
        op.alter_column(
            "users",
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )


def _opened_secrets(bind: Connection) -> dict[uuid.UUID, str]:
    """Every sealed TOTP secret in clear, by user id; SealedSecretsUnreadable when any does not
    open (the key is missing or another one)."""
    sealed = bind.execute(
        sa.select(_users.c.id, _users.c.totp_secret).where(
            _users.c.totp_secret.like(f"{crypto.SCHEME}:%")
        )
    ).all()
    if not sealed:
        return {}
    settings = load_settings()
    try:
        keys = data_keys_for(settings, create=False)
    except (crypto.MissingDataKey, ValueError, OSError) as error:
        raise SealedSecretsUnreadable(_advice(len(sealed), str(error), settings.data_dir)) from None
    opened: dict[uuid.UUID, str] = {}
    failures: list[str] = []
    for user_id, value in sealed:
        try:
            opened[user_id] = keys.decrypt(value, associated_data=totp_associated_data(user_id))
        except crypto.DecryptionFailed as error:
            failures.append(f"user {user_id}: {error}")
    if failures:
        opened.clear()  # no secret in clear left among a traceback's locals
        shown = failures[:3]
        if len(failures) > len(shown):
            shown.append(f"{len(failures) - len(shown)} more")
        raise SealedSecretsUnreadable(_advice(len(failures), "; ".join(shown), settings.data_dir))
    return opened


def _advice(count: int, cause: str, data_dir: Path) -> str:
    return (
        f"cannot downgrade below {revision}: {count} TOTP secret(s) are sealed and do not "
        f"open ({cause}). The older schema reads plain text only, so the downgrade needs the "
        f"data-encryption key that sealed them: set BIZOSAAS_DATA_ENCRYPTION_KEY to it (several "
        f"keys, comma-separated, are all tried), or run with the BIZOSAAS_DATA_DIR whose keys/ "
        f"holds it (here: {data_dir.resolve()}), then downgrade again. Nothing was changed."
    )
