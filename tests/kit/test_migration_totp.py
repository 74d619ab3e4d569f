"""Migration 0004 (sealed TOTP secrets): its downgrade opens the secrets again with the
data-encryption key from the settings, or stops and changes nothing when they do not open."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import text

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials import totp as mfa
from bizosaas.identity.models import User
from bizosaas.kit import crypto, migrate
from bizosaas.kit.crypto import DataKey
from bizosaas.kit.db import Database
from bizosaas.settings import load_settings
from tests.support.backends import MODULES, DatabaseTarget

BEFORE = "0003_mfa_challenges"
SEALING = "0004_encrypt_totp"


def _key_text() -> str:
    return base64.b64encode(DataKey.generate().secret).decode("ascii")


def _identity() -> IdentityContext:
    """The identity context built from the environment's settings, as a process would."""
    return context.build(load_settings())


async def _user_with_totp(
    target: DatabaseTarget, identity: IdentityContext
) -> tuple[uuid.UUID, str]:
    """A user enrolled through the identity code: answers their id and plain secret."""
    database = Database.from_url(target.owner_url)
    try:
        async with database.unit_of_work() as session:
            user = User(email=f"{uuid.uuid4().hex[:10]}@example.com")
            session.add(user)
            await session.flush()
            enrolment = await mfa.enrol_totp(session, identity=identity, user_id=user.id)
        return user.id, enrolment.secret
    finally:
        await database.dispose()


async def _stored_secret(target: DatabaseTarget, user_id: uuid.UUID) -> str | None:
    database = Database.from_url(target.owner_url)
    try:
        async with database.unit_of_work() as session:
            user = await session.get(User, user_id)
            assert user is not None
            return user.totp_secret
    finally:
        await database.dispose()


async def _column_width(target: DatabaseTarget) -> int | None:
    database = Database.from_url(target.owner_url)
    try:
        async with database.unit_of_work() as session:
            width = await session.scalar(
                text(
                    "SELECT character_maximum_length FROM information_schema.columns "
                    "WHERE table_name = 'users' AND column_name = 'totp_secret'"
                )
            )
            return int(width) if width is not None else None
    finally:
        await database.dispose()


@pytest.mark.parametrize("key_source", ["setting", "data dir"])
async def test_a_downgrade_opens_sealed_secrets_and_the_identity_code_reads_them_after_upgrade(
    fresh_target: DatabaseTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_source: str
) -> None:
    monkeypatch.setenv("BIZOSAAS_DATA_DIR", str(tmp_path / "data"))
    if key_source == "setting":
        monkeypatch.setenv("BIZOSAAS_DATA_ENCRYPTION_KEY", _key_text())
    else:
        monkeypatch.delenv("BIZOSAAS_DATA_ENCRYPTION_KEY", raising=False)
    url = fresh_target.owner_url
    user_id, secret = await _user_with_totp(fresh_target, _identity())
    sealed = await _stored_secret(fresh_target, user_id)
    assert sealed is not None and crypto.is_sealed(sealed) and secret not in sealed
    assert len(sealed) > 64, "the sealed value needs the wider column"

    await asyncio.to_thread(migrate.downgrade, url, BEFORE, modules=MODULES)
    assert BEFORE in await asyncio.to_thread(migrate.current_revisions, url)
    assert await _stored_secret(fresh_target, user_id) == secret
    if fresh_target.backend == "postgres":
        assert await _column_width(fresh_target) == 64

    await asyncio.to_thread(migrate.upgrade, url, modules=MODULES)
    assert set(await asyncio.to_thread(migrate.current_revisions, url)) == set(
        migrate.head_revisions(MODULES)
    )
    database = Database.from_url(url)
    try:
        data_keys = _identity().data_keys
        async with database.unit_of_work() as session:
            user = await session.get(User, user_id)
            assert user is not None
            code = pyotp.TOTP(secret).now()
            assert (
                await mfa.verify_second_factor(session, data_keys=data_keys, user=user, code=code)
                == "totp"
            )
    finally:
        await database.dispose()
    resealed = await _stored_secret(fresh_target, user_id)
    assert resealed is not None and crypto.is_sealed(resealed) and secret not in resealed


@pytest.mark.parametrize("downgrade_keys", ["another key", "one of the two keys", "no key"])
async def test_a_downgrade_without_the_sealing_key_stops_and_changes_nothing(
    fresh_target: DatabaseTarget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    downgrade_keys: str,
) -> None:
    monkeypatch.setenv("BIZOSAAS_DATA_DIR", str(tmp_path / "data"))
    first_key, second_key = _key_text(), _key_text()
    users: dict[uuid.UUID, str | None] = {}
    for key in (first_key, second_key):
        monkeypatch.setenv("BIZOSAAS_DATA_ENCRYPTION_KEY", key)
        user_id, _secret = await _user_with_totp(fresh_target, _identity())
        users[user_id] = await _stored_secret(fresh_target, user_id)
    assert all(sealed is not None and crypto.is_sealed(sealed) for sealed in users.values())

    empty_data_dir = tmp_path / "elsewhere"
    if downgrade_keys == "another key":
        monkeypatch.setenv("BIZOSAAS_DATA_ENCRYPTION_KEY", _key_text())
    elif downgrade_keys == "one of the two keys":
        # The first user's secret opens; the downgrade still must not write it back alone.
        monkeypatch.setenv("BIZOSAAS_DATA_ENCRYPTION_KEY", first_key)
    else:
        monkeypatch.setenv("BIZOSAAS_DATA_DIR", str(empty_data_dir))
        monkeypatch.delenv("BIZOSAAS_DATA_ENCRYPTION_KEY")
    url = fresh_target.owner_url
    # Later migrations step down first (on SQLite each step commits on its own).
    await asyncio.to_thread(migrate.downgrade, url, SEALING, modules=MODULES)
    with pytest.raises(RuntimeError, match="cannot downgrade below 0004_encrypt_totp") as failure:
        await asyncio.to_thread(migrate.downgrade, url, BEFORE, modules=MODULES)
    message = str(failure.value)
    assert "BIZOSAAS_DATA_ENCRYPTION_KEY" in message and "Nothing was changed" in message
    if downgrade_keys == "no key":
        assert f"{empty_data_dir / 'keys'} holds none" in message
    else:
        failing = list(users)[1:] if downgrade_keys == "one of the two keys" else list(users)
        assert f"{len(failing)} TOTP secret(s)" in message
        assert all(f"user {user_id}" in message for user_id in failing)
    assert not any(sealed in message for sealed in users.values() if sealed)

    assert SEALING in await asyncio.to_thread(migrate.current_revisions, url)
    for user_id, sealed in users.items():
        assert await _stored_secret(fresh_target, user_id) == sealed
    if fresh_target.backend == "postgres":
        assert await _column_width(fresh_target) == 255
    assert not (empty_data_dir / "keys").exists(), "a failed downgrade writes no key"
