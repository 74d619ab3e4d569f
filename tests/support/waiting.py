"""Waiting on a condition instead of sleeping for a guessed time.

The deadline is generous on purpose: it only fails a test that is genuinely stuck, never one
running on a slow or busy machine. Nothing here asserts how fast something happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

PATIENCE = 30.0
"""Seconds before a wait gives up: far beyond anything a healthy run needs."""


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    within: float = PATIENCE,
    every: float = 0.02,
    what: str = "the condition",
) -> T:
    """Call `probe` until `until(result)` holds; returns that result."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {within:g}s; last: {result!r}")
        await asyncio.sleep(every)


async def wait_until(
    condition: Callable[[], bool],
    *,
    within: float = PATIENCE,
    every: float = 0.01,
    what: str = "the condition",
) -> None:
    """Wait (yielding to the event loop) until `condition()` holds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {within:g}s")
        await asyncio.sleep(every)
