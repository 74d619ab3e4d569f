"""The authenticated request path: verified tokens remembered but never past their expiry or
their key's retirement, the session check answered without the request's database, and one
database session per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.keys import KEEP_KEYS, KeyStore
from bizosaas.identity.credentials.tokens import (
    InvalidToken,
    LocalVerifier,
    issue_access_token,
)
from bizosaas.identity.repository import auth_sessions
from bizosaas.identity.sessions.guard import SessionGuard
from bizosaas.kit.db import Database
from bizosaas.kit.jwks import LEEWAY_SECONDS
from bizosaas.kit.permissions import PermissionCatalogue
from bizosaas.settings import Settings
from tests.identity.conftest import API, Account, Register
from tests.support.clock import ManualClock


def _token(keys: KeyStore, account: Account, *, ttl: int) -> str:
    return issue_access_token(
        keys,
        user_id=account.user_id,
        tenant_id=account.tenant_id,
        roles=["tenant_admin"],
        session_id=account.session_id,
        super_admin=False,
        ttl=ttl,
        issuer="http://bench",
    ).token


async def test_a_remembered_token_is_refused_once_it_expires(
    register: Register, settings: Settings
) -> None:
    account = await register()
    keys = KeyStore.open(settings.data_dir / "keys")
    verifier = LocalVerifier(keys, permissions=PermissionCatalogue(), issuer="http://bench")
    token = _token(keys, account, ttl=1)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # remembered: not verified again
    # Wait (not a timing assertion) until the token is past its expiry and the leeway.
    await asyncio.sleep(1 + LEEWAY_SECONDS + 1.1)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


async def test_a_remembered_token_is_not_served_past_its_expiry(
    register: Register, settings: Settings
) -> None:
    account = await register()
    keys = KeyStore.open(settings.data_dir / "keys")
    clock = ManualClock(time.time())
    verifier = LocalVerifier(
        keys, permissions=PermissionCatalogue(), issuer="http://bench", clock=clock
    )
    token = _token(keys, account, ttl=60)
    first = verifier.verify(token)
    assert verifier.verify(token) is first
    clock.advance(61)
    # Past `exp` by the verifier's clock the memory is not used: the token is verified afresh
    # (here still valid by the signature's own clock, so a new principal comes back).
    assert verifier.verify(token) is not first


async def test_a_remembered_token_is_refused_once_its_key_is_retired(
    register: Register, settings: Settings
) -> None:
    account = await register()
    keys = KeyStore(settings.data_dir / "keys", reload_interval=0)
    keys.reload()
    verifier = LocalVerifier(keys, permissions=PermissionCatalogue(), issuer="http://bench")
    token = _token(keys, account, ttl=300)
    assert verifier.verify(token).subject == account.user_id
    # Another process rotates the keys until the one that signed the token is pruned.
    rotating = KeyStore.open(settings.data_dir / "keys")
    for _ in range(KEEP_KEYS):
        rotating.rotate()
    with pytest.raises(InvalidToken, match="unknown key"):
        verifier.verify(token)


async def test_the_request_path_remembers_tokens_and_still_refuses_revoked_sessions(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    for _ in range(3):
        assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 200
    assert (await client.post(f"{API}/logout", headers=account.headers)).status_code == 204
    response = await client.get(f"{API}/me", headers=account.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "identity.session_revoked"


# -- the embedded session guard: the set of ended sessions, read once per interval ------------


async def test_embedded_guard_sees_another_processs_revocation_within_its_interval(
    register: Register, database: Database
) -> None:
    account = await register()
    clock = ManualClock()
    guard = SessionGuard(
        database=database, redis=None, interval=0.5, marker_ttl=60, window=400, clock=clock
    )
    assert await guard.is_active(account.session_id)
    # Another process revokes the session: only the database row changes.
    async with database.unit_of_work() as session:
        revoked = await auth_sessions.revoke_live_sessions(
            session, user_id=account.user_id, reason="test"
        )
    assert revoked == [account.session_id]
    clock.advance(0.4)
    assert await guard.is_active(account.session_id)  # within the interval: as last read
    clock.advance(0.1)
    assert not await guard.is_active(account.session_id)  # the interval is up: read again


async def test_embedded_guard_reads_once_for_many_concurrent_checks(
    register: Register, database: Database
) -> None:
    account = await register()
    reads: list[object] = []

    def count(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
        reads.append(session)

    guard = SessionGuard(
        database=database, redis=None, interval=0.5, marker_ttl=60, window=400, clock=ManualClock()
    )
    event.listen(Session, "after_begin", count)
    try:
        answers = await asyncio.gather(*(guard.is_active(account.session_id) for _ in range(50)))
    finally:
        event.remove(Session, "after_begin", count)
    assert all(answers)
    assert len(reads) == 1


# -- one database session per request --------------------------------------------------------


@pytest.fixture
def sessions_opened() -> Iterator[list[Session]]:
    opened: list[Session] = []

    def record(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
        if session not in opened:
            opened.append(session)

    event.listen(Session, "after_begin", record)
    yield opened
    event.remove(Session, "after_begin", record)


async def test_me_opens_one_read_only_session(
    client: httpx.AsyncClient,
    register: Register,
    identity_context: IdentityContext,
    database: Database,
    sessions_opened: list[Session],
) -> None:
    account = await register()
    if identity_context.redis is None:
        # Embedded mode: the guard reads the ended sessions once per interval, for the whole
        # process; a clock that stands still keeps that read out of the requests counted here.
        identity_context.guard = SessionGuard(
            database=database,
            redis=None,
            interval=0.5,
            marker_ttl=60,
            window=400,
            clock=ManualClock(),
        )
    assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 200
    sessions_opened.clear()
    for _ in range(3):
        response = await client.get(f"{API}/me", headers=account.headers)
        assert response.status_code == 200
        assert response.json()["user"]["id"] == str(account.user_id)
    assert len(sessions_opened) == 3
    assert all(session.info.get("bizosaas.read_only") for session in sessions_opened)


async def test_a_write_route_opens_one_writing_session(
    client: httpx.AsyncClient,
    register: Register,
    app: FastAPI,
    sessions_opened: list[Session],
) -> None:
    account = await register()
    assert (await client.get(f"{API}/me", headers=account.headers)).status_code == 200
    sessions_opened.clear()
    created = await client.post(
        f"{API}/api-keys",
        json={"name": "one session", "permissions": ["identity.member:read"]},
        headers=account.headers,
    )
    assert created.status_code == 201, created.text
    writers = [s for s in sessions_opened if not s.info.get("bizosaas.read_only")]
    assert len(writers) == 1
    assert writers[0].info.get("bizosaas.tenant_id") == account.tenant_id
