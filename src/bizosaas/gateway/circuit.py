"""A circuit breaker per upstream instance: closed -> open -> half-open -> closed.

Closed: requests flow; consecutive failures are counted. At the threshold the circuit opens:
the instance gets no traffic and callers answer 503 at once instead of waiting on a dead host.
After `open_seconds` it turns half-open and lets one trial request through; success closes it,
failure opens it again. An active health check that succeeds closes it directly, so an
instance that comes back is used again without waiting for a client to risk a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class CircuitState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


StateListener = Callable[[CircuitState], None]


class CircuitBreaker:
    __slots__ = (
        "_clock",
        "_listener",
        "_opened_at",
        "_state",
        "_trial_in_flight",
        "failure_threshold",
        "failures",
        "open_seconds",
    )

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        open_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        listener: StateListener | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.failures = 0
        self._clock = clock
        self._state = CircuitState.closed
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._listener = listener

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.open
            and self._clock() - self._opened_at >= self.open_seconds
        ):
            self._set(CircuitState.half_open)
        return self._state

    def allows(self) -> bool:
        """Whether a request may go to this instance now (half-open: one trial at a time)."""
        state = self.state
        if state is CircuitState.closed:
            return True
        if state is CircuitState.half_open:
            return not self._trial_in_flight
        return False

    def acquire(self) -> None:
        """Note that a request was sent (a half-open circuit's trial)."""
        if self._state is CircuitState.half_open:
            self._trial_in_flight = True

    def record_success(self) -> None:
        self.failures = 0
        self._trial_in_flight = False
        if self._state is not CircuitState.closed:
            self._set(CircuitState.closed)

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_in_flight = False
        if self._state is CircuitState.half_open or self.failures >= self.failure_threshold:
            self.trip()

    def trip(self) -> None:
        self._opened_at = self._clock()
        if self._state is not CircuitState.open:
            self._set(CircuitState.open)

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if self._listener is not None:
            self._listener(state)
