"""Background task helpers shared by the long-running loops (relay, event bus, gateway)."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel a background loop and wait until it has finished unwinding."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
