"""Refresh-token rotation under any sequence of uses, replays and logouts.

Each example signs a fresh account in twice: the registration's session only watches (it lists
the live sessions), the second login is the token family the generated steps work on. After
every step the API must agree with a small model of rotation:

* a refresh token works at most once;
* replaying a used token ends the whole family: its newest refresh token and its access
  tokens stop working too;
* refreshing never adds a session, and an ended family never comes back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.identity.conftest import API, Account, Register, bearer, login

Step = tuple[Literal["refresh", "replay", "logout"], int]
# Refreshing is what clients do most; replays and logouts are the events rotation guards.
steps = st.lists(
    st.tuples(st.sampled_from(["refresh", "refresh", "replay", "logout"]), st.integers(0, 99)),
    min_size=1,
    max_size=7,
)

ENDED = {"identity.invalid_refresh_token", "identity.refresh_token_reused"}


@dataclass
class Family:
    """What the model expects of the session the steps work on."""

    refresh_tokens: list[str]
    access_token: str
    alive: bool = True
    successes: Counter[str] = field(default_factory=Counter)

    @property
    def newest(self) -> str:
        return self.refresh_tokens[-1]

    @property
    def used(self) -> list[str]:
        return self.refresh_tokens[:-1]


async def live_sessions(client: httpx.AsyncClient, watcher: Account) -> int:
    response = await client.get(f"{API}/sessions", headers=watcher.headers)
    assert response.status_code == 200, response.text
    return len(response.json())


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/refresh", json={"refresh_token": token})


async def apply(client: httpx.AsyncClient, family: Family, step: Step) -> None:
    kind, pick = step
    if kind == "replay" and family.used:
        replayed = family.used[pick % len(family.used)]
        answer = await refresh(client, replayed)
        assert answer.status_code == 401, answer.text
        if family.alive:
            assert answer.json()["code"] == "identity.refresh_token_reused"
        else:
            assert answer.json()["code"] in ENDED
        family.alive = False
    elif kind == "logout":
        answer = await client.post(f"{API}/logout", headers=bearer(family.access_token))
        assert answer.status_code == (204 if family.alive else 401), answer.text
        family.alive = False
    else:
        answer = await refresh(client, family.newest)
        if family.alive:
            assert answer.status_code == 200, answer.text
            pair = answer.json()
            family.successes[family.newest] += 1
            family.refresh_tokens.append(pair["refresh_token"])
            family.access_token = pair["access_token"]
        else:
            assert answer.status_code == 401, "an ended family's newest token fails too"
            assert answer.json()["code"] in ENDED


# The app and its client are shared by the examples (they keep no state between requests
# apart from the rows each example creates); every example registers an account of its own.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
async def test_rotation_model_holds_for_any_sequence(
    client: httpx.AsyncClient, register: Register, steps: list[Step]
) -> None:
    watcher = await register()
    signed_in = await login(client, watcher.email)
    assert signed_in.status_code == 200, signed_in.text
    pair = signed_in.json()
    family = Family(refresh_tokens=[pair["refresh_token"]], access_token=pair["access_token"])
    assert await live_sessions(client, watcher) == 2

    for step in steps:
        await apply(client, family, step)
        assert await live_sessions(client, watcher) == (2 if family.alive else 1)
        me = await client.get(f"{API}/me", headers=bearer(family.access_token))
        assert me.status_code == (200 if family.alive else 401), (step, me.text)

    assert all(count == 1 for count in family.successes.values()), "a token worked twice"
    # Every used token stays dead, whatever happened since.
    for token in family.used:
        assert (await refresh(client, token)).status_code == 401
    assert (await me_status(client, watcher)) == 200, "the other session is untouched"


async def me_status(client: httpx.AsyncClient, account: Account) -> int:
    return (await client.get(f"{API}/me", headers=account.headers)).status_code
