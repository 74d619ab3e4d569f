"""Outlier detection on live traffic, per upstream instance, as a circuit breaker:
closed -> open (ejected) -> half-open -> closed.

Closed: requests flow; consecutive failures (connection errors, timeouts, broken responses,
502/503/504) are counted and any success resets the count. At the threshold the instance is
ejected (the circuit opens): no traffic, callers go to the other instances. The ejection
lasts `open_seconds` times the number of times the instance has been ejected (capped at
`max_open_seconds`), so an instance that keeps failing stays out longer each time, as
Envoy's `base_ejection_time` does; an instance that stays in service for its last ejection
period has that multiplier stepped back down by one. After the ejection it turns half-open
and lets one trial request through: success closes it, failure ejects it again.

Whether an ejection may happen at all is the service's call (`may_open`): outlier detection
never ejects more than the service's maximum ejection percent, so the last instance of a
service is not ejected by it. An instance that active health checks bring back from down
gets its circuit closed at once (see `Instance.record_probe`).
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
        "_closed_at",
        "_listener",
        "_opened_at",
        "_state",
        "_trial_in_flight",
        "ejections",
        "failure_threshold",
        "failures",
        "max_open_seconds",
        "may_open",
        "open_seconds",
    )

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        open_seconds: float = 5.0,
        max_open_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        listener: StateListener | None = None,
        may_open: Callable[[], bool] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.max_open_seconds = max(max_open_seconds, open_seconds)
        self.failures = 0
        self.ejections = 0
        """Times ejected, less one per ejection period spent back in service."""
        self.may_open = may_open
        self._clock = clock
        self._state = CircuitState.closed
        self._opened_at = 0.0
        self._closed_at: float | None = None
        self._trial_in_flight = False
        self._listener = listener

    @property
    def ejection_seconds(self) -> float:
        """How long the current (or last) ejection lasts."""
        return min(self.open_seconds * max(1, self.ejections), self.max_open_seconds)

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.open
            and self._clock() - self._opened_at >= self.ejection_seconds
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

    @property
    def ejected(self) -> bool:
        """Open or half-open: out of the pool as far as outlier detection is concerned."""
        return self._state is not CircuitState.closed

    def acquire(self) -> None:
        """Note that a request was sent (a half-open circuit's trial)."""
        if self._state is CircuitState.half_open:
            self._trial_in_flight = True

    def record_success(self) -> None:
        self.failures = 0
        self._trial_in_flight = False
        if self._state is not CircuitState.closed:
            self._closed_at = self._clock()
            self._set(CircuitState.closed)

    def record_failure(self) -> None:
        self.failures += 1
        self._trial_in_flight = False
        # A failed trial ejects again; a closed circuit at the threshold, if the service's
        # ejection budget allows.
        if self._state is CircuitState.half_open or (
            self._state is CircuitState.closed
            and self.failures >= self.failure_threshold
            and (self.may_open is None or self.may_open())
        ):
            self._eject()

    def _eject(self) -> None:
        now = self._clock()
        if (
            self._state is CircuitState.closed
            and self._closed_at is not None
            and now - self._closed_at >= self.ejection_seconds
        ):
            self.ejections = max(0, self.ejections - 1)
        self.ejections += 1
        self._opened_at = now
        self._set(CircuitState.open)

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if self._listener is not None:
            self._listener(state)
