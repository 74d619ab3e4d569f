"""Access tokens verify with nothing but the JWKS document."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
from fastapi import FastAPI

from bizosaas.identity.credentials.keys import KeyStore
from bizosaas.identity.credentials.tokens import issue_access_token
from bizosaas.kit.jwks import InvalidToken, JwksVerifier
from bizosaas.settings import Settings
from tests.identity.conftest import API, Register


async def _jwks(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == (await client.get(f"{API}/.well-known/jwks.json")).json()
    return dict(response.json())


async def test_plain_pyjwt_verifies_with_the_jwks_only(
    client: httpx.AsyncClient, register: Register
) -> None:
    account = await register()
    document = await _jwks(client)
    key_set = jwt.PyJWKSet.from_dict(document)
    kid = jwt.get_unverified_header(account.access_token)["kid"]
    key = next(k for k in key_set.keys if k.key_id == kid)
    claims = jwt.decode(account.access_token, key.key, algorithms=["EdDSA"], audience="bizosaas")
    assert claims["sub"] == str(account.user_id)
    assert claims["tid"] == str(account.tenant_id)
    assert claims["sid"] == str(account.session_id)
    assert claims["roles"] == ["tenant_admin"]
    assert all("d" not in jwk for jwk in document["keys"])


async def test_tampered_token_is_refused(
    client: httpx.AsyncClient, register: Register, app: FastAPI
) -> None:
    account = await register()
    header, payload, signature = account.access_token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["super_admin"]
    claims["sa"] = True
    forged_payload = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["code"] == "identity.invalid_credential"

    verifier = JwksVerifier(
        url="memory", permissions=app.state.permissions, fetch=lambda: _jwks(client)
    )
    with pytest.raises(InvalidToken):
        await verifier.verify(forged)
    assert (await verifier.verify(account.access_token)).subject == account.user_id


async def test_expired_token_is_refused(
    client: httpx.AsyncClient, register: Register, settings: Settings
) -> None:
    account = await register()
    keys = KeyStore.open(settings.data_dir / "keys")
    expired = issue_access_token(
        keys,
        user_id=account.user_id,
        tenant_id=account.tenant_id,
        roles=["tenant_admin"],
        session_id=account.session_id,
        super_admin=False,
        ttl=-60,
        issuer=settings.base_url,
    )
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {expired.token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_token_signed_by_a_foreign_key_is_refused(
    client: httpx.AsyncClient, register: Register, tmp_path: Path
) -> None:
    account = await register()
    rogue = KeyStore.open(tmp_path / "rogue")
    token = issue_access_token(
        rogue,
        user_id=account.user_id,
        tenant_id=account.tenant_id,
        roles=["tenant_admin"],
        session_id=account.session_id,
        super_admin=True,
        ttl=300,
        issuer="http://127.0.0.1:8001",
    )
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token.token}"})
    assert response.status_code == 401
    # A hand-made token with another algorithm ("none") is refused too.
    unsigned = jwt.encode(
        {"sub": str(uuid.uuid4()), "sid": str(uuid.uuid4()), "exp": int(time.time()) + 60},
        key=None,
        algorithm="none",
    )
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


async def test_rotation_keeps_old_tokens_valid_and_publishes_new_key(
    client: httpx.AsyncClient, register: Register, settings: Settings, app: FastAPI
) -> None:
    account = await register()
    before = await _jwks(client)
    app.state.identity.keys.reload_interval = 0  # the gateway looks at the directory each time
    KeyStore.open(settings.data_dir / "keys").rotate()  # what `bizosaas keys rotate` does
    after = await client.get(f"{API}/me", headers=account.headers)
    assert after.status_code == 200  # tokens signed by the old key still verify
    fresh = await register()
    new_kid = jwt.get_unverified_header(fresh.access_token)["kid"]
    old_kid = jwt.get_unverified_header(account.access_token)["kid"]
    assert new_kid != old_kid
    published = {k["kid"] for k in (await _jwks(client))["keys"]}
    assert {new_kid, old_kid} <= published
    assert len(published) == len(before["keys"]) + 1
