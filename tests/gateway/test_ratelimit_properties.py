"""The gateway's rate-limit windows, for any sequence of requests in time.

The limiter is driven through its ASGI middleware on a hand-moved clock. The `limits` memory
storage dates its windows with `time.time()` of its own module, so that one name is pointed at
the same clock for the duration of an example; nothing of BizOSaaS is replaced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

import limits.aio.storage.memory
from hypothesis import example, given, settings
from hypothesis import strategies as st
from limits.aio.storage import MemoryStorage
from starlette.types import Message, Receive, Scope, Send

from bizosaas.gateway.config import RateLimitRule
from bizosaas.gateway.ratelimit import RateLimiter, RateLimitMiddleware
from tests.support.clock import ManualClock

CLIENTS = ("198.51.100.1", "198.51.100.2")


@dataclass(frozen=True)
class Answer:
    at: float
    client: str
    status: int
    headers: dict[str, str]


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def call(middleware: RateLimitMiddleware, client: str) -> tuple[int, dict[str, str]]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/brain/svc/items",
        "headers": [],
        "client": (client, 40000),
    }
    await middleware(scope, no_body, send)
    start = sent[0]
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers


@contextlib.contextmanager
def storage_clock(clock: ManualClock) -> Iterator[None]:
    with mock.patch.object(limits.aio.storage.memory, "time", SimpleNamespace(time=clock)):
        yield


# Request times on a quarter-second grid keep the clock's arithmetic exact, so a request can
# land precisely on a window's end. Half the gaps are short, so budgets do run out.
gaps = st.one_of(st.integers(0, 2), st.integers(0, 20)).map(lambda quarters: quarters / 4)
requests = st.lists(st.tuples(gaps, st.sampled_from(CLIENTS)), min_size=1, max_size=40)


async def run(amount: int, window: int, sequence: list[tuple[float, str]]) -> list[Answer]:
    clock = ManualClock()
    with storage_clock(clock):
        limiter = RateLimiter(
            (RateLimitRule(service="svc", limit=f"{amount} per {window} second", per="ip"),),
            MemoryStorage(),
            clock=clock,
        )
        middleware = RateLimitMiddleware(ok, limiter=limiter)
        answers = []
        for gap, client in sequence:
            clock.advance(gap)
            status, headers = await call(middleware, client)
            answers.append(Answer(clock.now, client, status, headers))
    return answers


def windows(answers: list[Answer], client: str, window: int) -> list[list[Answer]]:
    """One client's requests split into fixed windows: a window opens with the first request
    after the previous one has ended and lasts `window` seconds."""
    grouped: list[list[Answer]] = []
    for answer in (a for a in answers if a.client == client):
        if not grouped or answer.at >= grouped[-1][0].at + window:
            grouped.append([])
        grouped[-1].append(answer)
    return grouped


# The edges, always tried: a request exactly at a window's end, and one just before it.
AT_THE_END = [(0.0, CLIENTS[0]), (0.0, CLIENTS[0]), (2.0, CLIENTS[0])]
JUST_BEFORE = [(0.0, CLIENTS[0]), (0.25, CLIENTS[0]), (1.5, CLIENTS[0]), (0.25, CLIENTS[0])]


@settings(max_examples=60, deadline=None)
@given(amount=st.integers(1, 5), window=st.integers(1, 4), sequence=requests)
@example(amount=1, window=2, sequence=AT_THE_END)
@example(amount=1, window=2, sequence=JUST_BEFORE)
async def test_no_window_admits_more_than_its_limit(
    amount: int, window: int, sequence: list[tuple[float, str]]
) -> None:
    answers = await run(amount, window, sequence)
    for client in CLIENTS:
        for opened in windows(answers, client, window):
            admitted = [a for a in opened if a.status == 200]
            # Each window admits its first `amount` requests and refuses the rest.
            assert [a.status for a in opened] == [200] * len(admitted) + [429] * (
                len(opened) - len(admitted)
            )
            assert len(admitted) == min(amount, len(opened))
            for used, answer in enumerate(admitted, start=1):
                assert answer.headers["ratelimit-limit"] == str(amount)
                assert answer.headers["ratelimit-remaining"] == str(amount - used)


@settings(max_examples=100, deadline=None)
@given(amount=st.integers(1, 5), window=st.integers(1, 4), sequence=requests)
@example(amount=1, window=2, sequence=AT_THE_END)
@example(amount=1, window=2, sequence=JUST_BEFORE)
async def test_a_caller_that_waits_its_retry_after_is_admitted(
    amount: int, window: int, sequence: list[tuple[float, str]]
) -> None:
    answers = await run(amount, window, sequence)
    for position, refused in enumerate(answers):
        if refused.status != 429:
            continue
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= window
        following = [a for a in answers[position + 1 :] if a.client == refused.client]
        # A caller that waits as long as it was told gets in (whatever others do meanwhile).
        if following and following[0].at >= refused.at + retry_after:
            assert following[0].status == 200, "the window had passed: the request is admitted"


def only(client: str, sequence: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """`client`'s requests of `sequence`, each at the same moment as before."""
    kept: list[tuple[float, str]] = []
    waited = 0.0
    for gap, who in sequence:
        waited += gap
        if who == client:
            kept.append((waited, who))
            waited = 0.0
    return kept


@settings(max_examples=30, deadline=None)
@given(amount=st.integers(1, 5), window=st.integers(1, 4), sequence=requests)
async def test_each_client_has_its_own_budget(
    amount: int, window: int, sequence: list[tuple[float, str]]
) -> None:
    together = await run(amount, window, sequence)
    for client in CLIENTS:
        alone = await run(amount, window, only(client, sequence))
        mine = [a.status for a in together if a.client == client]
        assert mine == [a.status for a in alone], "another client's requests changed mine"
