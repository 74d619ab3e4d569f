"""A clock the test moves by hand, for code that takes a `clock: Callable[[], float]`."""

from __future__ import annotations


class ManualClock:
    """Stands still until `advance` is called, so a test decides exactly when time passes."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.now += seconds
